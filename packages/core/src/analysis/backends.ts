import type { ClusterModel, ClusterService, ServiceEndpoint, TrafficPolicy } from '../cluster/model';
import type { IngressPoint } from './ingress';
import { inferred, type Reason } from './reasons';

/**
 * Step 3 (docs/model.md): the LB's backends. Node backends (NodePort) are, for `Local`,
 * the nodes with a ready endpoint (the health-check node port fails elsewhere) and, for `Cluster`,
 * every Ready node; nodes labelled exclude-from-external-load-balancers never are (docs/model.md), cordoned
 * nodes still are. Pod backends (direct-to-pod) are the ready endpoints of the ingress's address
 * family that serve its port. A ready endpoint with no known node is an eligible backend that can
 * never loop (`unplaced`): the figure is then a lower bound.
 */
export type Backends =
  | { kind: 'node'; nodes: number[]; isBackend: Uint8Array; reason: Reason; unplaced: number }
  | {
      kind: 'pod';
      /** Every eligible-before-skip endpoint, placed or not. */
      endpoints: ServiceEndpoint[];
      /** Placed endpoints per node. */
      perNode: Map<number, number>;
      /** Endpoints whose IP is their node's IP (hostNetwork pods): the TKE CLB skips them for node-SNATed clients there. */
      nodeIpPerNode: Map<number, number>;
      unplaced: number;
      reason: Reason;
    };

export function backendCount(b: Backends): number {
  return b.kind === 'node' ? b.nodes.length : b.endpoints.length;
}

const clusterBackendsCache = new WeakMap<ClusterModel['nodes'], { nodes: number[]; isBackend: Uint8Array }>();

/** `Cluster` backends are the same for every Service: computed once per node list. */
function readyNodes(cluster: ClusterModel): { nodes: number[]; isBackend: Uint8Array } {
  let hit = clusterBackendsCache.get(cluster.nodes);
  if (!hit) {
    const isBackend = new Uint8Array(cluster.nodes.length);
    const nodes: number[] = [];
    // Cordoned (unschedulable) nodes stay backends (kubernetes#90823): not checked on purpose.
    for (const n of cluster.nodes) {
      if (n.ready && !n.excludedFromLb && !n.missing) {
        isBackend[n.index] = 1;
        nodes.push(n.index);
      }
    }
    clusterBackendsCache.set(cluster.nodes, (hit = { nodes, isBackend }));
  }
  return hit;
}

/** Ready endpoints with no known node, counted once per pod (a dual-stack pod has two). */
function countUnplaced(endpoints: ServiceEndpoint[]): number {
  let seen: Set<string> | undefined;
  for (const ep of endpoints) if (ep.ready && ep.node < 0) (seen ??= new Set()).add(ep.pod ?? ep.ip);
  return seen?.size ?? 0;
}

const APPROXIMATION = 'an approximation: cloud controllers differ on NotReady nodes (cloud-provider-azure#4283, kubernetes#121116)';

