import { formatProblem, loadCluster, type ClusterModel } from '@loopscope/core';
import { demoSnapshotPath, readSnapshots } from '@loopscope/core/node';
import { UsageError, type CliIO } from './io';

const MAX_PROBLEMS_SHOWN = 20;

/**
 * Loads the cluster from `--snapshot` values (files, directories, `-` for stdin; with none, the demo
 * cluster) and prints input problems to stderr; fails when nothing usable was read.
 */
export async function loadSnapshotCluster(paths: string[], io: CliIO): Promise<ClusterModel> {
  const texts = await readSnapshots(paths.length > 0 ? paths : [demoSnapshotPath()], () => io.readStdin());
  const cluster = loadCluster(texts);
  const shown = cluster.problems.slice(0, MAX_PROBLEMS_SHOWN);
  for (const p of shown) io.stderr(`warning: ${formatProblem(p)}\n`);
  if (cluster.problems.length > shown.length) io.stderr(`warning: … and ${cluster.problems.length - shown.length} more input problem(s) (see "problems" in --format json)\n`);
  if (cluster.nodes.length === 0 && cluster.services.length === 0 && cluster.pods.length === 0) {
    throw new UsageError(`no Nodes, Pods or Services could be read from ${texts.map((t) => t.name).join(', ')}`);
  }
  return cluster;
}
