'use strict';
// Where the bundled demo's files are. Data only: written by @loopscope/generator's buildDemoCluster
// (packages/generator/src/demo.ts), checked by its test.
const { join } = require('node:path');

/** The demo snapshot: one kubectl `List` JSON file. */
exports.demoSnapshotPath = () => join(__dirname, 'demo-cluster.json');

/** The demo's node dumps: one folder per node, named by its address (`--node-dumps`). */
exports.demoNodeDumpsPath = () => join(__dirname, 'node-dumps');
