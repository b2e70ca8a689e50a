import type { ClusterService, TrafficPolicy } from '../cluster/model';
import type { DatapathDecision } from './datapath';
import type { IngressPoint } from './ingress';

/**
 * Node evidence (loopback-model.md §5) settles steps 1–2 for the nodes it covers. Returns undefined
 * for a node without evidence, and the inferred decision is used instead.
 */
export interface DatapathEvidence {
  /** Whether the evidence covers this node at all. */
  covers(node: number): boolean;
  decide(node: number, service: ClusterService, ingress: IngressPoint, policy: TrafficPolicy): DatapathDecision | undefined;
}
