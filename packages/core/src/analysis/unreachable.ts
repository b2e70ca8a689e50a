import type { AnalysisContext, ServiceAnalysis } from './service';

/** Why a client fails outright (q = 1, docs/model.md) instead of looping. */
export type UnreachableCause = 'no-eligible-backend' | 'outside-source-ranges' | 'no-ready-endpoint';

export const UNREACHABLE_CAUSE_TEXT: Record<UnreachableCause, string> = {
  'no-eligible-backend':
    'no eligible backend: the LB skips the only backend(s), whose IP is the source it sees (Tencent Cloud doc "CLB loopback")',
  'outside-source-ranges':
    "the client's source (pod IP, or node IP after SNAT) is outside spec.loadBalancerSourceRanges: kube-proxy's firewall chain or the cloud LB's ACL drops it (kube-proxy source, KUBE-PROXY-FIREWALL)",
  'no-ready-endpoint': 'no ready endpoint behind the internal LB: it has no healthy backend for this port',
};

export interface UnreachableClients {
  clientPods: number;
  nodes: number[];
  causes: UnreachableCause[];
}

/**
 * The Service's clients that fail outright on some ingress point, counted once each. Computed on
 * demand (like the figures): the live model moves client counts in place.
 */
export function unreachableClients(ctx: AnalysisContext, sa: ServiceAnalysis): UnreachableClients | undefined {
  const { cluster } = ctx;
  const causes = new Set<UnreachableCause>();
  let all = false;
  const wholeNodes = new Set<number>();
  const pods = new Set<number>();
  for (const ing of sa.ingresses) {
    if (ing.allFail) {
      all = true;
      causes.add(ing.allFail);
    }
    for (const n of ing.noEligibleNodes) {
      if (cluster.nodes[n]!.clientPods === 0) continue;
      wholeNodes.add(n);
      causes.add('no-eligible-backend');
    }
    for (const [pod, cause] of ing.failingPods) {
      pods.add(pod);
      causes.add(cause);
    }
  }
  if (all) {
    if (cluster.clientPodCount === 0) return undefined;
    const nodes = cluster.nodes.filter((n) => n.clientPods > 0).map((n) => n.index);
    return { clientPods: cluster.clientPodCount, nodes, causes: [...causes] };
  }
  let clientPods = 0;
  for (const n of wholeNodes) clientPods += cluster.nodes[n]!.clientPods;
  const nodes = new Set(wholeNodes);
  for (const p of pods) {
    const pod = cluster.pods[p]!;
    if (pod.role !== 'client' || wholeNodes.has(pod.node)) continue;
    clientPods++;
    nodes.add(pod.node);
  }
  return clientPods > 0 ? { clientPods, nodes: [...nodes], causes: [...causes] } : undefined;
}
