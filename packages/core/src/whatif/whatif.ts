import { analyzeService, createContext, type AnalysisContext, type ServiceAnalysis, type Verdict } from '../analysis/service';
import { LinkSums } from '../analysis/exposure';
import type { ClusterAnalysis } from '../analysis/analyze';
import type { ClusterModel, ClusterService, IpMode, TrafficPolicy } from '../cluster/model';
import { workloadLabel } from '../cluster/workloads';
import { detectProfile } from '../profile/profile';
import { ANNOTATION } from '../profile/signals';
import { imageTag, parseKubeVersion, tkeBuildStatus, TKE_FIXED_BUILDS, type KubeVersion } from '../profile/versions';
import { worstClientProbability } from '../analysis/worstClient';
import { podProbability } from '../callers/callers';
import { LoopscopeError } from '../error/loopscopeError';
import { findService } from './serviceRef';

/** A change to try. Service-level changes name the Service as `namespace/name` or a unique `name`. */
export type WhatIfChange =
  | { kind: 'trafficPolicy'; service: string; value: TrafficPolicy }
  | { kind: 'ipMode'; service: string; value: IpMode }
  | { kind: 'preventLoopback'; service: string; value: boolean }
  /** A kube-proxy build on some nodes (all when `nodes` is absent); `tke-fixed` = the first fixed build of each node's line (docs/model.md). */
  | { kind: 'kubeProxyVersion'; version: string; nodes?: string[] }
  /* `tke-fixed` never moves a node to an older build: a node already on a build with the bind keeps it (docs/model.md). */
  /** Keep client pods off the Service's at-risk nodes (anti-affinity): those of `workloads`, or all affected ones. */
  | { kind: 'moveClients'; service: string; workloads?: string[] }
  /** Clients call the ClusterIP / cluster DNS name: no LB hop at all. */
  | { kind: 'callViaClusterIP'; service: string };

export interface WhatIfFigure {
  verdict: Verdict;
  probability: number;
  /** The largest p over the client pods (the headline figure); absent only where not computed. */
  worstClientProbability?: number;
}

export interface WhatIfServiceResult {
  namespace: string;
  name: string;
  before: WhatIfFigure;
  after: WhatIfFigure;
}

export interface WhatIfResult {
  changes: WhatIfChange[];
  /** Services whose figure or verdict changed, then the named ones even if unchanged. */
  services: WhatIfServiceResult[];
}

/**
 * Applies the changes to a copy of the cluster and re-analyses what they can move: the named
 * Services, or every LB Service when a node-wide change (kube-proxy build) is made.
 */
