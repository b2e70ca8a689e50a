import type { Workload } from '../cluster/model';
import type { IngressPoint } from './ingress';
import type { AnalysisContext, IngressAnalysis, ServiceAnalysis } from './service';

/** Client pods of one workload on one node calling one ingress point, with p > 0 (docs/model.md "links"). */
export interface Link {
  node: number;
  workload: number;
  pods: number;
  /** Mean p over those pods. */
  probability: number;
  ingress: IngressPoint;
  /** The backend(s) the looping connections land on: the client's own node, or pods on it. */
  backend: { kind: 'node'; node: string; nodePort?: number } | { kind: 'pod'; pods: string[] };
}

export interface AffectedWorkload {
  workload: Workload;
  /** Client pods of the workload on at-risk nodes. */
  pods: number;
  nodes: string[];
  /** The highest p any of its pods has. */
  maxProbability: number;
}

/** Links of one ingress point: every workload with client pods on an at-risk node. */
export function ingressLinks(ctx: AnalysisContext, sa: ServiceAnalysis, ing: IngressAnalysis): Link[] {
  const { cluster } = ctx;
  const corrections = new Map<string, number>();
  for (const [podIndex, p] of ing.podP) {
    const pod = cluster.pods[podIndex]!;
    const base = ing.atRisk.find((r) => r.node === pod.node)?.p ?? 0;
    const key = `${pod.node}:${pod.workload}`;
    corrections.set(key, (corrections.get(key) ?? 0) + (p - base));
  }
  const links: Link[] = [];
  for (const risk of ing.atRisk) {
    const node = cluster.nodes[risk.node]!;
    const backend = backendOn(sa, risk.node, ing.ingress);
    for (const [workload, pods] of node.clientWorkloads) {
      const sum = risk.p * pods + (corrections.get(`${risk.node}:${workload}`) ?? 0);
      if (sum <= 0) continue;
      links.push({ node: risk.node, workload, pods, probability: sum / pods, ingress: ing.ingress, backend });
    }
  }
  return links;
}

function backendOn(sa: ServiceAnalysis, node: number, ingress: IngressPoint): Link['backend'] {
  const b = sa.backends;
  if (b?.kind === 'pod') {
    return { kind: 'pod', pods: b.endpoints.filter((e) => e.node === node).map((e) => e.pod ?? e.ip) };
  }
  return { kind: 'node', node: '', nodePort: ingress.nodePort };
}

const linksCache = new WeakMap<ServiceAnalysis, Link[]>();

/**
 * All links of a Service (every ingress point), with node names filled in. Cached per analysis of
 * the Service: explain, its move-clients fix and the report all ask for the same list. Callers
 * must not change it.
 */
export function serviceLinks(ctx: AnalysisContext, sa: ServiceAnalysis): Link[] {
  const cached = linksCache.get(sa);
  if (cached) return cached;
  const links = computeServiceLinks(ctx, sa);
  linksCache.set(sa, links);
  return links;
}

function computeServiceLinks(ctx: AnalysisContext, sa: ServiceAnalysis): Link[] {
  const links: Link[] = [];
  for (const ing of sa.ingresses) {
    for (const l of ingressLinks(ctx, sa, ing)) {
      if (l.backend.kind === 'node') l.backend = { ...l.backend, node: ctx.cluster.nodes[l.node]!.name };
      links.push(l);
    }
  }
  return links;
}

/** Nodes with p > 0 that run client pods, over all ingress points (docs/model.md "at-risk node"). */
export function atRiskNodes(sa: ServiceAnalysis): number[] {
  const nodes = new Set<number>();
  for (const ing of sa.ingresses) for (const r of ing.atRisk) if (r.clientPods > 0) nodes.add(r.node);
  return [...nodes];
}

export function affectedWorkloads(ctx: AnalysisContext, links: Link[]): AffectedWorkload[] {
  // Explain and the report call this per Service: one small record per workload and one set of
  // (workload, node) keys, not a Map per workload and the spreads over it (explain's largest garbage).
  const byWorkload = new Map<number, { pods: number; max: number; nodes: number[] }>();
  const stride = ctx.cluster.nodes.length + 1;
  const counted = new Set<number>();
  for (const l of links) {
    let w = byWorkload.get(l.workload);
    if (!w) byWorkload.set(l.workload, (w = { pods: 0, max: 0, nodes: [] }));
    // The same pods appear once per ingress point: count each node's pods once.
    const key = l.workload * stride + l.node;
    if (!counted.has(key)) {
      counted.add(key);
      w.pods += l.pods;
      w.nodes.push(l.node);
    }
    if (l.probability > w.max) w.max = l.probability;
  }
  const out: AffectedWorkload[] = [];
  for (const [index, w] of byWorkload) {
    out.push({
      workload: ctx.cluster.workloads[index]!,
      pods: w.pods,
      nodes: w.nodes.map((n) => ctx.cluster.nodes[n]!.name),
      maxProbability: w.max,
    });
  }
  return out.sort((a, b) => b.maxProbability - a.maxProbability || b.pods - a.pods);
}
