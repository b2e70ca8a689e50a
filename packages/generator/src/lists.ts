/**
 * Turning a generated cluster into `kubectl get … -o json` Lists: one List for small clusters, or
 * several files for big ones (a 150,000-pod List as one string exceeds V8's maximum string length).
 * No file system here: callers write the files.
 */
import type { GeneratedCluster, GeneratedKubeList, GeneratedKubeObject } from './types';

export function kubeList(items: GeneratedKubeObject[]): GeneratedKubeList {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

/** Every object of the cluster as one List (nodes, pods, Services, EndpointSlices, ReplicaSets, Jobs, DaemonSets, ConfigMaps). */
export function toKubeList(cluster: GeneratedCluster): GeneratedKubeList {
  const i = cluster.items;
  return kubeList([
    ...i.nodes,
    ...i.pods,
    ...i.services,
    ...i.endpointSlices,
    ...i.replicaSets,
    ...i.jobs,
    ...i.daemonSets,
    ...i.configMaps,
  ]);
}

export type GeneratedListFile = {
  /** File name: `nodes.json`, `pods-000.json`…, `services.json`, `endpointslices.json`, `kube-system.json`, `workloads.json`. */
  name: string;
  /** The kubectl command whose output the file stands for. */
  command: string;
  list: GeneratedKubeList;
};

export type ToKubeListsOptions = {
  /** Pods per `pods-NNN.json` file (default 10,000: about 30 MB of JSON each). */
  podsPerFile?: number;
};

/**
 * The cluster as several Lists, each small enough to stringify:
 * - `nodes.json`: `kubectl get nodes -o json`
 * - `pods-000.json`, `pods-001.json`, …: `kubectl get pods -A -o json`, split
 * - `services.json`, `endpointslices.json`
 * - `kube-system.json`: `kubectl get configmaps,daemonsets -n kube-system -o json`
 * - `workloads.json`: `kubectl get replicasets,jobs -A -o json` (owner chains Pod → ReplicaSet → Deployment, Pod → Job → CronJob)
 */
export function toKubeLists(cluster: GeneratedCluster, options: ToKubeListsOptions = {}): GeneratedListFile[] {
  const podsPerFile = options.podsPerFile ?? 10_000;
  if (!Number.isInteger(podsPerFile) || podsPerFile < 1) throw new RangeError(`podsPerFile must be an integer >= 1 (got ${podsPerFile})`);
  const i = cluster.items;
  const files: GeneratedListFile[] = [{ name: 'nodes.json', command: 'kubectl get nodes -o json', list: kubeList(i.nodes) }];
  const podFiles = Math.max(1, Math.ceil(i.pods.length / podsPerFile));
  const width = Math.max(3, String(podFiles - 1).length);
  for (let k = 0; k < podFiles; k++) {
    files.push({
      name: `pods-${String(k).padStart(width, '0')}.json`,
      command: `kubectl get pods -A -o json (part ${k + 1} of ${podFiles})`,
      list: kubeList(i.pods.slice(k * podsPerFile, (k + 1) * podsPerFile)),
    });
  }
  files.push({ name: 'services.json', command: 'kubectl get services -A -o json', list: kubeList(i.services) });
  files.push({
    name: 'endpointslices.json',
    command: 'kubectl get endpointslices.discovery.k8s.io -A -o json',
    list: kubeList(i.endpointSlices),
  });
  const inKubeSystem = (o: GeneratedKubeObject): boolean => o.metadata.namespace === 'kube-system';
  files.push({
    name: 'kube-system.json',
    command: 'kubectl get configmaps,daemonsets -n kube-system -o json',
    list: kubeList([...i.configMaps.filter(inKubeSystem), ...i.daemonSets.filter(inKubeSystem)]),
  });
  files.push({ name: 'workloads.json', command: 'kubectl get replicasets,jobs -A -o json', list: kubeList([...i.replicaSets, ...i.jobs]) });
  return files;
}
