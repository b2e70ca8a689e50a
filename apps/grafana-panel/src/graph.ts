/**
 * Links → the three-column graph the panel draws: client (node or workload) → LB ingress → Service.
 * Pure, so large inputs can be tested without rendering.
 */
import { LinksOptions, LoopLink, ServiceSummary } from './types';

export interface ClientNode {
  id: string;
  label: string;
  sublabel: string;
  /** Summed over the grouped links, when the frames carry pod counts. */
  pods?: number;
}

export interface IngressNode {
  id: string;
  label: string;
  serviceId: string;
}

export interface ServiceNode {
  id: string;
  namespace: string;
  service: string;
  verdict?: string;
  /** Cluster exposure. */
  ratio?: number;
  /** The headline: the worst-placed client pod's figure (from the exporter, else the largest link drawn). */
  worstClient?: number;
  knownCallers?: number;
  callersRatio?: number;
  looping: boolean;
}

/** One client → Service edge (through the Service's ingress), the highest probability among its links. */
export interface GraphEdge {
  id: string;
  clientId: string;
  ingressId: string;
  serviceId: string;
  probability: number;
  /** Probability at or above the panel's minimum: drawn as looping. */
  looping: boolean;
  links: LoopLink[];
}

export interface LinkGraph {
  clients: ClientNode[];
  ingresses: IngressNode[];
  services: ServiceNode[];
  edges: GraphEdge[];
  /** Edges left out by maxLinks. */
  omitted: number;
  totalEdges: number;
}

export function serviceId(namespace: string, service: string): string {
  return `${namespace}/${service}`;
}

function clientOf(link: LoopLink, by: LinksOptions['groupClientsBy']): { id: string; label: string; sublabel: string } {
  if (by === 'node') {
    return { id: `node:${link.node}`, label: link.node, sublabel: 'node' };
  }
  const id = `wl:${link.clientNamespace}/${link.clientKind}/${link.clientWorkload}`;
  return { id, label: `${link.clientNamespace}/${link.clientWorkload}`, sublabel: link.clientKind };
}

export function buildGraph(links: LoopLink[], services: ServiceSummary[], options: LinksOptions): LinkGraph {
  const edgesById = new Map<string, GraphEdge>();
  const clientInfo = new Map<string, ClientNode>();
  const podsSeen = new Map<string, Set<string>>();
  for (const link of links) {
    const looping = link.probability > 0 && link.probability >= options.minProbability;
    if (!looping && !options.showSafe) {
      continue;
    }
    const client = clientOf(link, options.groupClientsBy);
    const svc = serviceId(link.namespace, link.service);
    const ingressId = `${link.ingressIp}:${link.port}|${svc}`;
    const id = `${client.id}->${ingressId}`;
    const edge = edgesById.get(id) ?? { id, clientId: client.id, ingressId, serviceId: svc, probability: 0, looping: false, links: [] };
    edge.probability = Math.max(edge.probability, link.probability);
    edge.looping = edge.looping || looping;
    edge.links.push(link);
    edgesById.set(id, edge);
    const node = clientInfo.get(client.id) ?? { ...client };
    if (link.pods !== undefined) {
      // The same workload on one node appears once per Service: count its pods once.
      const key = `${link.node}|${link.clientNamespace}/${link.clientKind}/${link.clientWorkload}`;
      const seen = podsSeen.get(client.id) ?? new Set<string>();
      if (!seen.has(key)) {
        seen.add(key);
        node.pods = (node.pods ?? 0) + link.pods;
      }
      podsSeen.set(client.id, seen);
    }
    clientInfo.set(client.id, node);
  }
  const all = [...edgesById.values()].sort(
    (a, b) => Number(b.looping) - Number(a.looping) || b.probability - a.probability || a.id.localeCompare(b.id),
  );
  const limit = Math.max(1, Math.floor(options.maxLinks));
  const edges = all.slice(0, limit);

  const summaries = new Map(services.map((s) => [serviceId(s.namespace, s.service), s]));
  const clients = new Map<string, ClientNode>();
  const ingresses = new Map<string, IngressNode>();
  const serviceNodes = new Map<string, ServiceNode>();
  const addService = (id: string, namespace: string, service: string): ServiceNode => {
    const existing = serviceNodes.get(id);
    if (existing) {
      return existing;
    }
    const s = summaries.get(id);
    const node: ServiceNode = {
      id,
      namespace,
      service,
      looping: false,
      ...(s?.verdict !== undefined ? { verdict: s.verdict } : {}),
      ...(s?.ratio !== undefined ? { ratio: s.ratio } : {}),
      ...(s?.worstClient !== undefined ? { worstClient: s.worstClient } : {}),
      ...(s?.knownCallers !== undefined ? { knownCallers: s.knownCallers } : {}),
      ...(s?.callersRatio !== undefined ? { callersRatio: s.callersRatio } : {}),
    };
    serviceNodes.set(id, node);
    return node;
  };
  for (const edge of edges) {
    const first = edge.links[0]!;
    clients.set(edge.clientId, clientInfo.get(edge.clientId)!);
    ingresses.set(edge.ingressId, {
      id: edge.ingressId,
      label: first.port ? `${first.ingressIp}:${first.port}` : first.ingressIp,
      serviceId: edge.serviceId,
    });
    const svc = addService(edge.serviceId, first.namespace, first.service);
    svc.looping = svc.looping || edge.looping;
    // Without the exporter's figure, the largest link p is a workload's on one node: a lower bound.
    if (summaries.get(edge.serviceId)?.worstClient === undefined && edge.looping)
      svc.worstClient = Math.max(svc.worstClient ?? 0, edge.probability);
  }
  if (options.showSafe) {
    for (const s of services) {
      const id = serviceId(s.namespace, s.service);
      if (!serviceNodes.has(id) && s.ingressIp) {
        addService(id, s.namespace, s.service);
        const ingressId = `${s.ingressIp}:${s.port}|${id}`;
        ingresses.set(ingressId, { id: ingressId, label: s.port ? `${s.ingressIp}:${s.port}` : s.ingressIp, serviceId: id });
      }
    }
  }
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  // Worst client first: the headline figure orders the Services column and the list.
  const serviceList = [...serviceNodes.values()].sort(
    (a, b) => Number(b.looping) - Number(a.looping) || (b.worstClient ?? 0) - (a.worstClient ?? 0) || byId(a, b),
  );
  const order = new Map(serviceList.map((s, i) => [s.id, i]));
  const ingressList = [...ingresses.values()].sort((a, b) => order.get(a.serviceId)! - order.get(b.serviceId)! || byId(a, b));
  // Clients next to the first ingress they reach, so edges cross less.
  const ingressOrder = new Map(ingressList.map((ing, i) => [ing.id, i]));
  const clientRank = new Map<string, number>();
  for (const e of edges) {
    clientRank.set(e.clientId, Math.min(clientRank.get(e.clientId) ?? Infinity, ingressOrder.get(e.ingressId)!));
  }
  return {
    clients: [...clients.values()].sort((a, b) => clientRank.get(a.id)! - clientRank.get(b.id)! || byId(a, b)),
    ingresses: ingressList,
    services: serviceList,
    edges,
    omitted: all.length - edges.length,
    totalEdges: all.length,
  };
}