export function whatIf(analysis: ClusterAnalysis, changes: WhatIfChange[], options: { onlyService?: number } = {}): WhatIfResult {
  const { cluster } = analysis.context;
  const services = new Map<number, ClusterService>();
  const named = new Set<number>();
  // Several moveClients on one Service compose: the union of their workloads (all when one names none).
  const moves = new Map<number, { workloads?: Set<string> }>();
  const viaClusterIP = new Set<number>();
  const datapathEdited = new Set<number>();
  const upgrades: Array<{ version: string; nodes?: string[] }> = [];

  const editable = (ref: string): ClusterService => {
    const svc = findService(cluster, ref);
    if (!svc.ok) throw new LoopscopeError(svc.code, svc.message, svc.suggestions);
    named.add(svc.service.index);
    let copy = services.get(svc.service.index);
    if (!copy) {
      copy = { ...svc.service, annotations: { ...svc.service.annotations }, ingresses: svc.service.ingresses.map((i) => ({ ...i })) };
      services.set(copy.index, copy);
    }
    return copy;
  };

  for (const change of changes) {
    switch (change.kind) {
      case 'trafficPolicy': {
        const svc = editable(change.service);
        datapathEdited.add(svc.index);
        svc.trafficPolicy = change.value;
        break;
      }
      case 'ipMode': {
        const svc = editable(change.service);
        datapathEdited.add(svc.index);
        for (const i of svc.ingresses) i.ipMode = change.value;
        break;
      }
      case 'preventLoopback': {
        const svc = editable(change.service);
        datapathEdited.add(svc.index);
        if (change.value) svc.annotations[ANNOTATION.tkePreventLoopback] = 'true';
        else delete svc.annotations[ANNOTATION.tkePreventLoopback];
        break;
      }
      case 'kubeProxyVersion':
        upgrades.push({ version: change.version, nodes: change.nodes });
        break;
      case 'moveClients': {
        const index = editable(change.service).index;
        const prev = moves.get(index);
        if (!change.workloads || (prev && !prev.workloads)) moves.set(index, {});
        else moves.set(index, { workloads: new Set([...(prev?.workloads ?? []), ...change.workloads]) });
        break;
      }
      case 'callViaClusterIP': {
        const svc = editable(change.service);
        if (!svc.clusterIP)
          throw new LoopscopeError(
            'CHANGE_INVALID',
            `${svc.namespace}/${svc.name} has no ClusterIP (headless): clients cannot call it that way`,
          );
        viaClusterIP.add(svc.index);
        break;
      }
    }
  }

  // The changed Services are handed to analyzeService directly: no copy of the Service list.
  let context = upgrades.length > 0 ? upgradedNodes(analysis, upgrades) : analysis.context;
  // Node dumps show today's rules; a change to the datapath makes them stale, so the prediction
  // after it rests on the profile alone.
  const datapathChanged =
    upgrades.length > 0 || changes.some((c) => c.kind === 'trafficPolicy' || c.kind === 'ipMode' || c.kind === 'preventLoopback');
  if (datapathChanged && context.evidence) context = createContext(context.cluster, context.profile);
  const serviceAt = (index: number): ClusterService => services.get(index) ?? context.cluster.services[index]!;

  const isLb = (i: number): boolean => cluster.services[i]!.type === 'LoadBalancer';
  let affected: number[];
  if (options.onlyService !== undefined)
    affected = named.has(options.onlyService) || (upgrades.length > 0 && isLb(options.onlyService)) ? [options.onlyService] : [];
  else affected = upgrades.length > 0 ? cluster.services.filter((s) => isLb(s.index)).map((s) => s.index) : [...named];
  const results: WhatIfServiceResult[] = [];
  for (const index of affected) {
    const before = analysis.services[index]!;
    // Nothing to re-analyse when the datapath is as before (only clients move, or skip the LB).
    const unchanged = upgrades.length === 0 && !datapathEdited.has(index);
    const analysed: ServiceAnalysis = viaClusterIP.has(index) || unchanged ? before : analyzeService(context, serviceAt(index));
    const move = moves.get(index);
    let a: WhatIfFigure = move ? moveClients(context, analysed, move.workloads) : figureOf(analysed);
    if (viaClusterIP.has(index)) a = { verdict: 'safe', probability: 0, worstClientProbability: 0 };
    if (!named.has(index) && a.verdict === before.verdict && a.probability === before.probability) continue;
    results.push({ namespace: before.service.namespace, name: before.service.name, before: figureOf(before), after: a });
  }
  return { changes, services: results };
}

/**
 * The cluster with new kube-proxy builds and its re-detected profile. Cached per analysis: every
 * Service's TKE fix asks for the same upgrade, and re-detecting costs a pass over the nodes.
 */
const upgradeCache = new WeakMap<ClusterAnalysis, Map<string, AnalysisContext>>();

function upgradedNodes(analysis: ClusterAnalysis, upgrades: Array<{ version: string; nodes?: string[] }>): AnalysisContext {
  const key = JSON.stringify(upgrades);
  let cache = upgradeCache.get(analysis);
  if (!cache) upgradeCache.set(analysis, (cache = new Map()));
  const hit = cache.get(key);
  if (hit) return hit;
  const { cluster } = analysis.context;
  let nodeVersions: Map<number, string> | undefined;
  for (const u of upgrades) nodeVersions = kubeProxyVersions(cluster, u.version, u.nodes, nodeVersions);
  if (!nodeVersions) throw new LoopscopeError('CHANGE_INVALID', 'no kube-proxy change');
  const changed: ClusterModel = {
    ...cluster,
    nodes: cluster.nodes.map((n) => (nodeVersions.has(n.index) ? { ...n, kubeProxyVersion: nodeVersions.get(n.index) } : n)),
    kubeProxy: {
      ...cluster.kubeProxy,
      pods: cluster.kubeProxy.pods.map((p) =>
        nodeVersions.has(p.node) ? { ...p, image: withTag(p.image, nodeVersions.get(p.node)!) } : p,
      ),
    },
  };
  const context = createContext(changed, detectProfile(changed, analysis.overrides));
  cache.set(key, context);
  return context;
}

