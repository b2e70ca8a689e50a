import type { ClusterModel } from '../cluster/model';
import { detectProfile, type DatapathProfile, type ProfileOverrides } from '../profile/profile';
import type { DatapathEvidence } from './evidence';
import { analyzeService, attachObserved, createContext, type AnalysisContext, type ServiceAnalysis } from './service';

export interface AnalyzeOptions {
  overrides?: ProfileOverrides;
  /** A profile detected earlier (what-if reuses it); detected from the cluster otherwise. */
  profile?: DatapathProfile;
  /** Node evidence (the loader builds it from node dumps): decides steps 1–2 for the nodes it covers. */
  evidence?: DatapathEvidence;
}

/** The whole cluster analysed: one ServiceAnalysis per Service, in input order. */
export interface ClusterAnalysis {
  context: AnalysisContext;
  /** The overrides the profile was detected with (what-if re-detects with the same). */
  overrides: ProfileOverrides;
  /** Problems in the node dumps (file and line), and dumps of nodes not in the snapshot. */
  evidenceProblems: string[];
  services: ServiceAnalysis[];
}

export function analyzeClusterModel(cluster: ClusterModel, options: AnalyzeOptions = {}): ClusterAnalysis {
  const profile = options.profile ?? detectProfile(cluster, options.overrides);
  const evidence = options.evidence;
  const context = createContext(cluster, profile, evidence);
  const services = cluster.services.map((svc) => analyzeService(context, svc));
  const observed = evidence?.observed?.();
  if (observed?.length) attachObserved(context, services, observed);
  return { context, overrides: options.overrides ?? {}, evidenceProblems: [...(evidence?.problems ?? [])], services };
}
