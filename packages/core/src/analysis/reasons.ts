/**
 * Stable reason codes. Tools (alerts, the Slack bot) match on these; never rename one, add new ones.
 * Each reason says what was decided, from what (`source`), and whether it was inferred from the
 * profile or read from node evidence.
 */
export type ReasonCode =
  // Scope of the Service
  | 'NOT_LOADBALANCER'
  | 'PUBLIC_LB'
  | 'NO_INGRESS_IP'
  | 'INVALID_FIELD'
  | 'UNKNOWN_PROVIDER'
  | 'GCP_LOCAL_ROUTE'
  | 'AWS_CLIENT_IP_NOT_PRESERVED'
  | 'AWS_CLASSIC_ELB'
  | 'UNKNOWN_LB_CLASS'
  | 'INPUT_MISSING'
  | 'INPUT_INCOMPLETE'
  // Step 1: captured on the node?
  | 'CAPTURED_IPTABLES'
  | 'CAPTURED_NFTABLES'
  | 'CAPTURED_IPVS_BIND'
  | 'CAPTURED_PREVENT_LOOPBACK'
  | 'CAPTURED_CILIUM'
  | 'CAPTURED_EVIDENCE'
  | 'NOT_CAPTURED_TKE_IPVS'
  | 'NOT_CAPTURED_TKE_NO_ANNOTATION'
  | 'NOT_CAPTURED_IPMODE_PROXY'
  | 'NOT_CAPTURED_HOSTNAME'
  | 'NOT_CAPTURED_EVIDENCE'
  | 'UNKNOWN_PROXY_MODE'
  | 'UNKNOWN_IPMODE_SUPPORT'
  | 'UNKNOWN_TKE_BUILD'
  // Step 2: the source the LB sees
  | 'SOURCE_POD_IP_LOCAL'
  | 'SOURCE_POD_IP_NO_SNAT'
  | 'SOURCE_NODE_IP_CLUSTER'
  | 'SOURCE_NODE_IP_CNI_MASQUERADE'
  | 'SOURCE_EVIDENCE'
  | 'UNKNOWN_POD_IP_ROUTABLE'
  | 'SOURCE_NODE_IP_MASQ_AGENT'
  // Steps 3–6
  | 'BACKENDS_LOCAL_NODES'
  | 'BACKENDS_CLUSTER_NODES'
  | 'BACKENDS_PODS'
  | 'LB_SKIPS_CLIENT_NODE'
  | 'LOOPBACK'
  | 'HAIRPIN'
  | 'NO_READY_ENDPOINTS'
  | 'NO_ELIGIBLE_BACKEND'
  | 'NO_CLIENT_PODS'
  | 'UNPLACED_ENDPOINTS'
  | 'OUTSIDE_SOURCE_RANGES'
  | 'UNREACHABLE'
  // Evidence
  | 'EVIDENCE_DISAGREES'
  | 'OBSERVED_UNREPLIED'
  | 'EVIDENCE_UNCERTAIN';

export interface Reason {
  code: ReasonCode;
  message: string;
  /** Where the deciding fact came from: an object field, an annotation, a flag, a rule in a dump. */
  source: string;
  /** `inferred` from the cluster objects and profile, or `observed` in node evidence. */
  basis: 'inferred' | 'observed';
  /** Facts behind the decision, for machines. */
  evidence?: Record<string, string | number | boolean>;
  /** Nodes this reason holds for (capped in reports), when it is node-specific. */
  nodes?: string[];
  /** A problem the user must act on even without loopback (no eligible backend, disagreement). */
  severity?: 'info' | 'warning' | 'error';
}

export function inferred(code: ReasonCode, message: string, source: string, extra: Partial<Reason> = {}): Reason {
  return { code, message, source, basis: 'inferred', ...extra };
}