function figureOf(sa: ServiceAnalysis): WhatIfFigure {
  return { verdict: sa.verdict, probability: sa.probability, worstClientProbability: worstClientProbability(sa) };
}

/**
 * Anti-affinity as it would play out (docs/model.md#fixes): the affected client pods of the chosen
 * workloads move to Ready nodes that hold no backend of the Service, where their p is 0 (no backend
 * of theirs on their node); the Service's own endpoint pods stay where they are, with their p. With
 * node backends on every node (`Cluster`), or no node free of endpoints, nothing moves. The
 * denominator (all client pods) is unchanged.
 */
function moveClients(context: AnalysisContext, sa: ServiceAnalysis, workloads: Set<string> | undefined): WhatIfFigure {
  const before = figureOf(sa);
  const total = context.cluster.clientPodCount;
  if (total === 0 || sa.probability === 0 || freeNodes(context, sa) === 0) return before;
  const { cluster } = context;
  const wanted = workloads ? new Set([...workloads].map((w) => w.toLowerCase())) : undefined;
  const matches = (index: number): boolean => {
    if (!wanted) return true;
    const w = cluster.workloads[index]!;
    return wanted.has(workloadLabel(w)) || wanted.has(`${w.namespace}/${w.name}`.toLowerCase()) || wanted.has(w.name.toLowerCase());
  };
  // The Service's own endpoint pods that are clients: they stay.
  const staying: number[] = [];
  for (const e of sa.service.endpoints) {
    const pod = cluster.podByEndpointIp.get(e.ip);
    if (pod !== undefined && matches(cluster.pods[pod]!.workload)) staying.push(pod);
  }
  let probability = 0;
  let worst = 0;
  for (const ing of sa.ingresses) {
    // Σ p of the moving client pods; when every workload moves that is the ingress's loop sum.
    let removed = wanted ? 0 : ing.loopSum;
    if (wanted) {
      const sums = new LinkSums(context, ing);
      for (const risk of ing.atRisk)
        for (const [workload, pods] of cluster.nodes[risk.node]!.clientWorkloads)
          if (matches(workload)) removed += Math.max(0, sums.sum(risk, workload, pods));
    }
    const stayingOnNode = new Map<number, number>();
    for (const pod of staying) {
      const node = cluster.pods[pod]!.node;
      const p = podProbability(ing, pod, node);
      removed -= p;
      if (p > worst) worst = p;
      stayingOnNode.set(node, (stayingOnNode.get(node) ?? 0) + 1);
    }
    probability = Math.max(probability, Math.max(0, ing.probability - removed / total));
    // The worst-placed pod left on an at-risk node (pods of other workloads keep their node's p).
    for (const r of ing.atRisk) {
      if (r.p <= worst) continue;
      let left = 0;
      for (const [w, n] of cluster.nodes[r.node]!.clientWorkloads) if (!matches(w)) left += n;
      if (left > 0) worst = r.p;
    }
  }
  probability = Math.round(probability * 1e12) / 1e12;
  if (probability === 0) worst = 0;
  return { verdict: probability > 0 ? 'loopback' : 'safe', probability, worstClientProbability: worst };
}

/**
 * Ready nodes a moved client can go to: none for node backends under `Cluster` (every Ready node is
 * a backend), else those without a ready endpoint of the Service.
 */
