/**
 * Where a command's cluster comes from, chosen the way a kubectl user expects: `--snapshot` files,
 * the bundled demo with `--demo`, otherwise the live cluster of the current kubeconfig context
 * (`--kubeconfig`, `--context`). Never the demo by accident: a user who forgets a flag must not get
 * the demo's answer about "their" cluster.
 */
import { readFileSync } from 'node:fs';
import { buildCluster, formatProblem, parseSnapshotText, type ClusterModel, type InputProblem, type SourcedObject } from '@loopscope/core';
import { demoSnapshotPath } from '@loopscope/demo';
import { UsageError, type CliIO } from '../io';
import type { Progress } from '../progress';
import { readKubeCluster } from './kubeCluster';
import { readSnapshotFiles } from './snapshotFiles';
import { slimmed } from './slimmed';

export const SOURCE_OPTIONS = {
  snapshot: { type: 'string', multiple: true },
  demo: { type: 'boolean' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
} as const;

export const SOURCE_HELP = `Cluster (default: the current context of your kubeconfig, as kubectl):
  --kubeconfig FILE       kubeconfig to use (default $KUBECONFIG, then ~/.kube/config)
  --context NAME          kubeconfig context to use (default its current-context)
  -n, --namespace NS      only the Services of namespace NS (clients are still every pod)
  --snapshot FILE|DIR|-   kubectl JSON instead of a live cluster
                          (\`kubectl get nodes,pods,services,endpointslices -A -o json\`, plus optionally
                          \`kubectl get configmaps,daemonsets -n kube-system -o json\` and
                          \`kubectl get replicasets,jobs -A -o json\`); repeatable; a directory means
                          every *.json in it; - reads stdin
  --demo                  the bundled demo cluster (a TKE IPVS cluster with the loopback case)`;

export interface SourceFlags {
  snapshot?: string[];
  demo?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** The bundled demo cluster (core's node entry point knows where it is installed). */
export const demoClusterPath = demoSnapshotPath;

const MAX_PROBLEMS_SHOWN = 20;
/** A warning quotes names and values from the input: a 10 MB value must not become a 10 MB line. */
const MAX_WARNING_CHARS = 500;

function clip(line: string): string {
  return line.length <= MAX_WARNING_CHARS
    ? line
    : `${line.slice(0, MAX_WARNING_CHARS)}… (${line.length - MAX_WARNING_CHARS} more characters)`;
}

/** Reads the cluster the flags name; input problems go to stderr; fails when nothing usable was read. */
export async function clusterFromFlags(flags: SourceFlags, io: CliIO, progress: Progress): Promise<ClusterModel> {
  const snapshots = flags.snapshot ?? [];
  if (flags.demo && snapshots.length) throw new UsageError('--demo and --snapshot: give one of them');
  if ((flags.demo || snapshots.length) && (flags.kubeconfig || flags.context)) {
    throw new UsageError(`--kubeconfig/--context read a live cluster; they do not go with ${flags.demo ? '--demo' : '--snapshot'}`);
  }
  const read = flags.demo
    ? readDemo()
    : snapshots.length
      ? await readSnapshotFiles(snapshots, io, progress)
      : await readKubeCluster(flags, io, progress);
  const objects = flags.namespace ? read.objects.filter((o) => inNamespace(o, flags.namespace!)) : read.objects;
  progress.update(`building the cluster model from ${objects.length} objects`);
  const cluster = buildCluster(objects, read.problems);
  progress.done();
  const shown = cluster.problems.slice(0, MAX_PROBLEMS_SHOWN);
  for (const p of shown) io.stderr(`warning: ${clip(formatProblem(p))}\n`);
  if (cluster.problems.length > shown.length)
    io.stderr(`warning: … and ${cluster.problems.length - shown.length} more input problem(s) (see "problems" in --format json)\n`);
  if (cluster.nodes.length === 0 && cluster.services.length === 0 && cluster.pods.length === 0) {
    throw new UsageError(`no Nodes, Pods or Services could be read from ${read.names.join(', ')}`);
  }
  return cluster;
}

function readDemo(): { objects: SourcedObject[]; problems: InputProblem[]; names: string[] } {
  const name = demoClusterPath();
  const problems: InputProblem[] = [];
  const objects = parseSnapshotText({ name, text: readFileSync(name, 'utf8') }, problems).map(slimmed);
  return { objects, problems, names: [name] };
}

/** `-n` narrows the Services (and their EndpointSlices); every pod is still a client. */
function inNamespace(o: SourcedObject, namespace: string): boolean {
  const kind = o.object.kind;
  if (kind !== 'Service' && kind !== 'EndpointSlice') return true;
  return o.object.metadata?.namespace === namespace;
}
