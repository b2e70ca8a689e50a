/**
 * @loopscope/core/node — the Node.js side of core: reading snapshots and node dumps from disk (the
 * demo's files are in the `@loopscope/demo` package). Kept out of the main entry so the model itself needs no `fs` (the Grafana panel bundles
 * parts of core for the browser).
 */
export { readSnapshots, snapshotFiles } from './snapshots';
export { readNodeDumps, type ReadNodeDumpsOptions } from './nodeDumps';
export {
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_READ_TIMEOUT_SECONDS,
  formatBytes,
  inputLimits,
  MAX_INPUT_BYTES_ENV,
  READ_TIMEOUT_ENV,
  readBounded,
  readBoundedFileSync,
  type InputLimits,
} from './boundedRead';
export { describeKubeconfigLoadError, safeServer } from './kubeconfig';
export type { Logger, LogLevel } from './logger';
