/**
 * @loopscope/core — the internal-LB loopback model. This list is the whole public API: each name is
 * exported on purpose, everything else is internal and may change. Node.js file reading is in
 * `@loopscope/core/node`; the percent formatter alone in `@loopscope/core/format` (for bundles).
 *
 * Kubernetes objects in (`loadCluster`), per-Service and per-link risk (`analyzeCluster`, `buildReport`),
 * explanations (`explain`), what-if (`whatIf`) and the netfilter evidence tracer out.
 */

// Kubernetes input: snapshots, objects, input problems, the vocabulary the model reads.
export type { ObjectMeta, KubeObject, KubeList, Container, PodSpecLike } from './kube/objects';
export { formatProblem, type InputProblem } from './kube/problems';
export { flattenSnapshot, parseSnapshotText, type SnapshotText, type SourcedObject } from './kube/snapshot';
export { slimObject } from './kube/slim';
export { ANNOTATION, LABEL, PROVIDERS, type Provider } from './kube/vocabulary';

// The normalized cluster, loaded, and analysed (with node dumps as evidence).
export type {
  ClusterModel,
  ClusterNode,
  ClusterPod,
  ClusterService,
  IpMode,
  LbIngress,
  PodRole,
  ServiceEndpoint,
  ServicePort,
  TrafficPolicy,
  Workload,
  WorkloadKind,
} from './cluster/model';
export { buildCluster } from './cluster/build';
export { workloadLabel } from './cluster/workloads';
export { analyzeCluster, clusterFromObjects, loadCluster, type ClusterAnalysisOptions } from './load/load';
export type { AnalyzeOptions, ClusterAnalysis } from './analysis/analyze';
export type { DatapathEvidence, ObservedFailure } from './analysis/evidence';
export type { DatapathDecision } from './analysis/datapath';
export type { IngressPoint } from './analysis/ingress';
export type { Reason, ReasonCode } from './analysis/reasons';
export type { BackendKind, IngressAnalysis, LbScope, NodeRisk, ServiceAnalysis, Verdict } from './analysis/service';
export { serviceLinks, type AffectedWorkload, type Link } from './analysis/exposure';
export { worstClientProbability } from './analysis/worstClient';
export { LiveCluster, type RecomputeMode, type RecomputeResult } from './live/liveCluster';

// The datapath profile: detection, overrides and the flags that set them.
export {
  detectProfile,
  IPVS_BINDS,
  PROXY_MODES,
  type DatapathProfile,
  type Detected,
  type IpvsBind,
  type NodeDatapath,
  type PodNetwork,
  type ProfileOverrides,
  type ProxyMode,
} from './profile/profile';
export { imageTag, parseKubeVersion, tkeBuildStatus, type KubeVersion, type TkeBuildStatus } from './profile/versions';
export { PROFILE_FLAG_OPTIONS, PROFILE_FLAGS_HELP, profileOverridesFromFlags } from './profile/flags';

// Outputs: the report contract, explanations, what-if and fixes.
export { atRiskList, type AtRiskList, type AtRiskService } from './report/atRisk';
export {
  buildReport,
  reportSteps,
  type Report,
  type ReportCluster,
  type ReportIngress,
  type ReportCaller,
  type ReportLink,
  type ReportMissingInput,
  type ReportOptions,
  type ReportService,
  type ReportUnreachable,
} from './report/report';
export { CHECK_INSTEAD, explain, type ExplainResult, type Explanation, type Hop, type ServiceExplanation } from './explain/explain';
export { MAX_TARGET_CHARS, targetTooLong, type ExplainTarget, type ResolveOptions, type TargetResolution } from './explain/target';
export { renderExplanationMarkdown, renderExplanationText } from './explain/render';
export { isCloseMatch, WORKLOAD_KIND_ALIASES } from './explain/names';
export { whatIf, type WhatIfChange, type WhatIfFigure, type WhatIfResult, type WhatIfServiceResult } from './whatif/whatif';
export {
  parseWhatIfChange,
  parseWhatIfChanges,
  parseWhatIfChangeSpec,
  WHATIF_KINDS,
  WHATIF_VALUES,
  type WhatIfChangeSpec,
} from './whatif/changes';
export { fixesFor, type Fix, type FixId } from './whatif/fixes';

// Words for people, and errors.
export { formatP, formatProbability } from './format/probability';
export { escapeControlCharacters } from './terminal/escape';
export { isLoopscopeError, LoopscopeError, type LoopscopeErrorCode } from './error/loopscopeError';

// The node agent's evidence document: written by loopscope-node-agent, read by the exporter.
export {
  MAX_AGENT_CONNECTIONS,
  NODE_EVIDENCE_API_VERSION,
  readNodeAgentEvidence,
  type NodeAgentConnection,
  type NodeAgentDump,
  type NodeAgentEvidence,
  type NodeAgentEvidenceDocument,
} from './nodeAgent/evidenceDocument';

// Netfilter evidence: node dumps parsed, and a packet traced through them.
export {
  cidrContains,
  describeConntrackEntry,
  formatCidr,
  formatDumpProblem,
  formatEndpoint,
  formatIp,
  formatTraceText,
  loadNodeDumps,
  NODE_DUMP_FILES,
  NodeEvidence,
  parseCidr,
  parseConntrack,
  parseEndpoint,
  parseIp,
  parseIpAddr,
  parseIpset,
  parseIptablesSave,
  traceLbPacket,
  TraceInputError,
  traceVerdict,
  type BaseChain,
  type CaptureHow,
  type Cidr,
  type ConntrackEntry,
  type ConntrackTuple,
  type DumpProblem,
  type DumpText,
  type Hook,
  type InterfaceAddress,
  type IpAddress,
  type IpFamily,
  type IpsetDump,
  type IptablesDump,
  type IptablesRule,
  type MatchedRule,
  type NodeDumpsInput,
  type ParsedDump,
  type Ruleset,
  type TraceHook,
  type TraceOutcome,
  type TracePacket,
  type TraceResult,
} from './netfilter';
