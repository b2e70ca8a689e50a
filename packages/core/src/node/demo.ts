import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LoopscopeError } from '../error/loopscopeError';

/**
 * Where the demo snapshot (a small TKE IPVS cluster with the seed's case) is, for `--demo`, the
 * CLI without `--snapshot`, `npm start` and the Slack bot's console.
 */
export function demoSnapshotPath(): string {
  // From dist/node/demo.js (or src/node/demo.ts under jest) to the package's demo/ folder.
  const path = join(__dirname, '..', '..', 'demo', 'demo-cluster.json');
  if (!existsSync(path)) throw new LoopscopeError('INPUT_UNREADABLE', `the demo snapshot is not installed (looked for ${path}); give a snapshot instead`);
  return path;
}
