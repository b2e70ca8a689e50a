import type { Workload } from '../cluster/model';
import type { IngressPoint } from './ingress';
import type { AnalysisContext, IngressAnalysis, NodeRisk, ServiceAnalysis } from './service';

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

/**
 * The sum of p over the client pods of one workload on one at-risk node of an ingress point: the
 * node's p for each pod, corrected for pods that are themselves backends (their own p). The callers
 * loop over `ing.atRisk` × each node's client workloads themselves: the report builds a link of
 * each sum, explain and the move-clients fix only add them up (no link objects).
 */
export class LinkSums {
  private readonly stride: number;
  /** (node × stride + workload) → Σ (own p − node p) of that workload's backend pods on that node. */
  private readonly corrections: Map<number, number> | undefined;

  constructor(ctx: AnalysisContext, ing: IngressAnalysis) {
    const { cluster } = ctx;
    this.stride = cluster.workloads.length + 1;
    let corrections: Map<number, number> | undefined;
    for (const [podIndex, p] of ing.podP) {
      const pod = cluster.pods[podIndex]!;
      const base = ing.atRisk.find((r) => r.node === pod.node)?.p ?? 0;
      const key = pod.node * this.stride + pod.workload;
      corrections ??= new Map();
      corrections.set(key, (corrections.get(key) ?? 0) + (p - base));
    }
    this.corrections = corrections;
  }

  /** Σ p of `pods` client pods of `workload` on the at-risk node `risk` (0: not a link). */
  sum(risk: NodeRisk, workload: number, pods: number): number {
    return risk.p * pods + (this.corrections?.get(risk.node * this.stride + workload) ?? 0);
  }
}

/** Links of one ingress point: every workload with client pods on an at-risk node. */
export function ingressLinks(ctx: AnalysisContext, sa: ServiceAnalysis, ing: IngressAnalysis): Link[] {
  const sums = new LinkSums(ctx, ing);
  const links: Link[] = [];
  for (const risk of ing.atRisk) {
    let backend: Link['backend'] | undefined; // one per node, shared by its links
    for (const [workload, pods] of ctx.cluster.nodes[risk.node]!.clientWorkloads) {
      const sum = sums.sum(risk, workload, pods);
      if (sum <= 0) continue;
      backend ??= backendOn(sa, risk.node, ing.ingress);
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

/** Every workload with client pods on an at-risk node, most affected first, with all its nodes (the report). */
export function affectedWorkloads(ctx: AnalysisContext, links: Link[]): AffectedWorkload[] {
  const tally = new WorkloadTally(ctx, Infinity, true);
  for (const l of links) tally.add(l.node, l.workload, l.pods, l.probability);
  return tally.top(Infinity).workloads;
}

/**
 * The `limit` most affected workloads of some ingress points (highest p, then most pods), each with
 * at most `limit` nodes, and how many there are in all. Explain shows five of each, counted
 * without building the links or naming every workload's every node: that was most of an explain's
 * garbage, which sets its p99 on a large cluster (young-generation scavenges).
 */
export function topAffectedWorkloads(
  ctx: AnalysisContext,
  ingresses: readonly IngressAnalysis[],
  limit: number,
): { workloads: AffectedWorkload[]; count: number } {
  const tally = new WorkloadTally(ctx, limit, ingresses.length > 1);
  for (const ing of ingresses) {
    const sums = new LinkSums(ctx, ing);
    for (const risk of ing.atRisk)
      for (const [workload, pods] of ctx.cluster.nodes[risk.node]!.clientWorkloads) {
        const sum = sums.sum(risk, workload, pods);
        if (sum > 0) tally.add(risk.node, workload, pods, sum / pods);
      }
  }
  return tally.top(limit);
}

/**
 * Client pods per workload over links. Over several ingress points the same pods appear once per
 * point and are counted once (a set of (workload, node) keys); one point lists each pair once.
 */
class WorkloadTally {
  private readonly byWorkload = new Map<number, { index: number; pods: number; max: number; nodes: number[] }>();
  private readonly counted: Set<number> | undefined;
  private readonly stride: number;

  constructor(
    private readonly ctx: AnalysisContext,
    private readonly nodesEach: number,
    severalIngressPoints: boolean,
  ) {
    this.stride = ctx.cluster.nodes.length + 1;
    this.counted = severalIngressPoints ? new Set() : undefined;
  }

  add(node: number, workload: number, pods: number, probability: number): void {
    let w = this.byWorkload.get(workload);
    if (!w) this.byWorkload.set(workload, (w = { index: workload, pods: 0, max: 0, nodes: [] }));
    const key = workload * this.stride + node;
    if (!this.counted?.has(key)) {
      this.counted?.add(key);
      w.pods += pods;
      if (w.nodes.length < this.nodesEach) w.nodes.push(node);
    }
    if (probability > w.max) w.max = probability;
  }

  top(limit: number): { workloads: AffectedWorkload[]; count: number } {
    const ranked = [...this.byWorkload.values()].sort((a, b) => b.max - a.max || b.pods - a.pods);
    const workloads: AffectedWorkload[] = [];
    for (const w of ranked.length > limit ? ranked.slice(0, limit) : ranked)
      workloads.push({
        workload: this.ctx.cluster.workloads[w.index]!,
        pods: w.pods,
        nodes: w.nodes.map((n) => this.ctx.cluster.nodes[n]!.name),
        maxProbability: w.max,
      });
    return { workloads, count: ranked.length };
  }
}
