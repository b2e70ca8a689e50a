/** Real-browser test (needs the built exporter and /usr/bin/chromium): npm run test:browser */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/browser.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
};
