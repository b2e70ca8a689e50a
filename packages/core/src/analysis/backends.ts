import type { ClusterModel, ClusterService, ServiceEndpoint, TrafficPolicy } from '../cluster/model';
import { inferred, type Reason } from './reasons';

/**
 * Step 3 (loopback-model.md §3): the LB's backends. Node backends (NodePort) are, for `Local`, the
 * nodes with a ready endpoint (the health-check node port fails elsewhere) and, for `Cluster`, every
 * Ready node; nodes labelled exclude-from-external-load-balancers never are (F9). Pod backends
 * (direct-to-pod) are the ready endpoints.
 */
export type Backends =
  | { kind: 'node'; nodes: number[]; isBackend: Uint8Array; reason: Reason }
  | { kind: 'pod'; endpoints: ServiceEndpoint[]; perNode: Map<number, number>; reason: Reason };

const clusterBackendsCache = new WeakMap<ClusterModel['nodes'], { nodes: number[]; isBackend: Uint8Array }>();

/** `Cluster` backends are the same for every Service: computed once per node list. */
function readyNodes(cluster: ClusterModel): { nodes: number[]; isBackend: Uint8Array } {
  let hit = clusterBackendsCache.get(cluster.nodes);
  if (!hit) {
    const isBackend = new Uint8Array(cluster.nodes.length);
    const nodes: number[] = [];
    for (const n of cluster.nodes) {
      if (n.ready && !n.excludedFromLb) {
        isBackend[n.index] = 1;
        nodes.push(n.index);
      }
    }
    clusterBackendsCache.set(cluster.nodes, (hit = { nodes, isBackend }));
  }
  return hit;
}

export function nodeBackends(cluster: ClusterModel, svc: ClusterService, policy: TrafficPolicy): Backends & { kind: 'node' } {
  let isBackend: Uint8Array;
  let nodes: number[];
  if (policy === 'Local') {
    isBackend = new Uint8Array(cluster.nodes.length);
    nodes = [];
    for (const ep of svc.endpoints) {
      if (!ep.ready || ep.node < 0 || isBackend[ep.node]) continue;
      if (cluster.nodes[ep.node]!.excludedFromLb) continue;
      isBackend[ep.node] = 1;
      nodes.push(ep.node);
    }
  } else {
    ({ nodes, isBackend } = readyNodes(cluster));
  }
  const reason =
    policy === 'Local'
      ? inferred('BACKENDS_LOCAL_NODES', `externalTrafficPolicy Local: the LB's healthy backends are the ${nodes.length} node(s) with a ready endpoint`, 'EndpointSlices (ready endpoints and their nodeName)', {
          evidence: { backendNodes: nodes.length },
        })
      : inferred('BACKENDS_CLUSTER_NODES', `externalTrafficPolicy Cluster: every Ready node not excluded from LBs is a backend (${nodes.length} nodes)`, 'Node Ready conditions and the exclude-from-external-load-balancers label', {
          evidence: { backendNodes: nodes.length },
        });
  return { kind: 'node', nodes, isBackend, reason };
}

export function podBackends(svc: ClusterService, annotation: string): Backends & { kind: 'pod' } {
  const endpoints = svc.endpoints.filter((e) => e.ready && e.node >= 0);
  const perNode = new Map<number, number>();
  for (const e of endpoints) perNode.set(e.node, (perNode.get(e.node) ?? 0) + 1);
  const reason = inferred('BACKENDS_PODS', `direct-to-pod backends: the LB sends to the ${endpoints.length} ready endpoint pod(s) themselves`, `annotation ${annotation}`, {
    evidence: { backendPods: endpoints.length },
  });
  return { kind: 'pod', endpoints, perNode, reason };
}

/** Steps 4–6 for one client: how many backends the LB may choose, and how many of those loop. */
export interface BackendChoice {
  eligible: number;
  looping: number;
}

/**
 * A client pod on `node` whose packet reaches the LB with source `source`.
 * `selfIsBackend`: the client pod is itself one of the pod backends (matters when source is the pod IP).
 */
export function chooseBackend(
  backends: Backends,
  node: number,
  source: 'pod' | 'node',
  lbSkipsSource: boolean,
  sharedPodNetwork: boolean,
  selfIsBackend = false,
): BackendChoice {
  if (backends.kind === 'node') {
    const total = backends.nodes.length;
    const own = backends.isBackend[node] ?? 0;
    // A node-SNATed packet carries the client node's IP, which is also that node backend's IP (F4).
    if (source === 'node' && lbSkipsSource) return { eligible: total - own, looping: 0 };
    return { eligible: total, looping: own };
  }
  const total = backends.endpoints.length;
  const onNode = backends.perNode.get(node) ?? 0;
  const self = selfIsBackend && source === 'pod' ? 1 : 0;
  if (self && lbSkipsSource) {
    return { eligible: total - 1, looping: sharedPodNetwork ? onNode - 1 : 0 };
  }
  // Exclusive-ENI pods answer through the VPC, so only the client itself (a hairpin) fails.
  return { eligible: total, looping: sharedPodNetwork ? onNode : self };
}
