import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSnapshotText, type InputProblem, type SourcedObject } from '@loopscope/core';
import { UsageError, type CliIO } from '../io';
import type { Progress } from '../progress';
import { slimmed } from './slimmed';

/**
 * Reads `--snapshot` values: files, directories (every *.json inside, in name order) or `-` for
 * stdin. One file at a time: read, parsed, slimmed to the fields the model reads, then dropped, so
 * peak memory stays near the largest file. Unreadable paths are usage errors; bad content is
 * reported per object and the rest is analysed.
 */
export async function readSnapshotFiles(paths: string[], io: CliIO, progress: Progress): Promise<{ objects: SourcedObject[]; problems: InputProblem[]; names: string[] }> {
  const files: string[] = [];
  for (const p of paths) {
    if (p === '-') {
      files.push(p);
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new UsageError(`snapshot ${p}: no such file or directory (give the output of \`kubectl get nodes,pods,services,endpointslices -A -o json\`)`);
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const inside = readdirSync(p)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => join(p, f));
    if (inside.length === 0) throw new UsageError(`snapshot ${p}: the directory holds no *.json files`);
    files.push(...inside);
  }
  const objects: SourcedObject[] = [];
  const problems: InputProblem[] = [];
  for (const [i, f] of files.entries()) {
    progress.update(`reading ${f} (${i + 1}/${files.length}), ${objects.length} objects so far`);
    const text = f === '-' ? await io.readStdin() : readText(f);
    for (const o of parseSnapshotText({ name: f, text }, problems)) objects.push(slimmed(o));
  }
  return { objects, problems, names: files };
}

function readText(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_STRING_TOO_LONG') throw new UsageError(`snapshot ${f}: too large to read as one document; split it (one \`kubectl get KIND -A -o json\` per file)`);
    throw new UsageError(`snapshot ${f}: cannot be read (${code ?? String(err)})`);
  }
}
