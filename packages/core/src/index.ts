/**
 * @loopscope/core — the internal-LB loopback model.
 * Kubernetes objects in (`loadCluster`), per-Service and per-link risk (`analyzeCluster`, `buildReport`),
 * explanations (`explain`), what-if (`whatIf`) and the netfilter evidence tracer out.
 */
export * from './kube/objects';
export * from './kube/problems';
export * from './kube/snapshot';
export * from './cluster/model';
export { buildCluster } from './cluster/build';
export { workloadLabel } from './cluster/workloads';
export * from './profile/signals';
export * from './profile/versions';
export * from './profile/profile';
export * from './analysis/reasons';
export * from './analysis/ingress';
export type { DatapathDecision } from './analysis/datapath';
export type { DatapathEvidence } from './analysis/evidence';
export * from './analysis/service';
export * from './analysis/exposure';
export * from './analysis/analyze';
export * from './report/report';
export * from './whatif/whatif';
export * from './whatif/fixes';
export { parseWhatIfChange, parseWhatIfChanges, parseWhatIfChangeSpec, WHATIF_KINDS, WHATIF_VALUES, type WhatIfChangeSpec } from './whatif/changes';
export { findService } from './whatif/serviceRef';
export * from './load';
export * from './explain/target';
export * from './explain/explain';
export * from './explain/render';
export * from './generator';
export { slimObject } from './kube/slim';
export * from './netfilter';
export { NodeEvidenceSet } from './evidence/nodeEvidenceSet';
export * from './live/liveCluster';
export * from './profile/flags';
export { formatP, formatProbability } from './format/probability';
export { isLoopscopeError, LoopscopeError, type LoopscopeErrorCode } from './error/loopscopeError';
export * from './terminal/escape';
