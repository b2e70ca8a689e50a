import type { ClusterService, TrafficPolicy } from '../cluster/model';
import type { DatapathDecision } from './datapath';
import type { IngressPoint } from './ingress';

/**
 * Node evidence settles steps 1–2 for the nodes it covers: an input the analysis reads through this
 * interface (built from node dumps by the loader). `decide` says what the node's own datapath does,
 * as observed, or undefined (the inferred decision is used instead); the analysis compares the two.
 */
export interface DatapathEvidence {
  /** Whether the evidence covers this node's datapath at all. */
  covers(node: number): boolean;
  decide(node: number, service: ClusterService, ingress: IngressPoint, policy: TrafficPolicy): DatapathDecision | undefined;
  /** Failed connections read from the nodes (conntrack `[UNREPLIED]`), if the evidence has any. */
  observed?(): ObservedFailure[];
  /** Connections (replied or not) from client pods to an LB ingress: observed known callers. */
  observedCallers?(): ObservedCaller[];
  /** Problems with the evidence itself (file and line), for the user. */
  readonly problems?: readonly string[];
}

/** `connections` unreplied connections from `workload`'s pods on `node` to an ingress of `service`. */
export interface ObservedFailure {
  service: number;
  node: number;
  workload: number;
  connections: number;
}

/** A conntrack entry from client pod `pod` to `ip`:`port`, an ingress of `service`; `where` names the node and file. */
export interface ObservedCaller {
  service: number;
  pod: number;
  ip: string;
  port: number;
  unreplied: boolean;
  where: string;
}
