import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LoopscopeError } from '../error/loopscopeError';
import type { SnapshotText } from '../kube/snapshot';
import { inputLimits, readBounded } from './boundedRead';

const SNAPSHOT_HINT = 'give the output of `kubectl get nodes,pods,services,endpointslices -A -o json`';

/**
 * The files a snapshot path stands for: the file itself, or every *.json in a directory (name
 * order). Throws INPUT_UNREADABLE naming the path when it is missing or the directory holds none.
 */
export function snapshotFiles(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new LoopscopeError('INPUT_UNREADABLE', `snapshot ${path}: ${errnoWords(err)} (${SNAPSHOT_HINT})`);
  }
  if (!isDir) return [path];
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (err) {
    throw new LoopscopeError('INPUT_UNREADABLE', `snapshot ${path}: ${errnoWords(err)}`);
  }
  const files = names
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0) throw new LoopscopeError('INPUT_UNREADABLE', `snapshot ${path}: the directory holds no *.json files`);
  return files;
}

/**
 * Reads snapshot paths (files, directories, or `-` for standard input through `readStdin`) into
 * texts for `loadCluster`. Bad content is not judged here: the loader reports it per object.
 */
export async function readSnapshots(paths: readonly string[], readStdin?: () => Promise<string>): Promise<SnapshotText[]> {
  const texts: SnapshotText[] = [];
  const limits = inputLimits();
  for (const p of paths) {
    if (p === '-') {
      if (!readStdin) throw new LoopscopeError('INPUT_UNREADABLE', 'snapshot -: standard input is not available here');
      texts.push({ name: '-', text: await readStdin() });
      continue;
    }
    // Capped and, for FIFOs, timed out (LOOPSCOPE_MAX_INPUT_BYTES, LOOPSCOPE_READ_TIMEOUT_SECONDS).
    for (const f of snapshotFiles(p)) texts.push({ name: f, text: await readBounded(f, `snapshot ${f}`, limits) });
  }
  return texts;
}

function errnoWords(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  return `cannot be read (${code ?? String(err)})`;
}
