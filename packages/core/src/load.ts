import { buildCluster } from './cluster/build';
import type { ClusterModel } from './cluster/model';
import type { InputProblem } from './kube/problems';
import { flattenSnapshot, parseSnapshotText, type SnapshotText, type SourcedObject } from './kube/snapshot';

/** Snapshot texts (`kubectl get … -o json` output, one or more files) → the normalized cluster. */
export function loadCluster(texts: SnapshotText[]): ClusterModel {
  const problems: InputProblem[] = [];
  const objects: SourcedObject[] = [];
  for (const t of texts) for (const o of parseSnapshotText(t, problems)) objects.push(o);
  return buildCluster(objects, problems);
}

/** Already-parsed objects or Lists (the exporter's informers, a test) → the normalized cluster. */
export function clusterFromObjects(objects: unknown, source = 'objects'): ClusterModel {
  const problems: InputProblem[] = [];
  return buildCluster(flattenSnapshot(objects, source, problems), problems);
}
