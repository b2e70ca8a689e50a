// Grafana panel plugin build: AMD module.js with Grafana's shared libraries external
// (as @grafana/create-plugin's .config/webpack does), plus plugin.json, img/, README, CHANGELOG.
const path = require('path');
const CopyWebpackPlugin = require('copy-webpack-plugin');
const pkg = require('./package.json');

const externals = [
  'react',
  'react-dom',
  '@grafana/data',
  '@grafana/ui',
  '@grafana/runtime',
  '@emotion/css',
  '@emotion/react',
  'lodash',
  'rxjs',
];

module.exports = (_env, argv) => ({
  mode: argv.mode ?? 'production',
  context: path.join(__dirname, 'src'),
  entry: { module: './module.ts' },
  devtool: 'source-map',
  target: 'web',
  externals,
  output: {
    path: path.join(__dirname, 'dist'),
    filename: '[name].js',
    library: { type: 'amd' },
    publicPath: 'public/plugins/loopscope-links-panel/',
    uniqueName: 'loopscope-links-panel',
    clean: true,
  },
  resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx'] },
  module: {
    rules: [
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              target: 'es2020',
              parser: { syntax: 'typescript', tsx: true },
              // classic: React.createElement only, so no dependency on Grafana sharing react/jsx-runtime
              transform: { react: { runtime: 'classic' } },
            },
          },
        },
      },
    ],
  },
  plugins: [
    new CopyWebpackPlugin({
      patterns: [
        {
          from: 'plugin.json',
          to: '.',
          transform: (content) =>
            content.toString().replace('%VERSION%', pkg.version).replace('%TODAY%', new Date().toISOString().slice(0, 10)),
        },
        { from: 'img', to: 'img' },
        // screenshot-dark.png: the browser test's artifacts/links-panel-dark.png, copied by `npm run screenshot`
        { from: '../img/screenshot-dark.png', to: 'img', noErrorOnMissing: true },
        { from: '../README.md', to: '.' },
        { from: '../CHANGELOG.md', to: '.' },
      ],
    }),
  ],
  performance: { hints: false },
});
