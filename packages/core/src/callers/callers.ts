import type { ClusterAnalysis } from '../analysis/analyze';
import type { ObservedCaller } from '../analysis/evidence';
import type { IngressAnalysis, ServiceAnalysis, Verdict } from '../analysis/service';
import type { ClusterModel } from '../cluster/model';
import { formatIp, parseIp } from '../netfilter/ruleset/cidr';

/**
 * Known callers of a Service (docs/model.md#callers): client pods that name one of its LB ingress
 * addresses in their containers (declared), or that node evidence shows connecting to one
 * (observed). Their mean p is the callers' figure, the figure those who really call it suffer.
 */
export interface KnownCaller {
  /** Index into `cluster.pods`. */
  pod: number;
  ingress: { ip?: string; hostname?: string; port?: number };
  source: 'declared' | 'observed';
  where: string;
  /** p for this pod: the largest over the ingress points it may call. */
  probability: number;
}

/** Per analysis: declared addresses → the pods naming them; observed connections per Service. */
interface CallerIndex {
  declared: Map<string, Array<{ pod: number; port?: number; where: string }>>;
  observed: Map<number, ObservedCaller[]>;
}

const indexCache = new WeakMap<ClusterAnalysis, CallerIndex>();

/** Addresses compare in canonical form (`fd00::15` and `FD00:0::15` are one address). */
function canonicalHost(host: string): string {
  const ip = parseIp(host);
  return ip ? formatIp(ip) : host.toLowerCase();
}

function callerIndex(analysis: ClusterAnalysis): CallerIndex {
  let index = indexCache.get(analysis);
  if (index) return index;
  const declared: CallerIndex['declared'] = new Map();
  const pods = analysis.context.cluster.pods;
  for (let i = 0; i < pods.length; i++) {
    const pod = pods[i]!;
    if (pod.role !== 'client' || !pod.declared) continue;
    for (const a of pod.declared) {
      const key = canonicalHost(a.host);
      let list = declared.get(key);
      if (!list) declared.set(key, (list = []));
      list.push(a.port !== undefined ? { pod: i, port: a.port, where: a.where } : { pod: i, where: a.where });
    }
  }
  const observed: CallerIndex['observed'] = new Map();
  for (const o of analysis.context.evidence?.observedCallers?.() ?? []) {
    let list = observed.get(o.service);
    if (!list) observed.set(o.service, (list = []));
    list.push(o);
  }
  index = { declared, observed };
  indexCache.set(analysis, index);
  return index;
}

/** p of one client pod for one ingress point: its own (a pod backend calling its Service) or its node's. */
export function podProbability(ing: IngressAnalysis, pod: number, node: number): number {
  const own = ing.podP.get(pod);
  if (own !== undefined) return own;
  return ing.atRisk.find((r) => r.node === node)?.p ?? 0;
}

/** The Service's known callers: one entry per pod, ingress and source (declared first), highest p first. */
export function knownCallers(analysis: ClusterAnalysis, sa: ServiceAnalysis): KnownCaller[] {
  const svc = sa.service;
  if (svc.type !== 'LoadBalancer' || svc.ingresses.length === 0) return [];
  const { cluster } = analysis.context;
  const index = callerIndex(analysis);
  const out: KnownCaller[] = [];
  const seen = new Set<string>();
  const push = (c: KnownCaller): void => {
    const key = `${c.pod}|${c.source}|${c.ingress.ip ?? c.ingress.hostname}|${c.ingress.port ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
  };
  for (const ingress of svc.ingresses) {
    const address = ingress.ip ?? ingress.hostname;
    if (!address) continue;
    const addr = ingress.ip ? { ip: ingress.ip } : { hostname: ingress.hostname };
    for (const d of index.declared.get(canonicalHost(address)) ?? []) {
      // A named port must be one of the Service's; without a port, any of them.
      if (d.port !== undefined && !svc.ports.some((p) => p.port === d.port)) continue;
      const pod = cluster.pods[d.pod]!;
      if (pod.role !== 'client') continue;
      push({
        pod: d.pod,
        ingress: d.port !== undefined ? { ...addr, port: d.port } : addr,
        source: 'declared',
        where: d.where,
        probability: callerP(sa, d.pod, pod.node, address, d.port),
      });
    }
  }
  for (const o of index.observed.get(svc.index) ?? []) {
    const pod = cluster.pods[o.pod];
    if (!pod || pod.role !== 'client') continue;
    push({
      pod: o.pod,
      ingress: { ip: o.ip, port: o.port },
      source: 'observed',
      where: o.where,
      probability: callerP(sa, o.pod, pod.node, o.ip, o.port),
    });
  }
  return out.sort((a, b) => b.probability - a.probability || (a.source === b.source ? 0 : a.source === 'declared' ? -1 : 1));
}

/** The largest p over the ingress points at this address (and port, when known). */
function callerP(sa: ServiceAnalysis, pod: number, node: number, address: string, port: number | undefined): number {
  const key = canonicalHost(address);
  let p = 0;
  for (const ing of sa.ingresses) {
    const a = ing.ingress.ip ?? ing.ingress.hostname;
    if (!a || canonicalHost(a) !== key || (port !== undefined && ing.ingress.port !== port)) continue;
    p = Math.max(p, podProbability(ing, pod, node));
  }
  return p;
}

/**
 * The callers' figure: the mean p over the known callers (each pod once, at its highest p); null
 * without callers, and null for a Service whose verdict is unknown (its p cannot be computed from
 * the input: 0 would read as safe).
 */
export function callersProbability(callers: KnownCaller[], verdict?: Verdict): number | null {
  if (callers.length === 0 || verdict === 'unknown') return null;
  const byPod = new Map<number, number>();
  for (const c of callers) byPod.set(c.pod, Math.max(byPod.get(c.pod) ?? 0, c.probability));
  let sum = 0;
  for (const p of byPod.values()) sum += p;
  return sum / byPod.size;
}

/** Nodes the known callers run on (for "13 callers on 2 nodes"). */
export function callerNodes(cluster: ClusterModel, callers: KnownCaller[]): string[] {
  return [...new Set(callers.map((c) => cluster.pods[c.pod]!.node))].filter((n) => n >= 0).map((n) => cluster.nodes[n]!.name);
}
