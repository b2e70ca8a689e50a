import type { ClusterModel } from '../cluster/model';
import { detectProfile, type DatapathProfile, type ProfileOverrides } from '../profile/profile';
import type { DatapathEvidence } from './evidence';
import { analyzeService, createContext, type AnalysisContext, type ServiceAnalysis } from './service';

export interface AnalyzeOptions {
  overrides?: ProfileOverrides;
  /** A profile detected earlier (what-if reuses it); detected from the cluster otherwise. */
  profile?: DatapathProfile;
  evidence?: DatapathEvidence;
}

/** The whole cluster analysed: one ServiceAnalysis per Service, in input order. */
export interface ClusterAnalysis {
  context: AnalysisContext;
  /** The overrides the profile was detected with (what-if re-detects with the same). */
  overrides: ProfileOverrides;
  services: ServiceAnalysis[];
}

export function analyzeCluster(cluster: ClusterModel, options: AnalyzeOptions = {}): ClusterAnalysis {
  const profile = options.profile ?? detectProfile(cluster, options.overrides);
  const context = createContext(cluster, profile, options.evidence);
  return { context, overrides: options.overrides ?? {}, services: cluster.services.map((svc) => analyzeService(context, svc)) };
}
