import { readBounded, snapshotFiles } from '@loopscope/core/node';
import { parseSnapshotText, type InputProblem, type SourcedObject } from '@loopscope/core';
import type { CliIO } from '../io';
import type { Progress } from '../progress';
import { slimmed } from './slimmed';

/**
 * Reads `--snapshot` values: files, directories (every *.json inside, in name order) or `-` for
 * stdin. One file at a time: read, parsed, slimmed to the fields the model reads, then dropped, so
 * peak memory stays near the largest file. Unreadable paths are usage errors; bad content is
 * reported per object and the rest is analysed.
 */
export async function readSnapshotFiles(
  paths: string[],
  io: CliIO,
  progress: Progress,
): Promise<{ objects: SourcedObject[]; problems: InputProblem[]; names: string[] }> {
  // The listing (file, or every *.json of a directory) is core's, as the exporter's; its errors
  // (INPUT_UNREADABLE, naming the path) end the CLI with exit 2.
  const files = paths.flatMap((p) => (p === '-' ? [p] : snapshotFiles(p)));
  const objects: SourcedObject[] = [];
  const problems: InputProblem[] = [];
  for (const [i, f] of files.entries()) {
    progress.update(`reading ${f} (${i + 1}/${files.length}), ${objects.length} objects so far`);
    // Each input capped (LOOPSCOPE_MAX_INPUT_BYTES) and, for FIFOs and stdin, timed out when silent.
    const text = f === '-' ? await io.readStdin('--snapshot -') : await readBounded(f, `--snapshot ${f}`);
    for (const o of parseSnapshotText({ name: f, text }, problems)) objects.push(slimmed(o));
  }
  return { objects, problems, names: files };
}
