import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem, loadCluster, type ClusterModel, type SnapshotText } from '@loopscope/core';
import { UsageError, type CliIO } from './io';

/** The bundled demo cluster (a TKE IPVS cluster with the seed's case). */
export function demoClusterPath(): string {
  return require.resolve('@loopscope/core/demo/demo-cluster.json');
}

/**
 * Reads `--snapshot` values: files, directories (every *.json inside, in name order) or `-` for
 * stdin. With none, the demo cluster. Unreadable paths are usage errors; bad content is reported
 * per object by the core and the rest is analysed.
 */
export async function readSnapshots(paths: string[], io: CliIO): Promise<{ texts: SnapshotText[]; demo: boolean }> {
  if (paths.length === 0) return { texts: [{ name: demoClusterPath(), text: readFileSync(demoClusterPath(), 'utf8') }], demo: true };
  const texts: SnapshotText[] = [];
  for (const p of paths) {
    if (p === '-') {
      texts.push({ name: '-', text: await io.readStdin() });
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new UsageError(`snapshot ${p}: no such file or directory (give the output of \`kubectl get nodes,pods,services,endpointslices -A -o json\`)`);
    }
    const files = isDir
      ? readdirSync(p)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => join(p, f))
      : [p];
    if (isDir && files.length === 0) throw new UsageError(`snapshot ${p}: the directory holds no *.json files`);
    for (const f of files) {
      try {
        texts.push({ name: f, text: readFileSync(f, 'utf8') });
      } catch (err) {
        throw new UsageError(`snapshot ${f}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }
  }
  return { texts, demo: false };
}

const MAX_PROBLEMS_SHOWN = 20;

/** Loads the cluster and prints input problems to stderr; fails when nothing usable was read. */
export async function loadSnapshotCluster(paths: string[], io: CliIO): Promise<ClusterModel> {
  const { texts } = await readSnapshots(paths, io);
  const cluster = loadCluster(texts);
  const shown = cluster.problems.slice(0, MAX_PROBLEMS_SHOWN);
  for (const p of shown) io.stderr(`warning: ${formatProblem(p)}\n`);
  if (cluster.problems.length > shown.length) io.stderr(`warning: … and ${cluster.problems.length - shown.length} more input problem(s) (see "problems" in --format json)\n`);
  if (cluster.nodes.length === 0 && cluster.services.length === 0 && cluster.pods.length === 0) {
    throw new UsageError(`no Nodes, Pods or Services could be read from ${texts.map((t) => t.name).join(', ')}`);
  }
  return cluster;
}
