import { analyzeClusterModel, type AnalyzeOptions, type ClusterAnalysis } from '../analysis/analyze';
import { buildCluster } from '../cluster/build';
import type { ClusterModel } from '../cluster/model';
import { NodeEvidenceSet } from '../evidence/nodeEvidenceSet';
import type { InputProblem } from '../kube/problems';
import { flattenSnapshot, parseSnapshotText, type SnapshotText, type SourcedObject } from '../kube/snapshot';
import type { NodeEvidence } from '../netfilter/nodeEvidence';

/**
 * The loader: inputs in, the model's inputs out. Data flows one way — kube → cluster → analysis,
 * and node dumps → netfilter → evidence → analysis (through the DatapathEvidence interface).
 */

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

export interface ClusterAnalysisOptions extends AnalyzeOptions {
  /** Node dumps by Node name (`loadNodeDumps` / `readNodeDumps` output): evidence for the nodes they cover. */
  nodeDumps?: Map<string, NodeEvidence>;
}

/** The cluster analysed, with node dumps (if given) as evidence. */
export function analyzeCluster(cluster: ClusterModel, options: ClusterAnalysisOptions = {}): ClusterAnalysis {
  const { nodeDumps, ...rest } = options;
  const evidence = rest.evidence ?? (nodeDumps ? new NodeEvidenceSet(cluster, nodeDumps) : undefined);
  return analyzeClusterModel(cluster, { ...rest, evidence });
}
