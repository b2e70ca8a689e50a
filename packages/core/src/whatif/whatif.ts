import { analyzeService, createContext, type AnalysisContext, type ServiceAnalysis, type Verdict } from '../analysis/service';
import { serviceLinks } from '../analysis/exposure';
import type { ClusterAnalysis } from '../analysis/analyze';
import type { ClusterModel, ClusterService, IpMode, TrafficPolicy } from '../cluster/model';
import { workloadLabel } from '../cluster/workloads';
import { detectProfile } from '../profile/profile';
import { ANNOTATION } from '../profile/signals';
import { parseKubeVersion, TKE_FIXED_BUILDS } from '../profile/versions';
import { LoopscopeError } from '../error/loopscopeError';
import { findService } from './serviceRef';

/** A change to try. Service-level changes name the Service as `namespace/name` or a unique `name`. */
export type WhatIfChange =
  | { kind: 'trafficPolicy'; service: string; value: TrafficPolicy }
  | { kind: 'ipMode'; service: string; value: IpMode }
  | { kind: 'preventLoopback'; service: string; value: boolean }
  /** A kube-proxy build on some nodes (all when `nodes` is absent); `tke-fixed` = the first fixed build of each node's line (F3). */
  | { kind: 'kubeProxyVersion'; version: string; nodes?: string[] }
  /** Keep client pods off the Service's at-risk nodes (anti-affinity): those of `workloads`, or all affected ones. */
  | { kind: 'moveClients'; service: string; workloads?: string[] }
  /** Clients call the ClusterIP / cluster DNS name: no LB hop at all. */
  | { kind: 'callViaClusterIP'; service: string };

export interface WhatIfFigure {
  verdict: Verdict;
  probability: number;
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
  const moves: Array<{ service: number; workloads?: string[] }> = [];
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
      case 'moveClients':
        editable(change.service);
        moves.push({ service: findService(cluster, change.service).service!.index, workloads: change.workloads });
        break;
      case 'callViaClusterIP': {
        const svc = editable(change.service);
        if (!svc.clusterIP) throw new LoopscopeError('CHANGE_INVALID', `${svc.namespace}/${svc.name} has no ClusterIP (headless): clients cannot call it that way`);
        viaClusterIP.add(svc.index);
        break;
      }
    }
  }

  // The changed Services are handed to analyzeService directly: no copy of the Service list.
  let context = upgrades.length > 0 ? upgradedNodes(analysis, upgrades) : analysis.context;
  // Node dumps show today's rules; a change to the datapath makes them stale, so the prediction
  // after it rests on the profile alone.
  const datapathChanged = upgrades.length > 0 || changes.some((c) => c.kind === 'trafficPolicy' || c.kind === 'ipMode' || c.kind === 'preventLoopback');
  if (datapathChanged && context.evidence) context = createContext(context.cluster, context.profile);
  const serviceAt = (index: number): ClusterService => services.get(index) ?? context.cluster.services[index]!;

  const isLb = (i: number): boolean => cluster.services[i]!.type === 'LoadBalancer';
  let affected: number[];
  if (options.onlyService !== undefined) affected = named.has(options.onlyService) || (upgrades.length > 0 && isLb(options.onlyService)) ? [options.onlyService] : [];
  else affected = upgrades.length > 0 ? cluster.services.filter((s) => isLb(s.index)).map((s) => s.index) : [...named];
  const results: WhatIfServiceResult[] = [];
  for (const index of affected) {
    const before = analysis.services[index]!;
    // Nothing to re-analyse when the datapath is as before (only clients move, or skip the LB).
    const unchanged = upgrades.length === 0 && !datapathEdited.has(index);
    let after: ServiceAnalysis | WhatIfFigure = viaClusterIP.has(index) || unchanged ? before : analyzeService(context, serviceAt(index));
    for (const move of moves.filter((m) => m.service === index)) after = moveClients(context, after as ServiceAnalysis, move.workloads);
    if (viaClusterIP.has(index)) after = { verdict: 'safe', probability: 0 };
    const a = { verdict: after.verdict, probability: after.probability };
    if (!named.has(index) && a.verdict === before.verdict && a.probability === before.probability) continue;
    results.push({ namespace: before.service.namespace, name: before.service.name, before: { verdict: before.verdict, probability: before.probability }, after: a });
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
      pods: cluster.kubeProxy.pods.map((p) => (nodeVersions.has(p.node) ? { ...p, image: withTag(p.image, nodeVersions.get(p.node)!) } : p)),
    },
  };
  const context = createContext(changed, detectProfile(changed, analysis.overrides));
  cache.set(key, context);
  return context;
}

/**
 * Moving a workload's pods off the at-risk nodes sets their p to 0; the denominator (all client
 * pods) is unchanged. Returns the figure only, since the pods' new nodes are not modelled.
 */
function moveClients(context: AnalysisContext, sa: ServiceAnalysis, workloads: string[] | undefined): WhatIfFigure {
  const total = context.cluster.clientPodCount;
  if (total === 0 || sa.probability === 0) return { verdict: sa.verdict, probability: sa.probability };
  const wanted = workloads ? new Set(workloads.map((w) => w.toLowerCase())) : undefined;
  const matches = (index: number): boolean => {
    if (!wanted) return true;
    const w = context.cluster.workloads[index]!;
    return wanted.has(workloadLabel(w)) || wanted.has(`${w.namespace}/${w.name}`.toLowerCase()) || wanted.has(w.name.toLowerCase());
  };
  let probability = 0;
  const links = serviceLinks(context, sa);
  for (const ing of sa.ingresses) {
    let removed = 0;
    for (const l of links) if (l.ingress === ing.ingress && matches(l.workload)) removed += l.probability * l.pods;
    probability = Math.max(probability, Math.max(0, ing.probability - removed / total));
  }
  probability = Math.round(probability * 1e12) / 1e12;
  return { verdict: probability > 0 ? 'loopback' : 'safe', probability };
}

function kubeProxyVersions(cluster: ClusterModel, version: string, nodes: string[] | undefined, prev: Map<number, string> | undefined): Map<number, string> {
  const out = new Map(prev);
  const indices = nodes
    ? nodes.map((name) => {
        const i = cluster.nodeByName.get(name);
        if (i === undefined) throw new LoopscopeError('NOT_FOUND', `node "${name}" is not in the snapshot`);
        return i;
      })
    : cluster.nodes.map((n) => n.index);
  for (const i of indices) {
    const node = cluster.nodes[i]!;
    if (version === 'tke-fixed') {
      const current = parseKubeVersion(node.kubeProxyVersion);
      const line = TKE_FIXED_BUILDS.find((b) => b.minor === current?.minor) ?? TKE_FIXED_BUILDS[0]!;
      out.set(i, `v1.${line.minor}.${line.patch}-tke.${line.tke}`);
    } else {
      if (!parseKubeVersion(version)) throw new LoopscopeError('CHANGE_INVALID', `kube-proxy version "${version}" is not of the form v1.20.6-tke.12`);
      out.set(i, version);
    }
  }
  return out;
}

function withTag(image: string | undefined, tag: string): string {
  const repo = (image ?? 'kube-proxy').split('@')[0]!;
  const slash = repo.lastIndexOf('/');
  const colon = repo.lastIndexOf(':');
  return `${colon > slash ? repo.slice(0, colon) : repo}:${tag}`;
}
