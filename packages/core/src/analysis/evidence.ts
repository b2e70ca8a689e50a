import type { ClusterService, TrafficPolicy } from '../cluster/model';
import type { DatapathDecision } from './datapath';
import type { IngressPoint } from './ingress';

/**
 * Node evidence (loopback-model.md §5) settles steps 1–2 for the nodes it covers. `decide` returns
 * undefined for a node without evidence, and the inferred decision is used instead.
 */
export interface DatapathEvidence {
  /** Whether the evidence covers this node's datapath at all. */
  covers(node: number): boolean;
  decide(node: number, service: ClusterService, ingress: IngressPoint, policy: TrafficPolicy): DatapathDecision | undefined;
  /** Failed connections read from the nodes (conntrack `[UNREPLIED]`), if the evidence has any. */
  observed?(): ObservedFailure[];
}

/** `connections` unreplied connections from `workload`'s pods on `node` to an ingress of `service`. */
export interface ObservedFailure {
  service: number;
  node: number;
  workload: number;
  connections: number;
}
