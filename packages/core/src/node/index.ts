/**
 * @loopscope/core/node — the Node.js side of core: reading snapshots, node dumps and the demo from
 * disk. Kept out of the main entry so the model itself needs no `fs` (the Grafana panel bundles
 * parts of core for the browser).
 */
export { readSnapshots, snapshotFiles } from './snapshots';
export { readNodeDumps, type ReadNodeDumpsOptions } from './nodeDumps';
export { demoSnapshotPath } from './demo';
export type { Logger, LogLevel } from './logger';