export function freeNodes(context: AnalysisContext, sa: ServiceAnalysis): number {
  const b = sa.backends;
  if (!b) return 0;
  if (b.kind === 'node' && sa.service.trafficPolicy !== 'Local') return 0;
  const held = new Set<number>();
  for (const e of sa.service.endpoints) if (e.ready && e.node >= 0) held.add(e.node);
  let free = 0;
  for (const n of context.cluster.nodes) if (n.ready && !held.has(n.index)) free++;
  return free;
}

function kubeProxyVersions(
  cluster: ClusterModel,
  version: string,
  nodes: string[] | undefined,
  prev: Map<number, string> | undefined,
): Map<number, string> {
  const out = new Map(prev);
  const indices = nodes
    ? nodes.map((name) => {
        const i = cluster.nodeByName.get(name);
        if (i === undefined) throw new LoopscopeError('NOT_FOUND', `node "${name}" is not in the snapshot`);
        return i;
      })
    : cluster.nodes.map((n) => n.index);
  // Each node's kube-proxy pod, found once (a search per node is quadratic at 5,000 nodes).
  const proxyPods = version === 'tke-fixed' ? new Map(cluster.kubeProxy.pods.map((p) => [p.node, p] as const).reverse()) : undefined;
  for (const i of indices) {
    if (proxyPods) {
      const fixed = fixedBuildFor(currentKubeProxyVersion(cluster, i, proxyPods.get(i)));
      if (fixed) out.set(i, fixed);
    } else {
      if (!parseKubeVersion(version))
        throw new LoopscopeError('CHANGE_INVALID', `kube-proxy version "${version}" is not of the form v1.20.6-tke.12`);
      out.set(i, version);
    }
  }
  return out;
}

/** The node's kube-proxy build as the profile reads it: its kube-proxy pod's image, else the node status, else the DaemonSet's image. */
function currentKubeProxyVersion(
  cluster: ClusterModel,
  node: number,
  pod: ClusterModel['kubeProxy']['pods'][number] | undefined,
): KubeVersion | undefined {
  return (
    parseKubeVersion(imageTag(pod?.image)) ??
    parseKubeVersion(cluster.nodes[node]!.kubeProxyVersion) ??
    parseKubeVersion(imageTag(cluster.kubeProxy.daemonSet?.image))
  );
}

/**
 * The build `tke-fixed` moves a node to, or undefined to keep the one it runs: a build that already
 * binds (any line newer than 1.20, or at or past its line's fix) stays; an older build of a listed
 * line moves up to that line's fixed build; a line the Tencent Cloud doc does not list moves up to
 * the next listed line above it; an upstream build (no -tke suffix) is kept (it binds every LB IP);
 * an unknown version gets the newest listed fixed build.
 */
export function fixedBuildFor(current: KubeVersion | undefined): string | undefined {
  const label = (b: { minor: number; patch: number; tke: number }): string => `v1.${b.minor}.${b.patch}-tke.${b.tke}`;
  const newest = TKE_FIXED_BUILDS.reduce((a, b) => (b.minor > a.minor ? b : a));
  if (!current) return label(newest);
  // An upstream build already binds every LB IP; a fixed TKE build binds for annotated Services.
  if (current.tke === undefined || tkeBuildStatus(current) === 'fixed') return undefined;
  if (current.major > 1 || current.minor > newest.minor) return undefined; // newer lines bind (docs/model.md); never downgrade
  const same = TKE_FIXED_BUILDS.find((b) => b.minor === current.minor);
  if (same) return label(same);
  const above = TKE_FIXED_BUILDS.filter((b) => b.minor > current.minor).reduce<(typeof TKE_FIXED_BUILDS)[number] | undefined>(
    (a, b) => (!a || b.minor < a.minor ? b : a),
    undefined,
  );
  return label(above ?? newest);
}

function withTag(image: string | undefined, tag: string): string {
  const repo = (image ?? 'kube-proxy').split('@')[0]!;
  const slash = repo.lastIndexOf('/');
  const colon = repo.lastIndexOf(':');
  return `${colon > slash ? repo.slice(0, colon) : repo}:${tag}`;
}