export function nodeBackends(cluster: ClusterModel, svc: ClusterService, policy: TrafficPolicy): Backends & { kind: 'node' } {
  let isBackend: Uint8Array;
  let nodes: number[];
  if (policy === 'Local') {
    isBackend = new Uint8Array(cluster.nodes.length);
    nodes = [];
    // A dual-stack pod's two endpoints put its node in once.
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
      ? inferred(
          'BACKENDS_LOCAL_NODES',
          `externalTrafficPolicy Local: the LB's healthy backends are the ${nodes.length} node(s) with a ready endpoint, not excluded from LBs (${APPROXIMATION})`,
          'EndpointSlices (ready endpoints and their nodeName)',
          {
            evidence: { backendNodes: nodes.length },
          },
        )
      : inferred(
          'BACKENDS_CLUSTER_NODES',
          `externalTrafficPolicy Cluster: every Ready node not excluded from LBs is a backend (${nodes.length} nodes; cordoned nodes stay backends, kubernetes#90823; ${APPROXIMATION})`,
          'Node Ready conditions and the exclude-from-external-load-balancers label',
          {
            evidence: { backendNodes: nodes.length },
          },
        );
  return { kind: 'node', nodes, isBackend, reason, unplaced: policy === 'Local' ? countUnplaced(svc.endpoints) : 0 };
}

function familyOfAddress(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** The endpoint serves the Service port (its slice lists that port's name, or lists no ports). */
function servesPort(ep: ServiceEndpoint, portName: string | undefined): boolean {
  return ep.ports === undefined || ep.ports.includes(portName ?? '');
}

export function podBackends(
  cluster: ClusterModel,
  svc: ClusterService,
  annotation: string,
  ingress?: IngressPoint,
): Backends & { kind: 'pod' } {
  let candidates = svc.endpoints.filter((e) => e.ready && (ingress === undefined || servesPort(e, ingress.portName)));
  if (ingress?.ip !== undefined) {
    const family = familyOfAddress(ingress.ip);
    candidates = candidates.filter((e) => e.family === family);
  } else {
    // A hostname resolves to one family's listeners: IPv4 when the Service has IPv4 endpoints.
    const family = candidates.some((e) => e.family === 4) ? 4 : 6;
    candidates = candidates.filter((e) => e.family === family);
  }
  const seen = new Set<string>();
  const endpoints: ServiceEndpoint[] = [];
  for (const e of candidates) {
    if (seen.has(e.ip)) continue; // the same address in two slices (a slice being replaced)
    seen.add(e.ip);
    endpoints.push(e);
  }
  const perNode = new Map<number, number>();
  const nodeIpPerNode = new Map<number, number>();
  let unplaced = 0;
  for (const e of endpoints) {
    if (e.node < 0) {
      unplaced++;
      continue;
    }
    perNode.set(e.node, (perNode.get(e.node) ?? 0) + 1);
    if (cluster.nodes[e.node]!.addresses.includes(e.ip)) nodeIpPerNode.set(e.node, (nodeIpPerNode.get(e.node) ?? 0) + 1);
  }
  const where = ingress
    ? ` serving port ${ingress.portName ?? ingress.port}${ingress.ip ? ` (IPv${familyOfAddress(ingress.ip)})` : ''}`
    : '';
  const reason = inferred(
    'BACKENDS_PODS',
    `direct-to-pod backends: the LB sends to the ${endpoints.length} ready endpoint pod(s)${where} themselves`,
    `annotation ${annotation}`,
    {
      evidence: { backendPods: endpoints.length },
    },
  );
  return { kind: 'pod', endpoints, perNode, nodeIpPerNode, unplaced, reason };
}

/** Steps 4–6 for one client: how many backends the LB may choose, and how many of those loop. */
export interface BackendChoice {
  eligible: number;
  looping: number;
}

/**
 * A client pod on `node` whose packet reaches the LB with source `source`.
 * `selfIsBackend`: the client pod is itself one of the pod backends (matters when source is the pod IP).
 * The skip (docs/model.md) drops any backend whose IP is the source the LB sees: the client's own node
 * backend, the client pod itself, or a hostNetwork pod backend on the client's node under SNAT.
 */
export function chooseBackend(
  backends: Backends,
  node: number,
  source: 'pod' | 'node',
  lbSkipsSource: boolean,
  sharedPodNetwork: boolean,
  selfIsBackend = false,
  /** The client's own endpoint is among `perNode` of its node (false when it could not be placed). */
  selfPlaced = true,
): BackendChoice {
  if (backends.kind === 'node') {
    // An endpoint on an unknown node makes that node a backend too: eligible, never the client's own.
    const total = backends.nodes.length + backends.unplaced;
    const own = backends.isBackend[node] ?? 0;
    // A node-SNATed packet carries the client node's IP, which is also that node backend's IP (docs/model.md).
    if (source === 'node' && lbSkipsSource) return { eligible: total - own, looping: 0 };
    return { eligible: total, looping: own };
  }
  const total = backends.endpoints.length;
  const onNode = backends.perNode.get(node) ?? 0;
  if (source === 'node') {
    const skipped = lbSkipsSource ? (backends.nodeIpPerNode.get(node) ?? 0) : 0;
    return { eligible: total - skipped, looping: sharedPodNetwork ? onNode - skipped : 0 };
  }
  const self = selfIsBackend ? 1 : 0;
  const placedSelf = self && selfPlaced ? 1 : 0;
  if (self && lbSkipsSource) {
    return { eligible: total - 1, looping: sharedPodNetwork ? onNode - placedSelf : 0 };
  }
  // Exclusive-ENI pods answer through the VPC, so only the client itself (a hairpin) fails.
  return { eligible: total, looping: sharedPodNetwork ? onNode + self - placedSelf : self };
}
