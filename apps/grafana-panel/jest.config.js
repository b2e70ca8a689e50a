// ESM-only packages @grafana/* pull in (as @grafana/create-plugin's jest config lists them).
const esModules = [
  'marked',
  'd3',
  'd3-[a-z-]+',
  'internmap',
  'delaunator',
  'robust-predicates',
  'ol',
  'ol-mapbox-style',
  'react-colorful',
  'rxjs',
  'uuid',
  'ini',
  'is-network-error',
  '@grafana/schema',
  'react-calendar',
  'get-user-locale',
  'memoize',
  'mimic-function',
  'yaml',
  'monaco-promql',
  '@kusto/monaco-kusto',
  'nanoid',
  '@wojtekmaj/date-utils',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/test'],
  testPathIgnorePatterns: ['/node_modules/', 'browser\\.test\\.ts$'],
  setupFiles: ['<rootDir>/test/setup.ts'],
  transform: {
    '^.+\\.(t|j)sx?$|^.+\\.mjs$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } } } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esModules.join('|')})/)`],
  moduleNameMapper: { '\\.(css|scss|sass)$': '<rootDir>/test/styleMock.js' },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
};
