import type { ClusterModel, ClusterService, TrafficPolicy } from '../cluster/model';
import type { DatapathProfile } from '../profile/profile';
import { awsLoadBalancerKind, awsPreserveClientIp, directToPodAnnotation, internalLbAnnotation } from '../profile/signals';
import { formatP } from '../format/probability';
import { cidrContains, parseIp, type IpAddress } from '../netfilter/ruleset/cidr';
import { backendCount, chooseBackend, nodeBackends, podBackends, type Backends } from './backends';
import { missingInputs, type MissingInput } from './incomplete';
import { UNREACHABLE_CAUSE_TEXT, unreachableClients, type UnreachableCause } from './unreachable';
import { decideDatapath, type DatapathDecision } from './datapath';
import { withDisagreement } from './disagreement';
import type { DatapathEvidence, ObservedFailure } from './evidence';
import { ingressLabel, ingressPoints, type IngressPoint } from './ingress';
import { inferred, type Reason } from './reasons';

export type Verdict = 'loopback' | 'unreachable' | 'safe' | 'not-applicable' | 'unknown';
export type LbScope = 'internal' | 'public' | 'none';
export type BackendKind = 'node' | 'pod';

/** A node where a client pod's connection to the ingress can loop. */
export interface NodeRisk {
  node: number;
  /** p for a client pod on this node (docs/model.md). */
  p: number;
  eligible: number;
  looping: number;
  clientPods: number;
}

/** How one group of nodes decided steps 1–2 (nodes with the same datapath decide alike). */
export interface DecisionGroup {
  decision: DatapathDecision;
  nodes: number[];
  clientPods: number;
}

export interface IngressAnalysis {
  ingress: IngressPoint;
  /** Mean p over all client pods of the cluster (docs/model.md): `loopSum` / client pods. */
  probability: number;
  /** Σ p over the client pods that can loop (p × client pods per at-risk node, plus self-backend corrections). */
  loopSum: number;
  /** Nodes with p > 0, highest p first. */
  atRisk: NodeRisk[];
  /** Client pods whose own p differs from their node's (they are themselves pod backends). */
  podP: Map<number, number>;
  /** Nodes where the LB has no eligible backend for their clients (fails outright, not loopback). */
  noEligibleNodes: number[];
  /** Nodes whose steps 1–2 could not be decided and could loop. */
  unknownNodes: number[];
  groups: DecisionGroup[];
  /** The LB's backends for this ingress point (pod backends are per address family and port). */
  backends: Backends;
  /** Client pods that fail outright (q = 1) one by one: outside the source ranges, or their only backend is themselves. */
  failingPods: Map<number, UnreachableCause>;
  /** Every client fails outright: the LB has no ready backend for this point. */
  allFail?: UnreachableCause;
}

export interface ServiceAnalysis {
  service: ClusterService;
  verdict: Verdict;
  /** The headline figure: the largest over the ingress points. */
  probability: number;
  scope: LbScope;
  backendKind: BackendKind;
  backends?: Backends;
  ingresses: IngressAnalysis[];
  reasons: Reason[];
  /** Failed connections read from node conntrack tables (docs/model.md), when evidence was given. */
  observed?: ObservedSummary;
  /** For `unknown` from incomplete input: the kinds missing and how to supply them. */
  missing?: MissingInput[];
}

export interface ObservedSummary {
  connections: number;
  /** [node index, connections] */
  byNode: Array<[number, number]>;
  /** [workload index, connections] */
  byWorkload: Array<[number, number]>;
}

export interface AnalysisContext {
  cluster: ClusterModel;
  profile: DatapathProfile;
  evidence?: DatapathEvidence;
  /** Nodes grouped by how they decide steps 1–2 (see `nodeClasses`). */
  classes: NodeClass[];
  /** Node index → index in `classes`. */
  nodeClass: Int32Array;
  /** Placeholder nodes (named by pods, missing from the input) that run client pods. */
  missingNodes: number[];
}

/** Nodes that decide steps 1–2 alike: same datapath profile, or one node with its own evidence. */
export interface NodeClass {
  nodes: number[];
  clientPods: number;
  evidenceNode?: number;
}

/** Steps 1–2 for one class: the evidence when it covers the node (checked against the inference), else the inference. */
function decideClass(
  ctx: AnalysisContext,
  c: NodeClass,
  svc: ClusterService,
  ingress: IngressPoint,
  policy: TrafficPolicy,
): DatapathDecision {
  const node = c.evidenceNode ?? c.nodes[0]!;
  const inferred = decideDatapath(svc, ingress, ctx.profile.nodes[node]!, ctx.profile, policy);
  const observed = c.evidenceNode !== undefined ? ctx.evidence?.decide(c.evidenceNode, svc, ingress, policy) : undefined;
  return observed ? withDisagreement(observed, inferred, ctx.cluster.nodes[node]!.name) : inferred;
}

export function createContext(cluster: ClusterModel, profile: DatapathProfile, evidence?: DatapathEvidence): AnalysisContext {
  const classes: NodeClass[] = [];
  const byKey = new Map<string, number>();
  const nodeClass = new Int32Array(cluster.nodes.length);
  for (const node of cluster.nodes) {
    const own = evidence?.covers(node.index) ?? false;
    const key = own ? `evidence:${node.index}` : profile.nodes[node.index]!.classKey;
    let c = byKey.get(key);
    if (c === undefined) {
      c = classes.length;
      byKey.set(key, c);
      classes.push(own ? { nodes: [], clientPods: 0, evidenceNode: node.index } : { nodes: [], clientPods: 0 });
    }
    classes[c]!.nodes.push(node.index);
    classes[c]!.clientPods += node.clientPods;
    nodeClass[node.index] = c;
  }
  const missingNodes = cluster.nodes.filter((n) => n.missing).map((n) => n.index);
  return { cluster, profile, evidence, classes, nodeClass, missingNodes };
}

export function analyzeService(ctx: AnalysisContext, svc: ClusterService): ServiceAnalysis {
  const { profile } = ctx;
  const result: ServiceAnalysis = {
    service: svc,
    verdict: 'not-applicable',
    probability: 0,
    scope: 'none',
    backendKind: 'node',
    ingresses: [],
    reasons: [],
  };
  const { reasons } = result;
  if (svc.type !== 'LoadBalancer') {
    reasons.push(inferred('NOT_LOADBALANCER', `type ${svc.type}: no cloud LB in front of it, so no LB hop to loop through`, 'spec.type'));
    return result;
  }
  const internal = internalLbAnnotation(svc.annotations, svc.loadBalancerClass);
  result.scope = internal ? 'internal' : 'public';
  if (!internal && !profile.publicLbInScope.value) {
    reasons.push(
      inferred(
        'PUBLIC_LB',
        'a public LB (no internal-LB annotation): out of scope, public LBs did not show the problem (docs/model.md#scope); set --public-lb-in-scope to analyse it',
        profile.publicLbInScope.source,
      ),
    );
    return result;
  }
  const direct = directToPodAnnotation(svc.annotations);
  result.backendKind = direct ? 'pod' : 'node';
  if (svc.invalid.length > 0) {
    result.verdict = 'unknown';
    for (const f of svc.invalid) reasons.push(inferred('INVALID_FIELD', `${f.field}: ${f.message}`, f.field, { severity: 'warning' }));
    return result;
  }
  if (svc.ingresses.length === 0 || svc.ports.length === 0) {
    reasons.push(
      inferred(
        'NO_INGRESS_IP',
        svc.ingresses.length === 0
          ? 'the LB has no ingress IP yet (status.loadBalancer is empty): nothing to call'
          : 'the Service has no ports',
        'status.loadBalancer.ingress',
      ),
    );
    return result;
  }
  const missing = missingInputs(ctx.cluster, svc);
  if (missing.length > 0) {
    result.verdict = 'unknown';
    result.missing = missing;
    for (const m of missing) {
      reasons.push(
        inferred(
          'INPUT_MISSING',
          `the input has no ${m.kind} objects, so this Service's figure cannot be computed (add \`${m.kubectl}\`); never reported safe on incomplete input`,
          m.kind,
          { severity: 'warning', evidence: { kind: m.kind, kubectl: m.kubectl } },
        ),
      );
    }
    return result;
  }
  const provider = profile.provider.value;
  if (provider === 'unknown') {
    result.verdict = 'unknown';
    reasons.push(
      inferred('UNKNOWN_PROVIDER', "the cloud provider is unknown, so the LB's behaviour is unknown", profile.provider.source, {
        severity: 'warning',
      }),
    );
    return result;
  }
  result.verdict = 'safe';
  if (provider === 'gcp') {
    reasons.push(
      inferred(
        'GCP_LOCAL_ROUTE',
        'GCP internal passthrough LB: backend VMs get a local route for the LB IP, so the node answers it itself (Google Cloud internal passthrough LB docs)',
        profile.provider.source,
      ),
    );
    return result;
  }
  if (provider === 'aws') {
    const lb = awsLoadBalancerKind(svc.annotations, svc.loadBalancerClass);
    if (lb.kind === 'classic-elb') {
      reasons.push(
        inferred(
          'AWS_CLASSIC_ELB',
          "an in-tree Classic ELB: a TCP proxy, so the backend sees the ELB's address and replies through it; no loopback (Kubernetes cloud-provider-aws, Service annotations)",
          lb.source,
        ),
      );
      return result;
    }
    if (lb.kind === 'other-class') {
      result.verdict = 'unknown';
      reasons.push(
        inferred(
          'UNKNOWN_LB_CLASS',
          `${lb.source}: a load balancer implementation loopscope does not model (neither the AWS cloud provider nor the AWS Load Balancer Controller serves it, KEP-1959)`,
          lb.source,
          { severity: 'warning' },
        ),
      );
      return result;
    }
    const preserve = awsPreserveClientIp(svc.annotations);
    if (direct ? preserve !== true : preserve === false) {
      reasons.push(
        inferred(
          'AWS_CLIENT_IP_NOT_PRESERVED',
          `the NLB does not preserve the client IP for these ${direct ? 'IP' : 'instance'} targets, so the reply returns through the NLB (AWS NLB troubleshooting, "loopback-timeout")`,
          direct ? `${direct.key} without preserve_client_ip.enabled=true` : 'target-group-attributes preserve_client_ip.enabled=false',
        ),
      );
      return result;
    }
  }
  const policy = svc.trafficPolicy as TrafficPolicy;
  const points = ingressPoints(svc);
  const nodeSet = direct ? undefined : nodeBackends(ctx.cluster, svc, policy);
  const perPoint = points.map((p) => nodeSet ?? podBackends(ctx.cluster, svc, direct!.key, p));
  const backends = perPoint[0]!;
  result.backends = backends;
  reasons.push(backends.reason);
  if (perPoint.every((b) => backendCount(b) === 0)) {
    reasons.push(
      inferred(
        'NO_READY_ENDPOINTS',
        backends.kind === 'pod' || policy === 'Local'
          ? 'no ready endpoint on any node: the LB has no healthy backend, every connection fails outright (not loopback)'
          : 'no Ready node is an LB backend: every connection fails outright (not loopback)',
        svc.endpointSource === 'Endpoints' ? 'Endpoints' : 'EndpointSlices',
        { severity: 'error' },
      ),
    );
  }
  const unplaced = Math.max(...perPoint.map((b) => b.unplaced));
  if (unplaced > 0) {
    reasons.push(
      inferred(
        'UNPLACED_ENDPOINTS',
        `${unplaced} ready endpoint(s) have no known node (no nodeName, or a node missing from the input): they count as eligible backends that never loop, so the figure is a lower bound`,
        `${svc.endpointSource === 'Endpoints' ? 'Endpoints' : 'EndpointSlice'} nodeName`,
        { severity: 'warning', evidence: { unplacedEndpoints: unplaced } },
      ),
    );
  }
  if (ctx.missingNodes.length > 0) {
    const pods = ctx.missingNodes.reduce((a, n) => a + ctx.cluster.nodes[n]!.clientPods, 0);
    reasons.push(
      inferred(
        'INPUT_INCOMPLETE',
        `${pods} client pod(s) run on ${ctx.missingNodes.length} node(s) missing from the input: they count as clients, and those nodes are taken to hold no backend, so the input is incomplete (add \`kubectl get nodes -o json\`)`,
        'Pod spec.nodeName',
        { severity: 'warning', nodes: nodeNames(ctx.cluster, ctx.missingNodes) },
      ),
    );
  }
  points.forEach((ingress, i) => result.ingresses.push(analyzeIngress(ctx, svc, policy, perPoint[i]!, ingress)));
  withDerivedServiceProbability(result);
  summarize(ctx, result);
  return result;
}

function analyzeIngress(
  ctx: AnalysisContext,
  svc: ClusterService,
  policy: TrafficPolicy,
  backends: Backends,
  ingress: IngressPoint,
): IngressAnalysis {
  const { cluster, profile } = ctx;
  const skips = profile.lbSkipsSourceBackend.value;
  const shared = profile.podNetwork.value === 'shared';
  const out: IngressAnalysis = {
    ingress,
    probability: 0,
    loopSum: 0,
    atRisk: [],
    podP: new Map(),
    noEligibleNodes: [],
    unknownNodes: [],
    groups: [],
    backends,
    failingPods: new Map(),
  };
  if (backendCount(backends) === 0) {
    // q = 1 for every client, captured or not (kube-proxy rejects, the LB has no healthy target).
    out.allFail = 'no-ready-endpoint';
    return withDerivedProbability(out, cluster);
  }
  // Steps 1–2 once per class of nodes that decide alike (a node with evidence is a class of its own).
  out.groups = ctx.classes.map((c) => ({
    decision: decideClass(ctx, c, svc, ingress, policy),
    nodes: c.nodes,
    clientPods: c.clientPods,
  }));
  const decisionOf = (node: number): DatapathDecision => out.groups[ctx.nodeClass[node]!]!.decision;

  // Only a node holding a backend can loop (its own node backend, or a pod backend on it), and only
  // such a node can be left with no eligible backend: the arithmetic runs over those alone.
  // TKE with node SNAT everywhere (a Cluster Service): the CLB skips every client's own node, so
  // with more than one backend nothing can loop or be left without a backend — skip the loop.
  if (
    backends.kind === 'node' &&
    backends.nodes.length > 1 &&
    svc.sourceRanges.length === 0 &&
    out.groups.every((g) => g.decision.outcome === 'captured' || (g.decision.outcome === 'leaves' && g.decision.source === 'node' && skips))
  ) {
    return withDerivedProbability(out, cluster);
  }
  const candidates = backends.kind === 'node' ? backends.nodes : [...backends.perNode.keys()];
  let loopSum = 0;
  for (const n of candidates) {
    const decision = decisionOf(n);
    if (decision.outcome === 'unknown') {
      out.unknownNodes.push(n);
      continue;
    }
    if (decision.outcome === 'captured') continue;
    const choice = chooseBackend(backends, n, decision.source!, skips, shared);
    if (choice.eligible === 0) {
      out.noEligibleNodes.push(n);
      continue;
    }
    if (choice.looping > 0) {
      const node = cluster.nodes[n]!;
      const p = choice.looping / choice.eligible;
      out.atRisk.push({ node: n, p, eligible: choice.eligible, looping: choice.looping, clientPods: node.clientPods });
      loopSum += p * node.clientPods;
    }
  }
  if (backends.kind === 'pod') loopSum += correctSelfBackends(ctx, backends, out, decisionOf, skips, shared);
  if (svc.sourceRanges.length > 0) loopSum += applySourceRanges(ctx, svc, out, decisionOf);
  out.atRisk.sort((a, b) => b.p - a.p || b.clientPods - a.clientPods);
  out.loopSum = loopSum;
  return withDerivedProbability(out, cluster);
}

/**
 * F14: a client whose source is outside `loadBalancerSourceRanges` cannot connect at all — dropped
 * by kube-proxy's firewall where the node captures the LB IP, by the LB's ACL where it does not (the
 * source is the pod IP, or the node IP under SNAT). Its p becomes 0 and its q 1; returns the change
 * to the sum of p.
 */
function applySourceRanges(
  ctx: AnalysisContext,
  svc: ClusterService,
  out: IngressAnalysis,
  decisionOf: (node: number) => DatapathDecision,
): number {
  const { cluster } = ctx;
  const ranges = svc.sourceRanges;
  const inRanges = (ip: string | undefined): boolean | undefined => {
    const parsed: IpAddress | null = ip ? parseIp(ip) : null;
    return parsed ? ranges.some((r) => cidrContains(r, parsed)) : undefined;
  };
  const risk = new Map(out.atRisk.map((r) => [r.node, r]));
  const nodeAllowed = new Map<number, boolean | undefined>();
  let delta = 0;
  cluster.pods.forEach((pod, index) => {
    if (pod.role !== 'client') return;
    const decision = decisionOf(pod.node);
    let allowed: boolean | undefined;
    if (decision.outcome === 'leaves' && decision.source === 'node') {
      if (!nodeAllowed.has(pod.node)) nodeAllowed.set(pod.node, inRanges(cluster.nodes[pod.node]!.internalIP));
      allowed = nodeAllowed.get(pod.node);
    } else allowed = inRanges(pod.ip);
    if (allowed !== false) return;
    out.failingPods.set(index, 'outside-source-ranges');
    const r = risk.get(pod.node);
    const p = out.podP.get(index) ?? r?.p ?? 0;
    if (r) r.clientPods = Math.max(0, r.clientPods - 1);
    if (p === 0 && !r) return;
    out.podP.set(index, 0);
    delta -= p;
  });
  return delta;
}

/**
 * `probability` = loop sum / client pods of the cluster, read when asked: when pods come and go the
 * live model changes the count, and every figure follows without being visited.
 */
function withDerivedProbability(out: IngressAnalysis, cluster: ClusterModel): IngressAnalysis {
  Object.defineProperty(out, 'probability', {
    get: () => (cluster.clientPodCount > 0 ? Math.min(1, Math.max(0, out.loopSum / cluster.clientPodCount)) : 0),
    enumerable: true,
    configurable: true,
  });
  return out;
}

/** A Service's figure: the largest over its ingress points, derived like theirs. */
function withDerivedServiceProbability(result: ServiceAnalysis): void {
  Object.defineProperty(result, 'probability', {
    get: () => {
      let p = 0;
      for (const ing of result.ingresses) if (ing.probability > p) p = ing.probability;
      return p;
    },
    enumerable: true,
    configurable: true,
  });
}

/**
 * A client pod that is itself a pod backend sees one fewer eligible backend on TKE (the CLB skips
 * its own IP) or hairpins elsewhere; returns the change to the sum of p.
 */
function correctSelfBackends(
  ctx: AnalysisContext,
  backends: Backends & { kind: 'pod' },
  out: IngressAnalysis,
  decisionOf: (node: number) => DatapathDecision,
  skips: boolean,
  shared: boolean,
): number {
  const { cluster } = ctx;
  const risk = new Map(out.atRisk.map((r) => [r.node, r]));
  let delta = 0;
  for (const ep of backends.endpoints) {
    const podIndex = cluster.podByEndpointIp.get(ep.ip);
    if (podIndex === undefined) continue;
    const pod = cluster.pods[podIndex]!;
    const decision = decisionOf(pod.node);
    if (decision.outcome !== 'leaves') continue;
    const self = chooseBackend(backends, pod.node, decision.source!, skips, shared, true, ep.node >= 0);
    if (self.eligible === 0) out.failingPods.set(podIndex, 'no-eligible-backend');
    const base = risk.get(pod.node)?.p ?? 0;
    const p = self.eligible > 0 ? self.looping / self.eligible : 0;
    if (p === base) continue;
    out.podP.set(podIndex, p);
    delta += p - base;
    if (p > 0 && !risk.has(pod.node)) {
      const node = cluster.nodes[pod.node]!;
      const entry: NodeRisk = { node: pod.node, p: 0, eligible: self.eligible, looping: 0, clientPods: node.clientPods };
      out.atRisk.push(entry);
      risk.set(pod.node, entry);
    }
  }
  return delta;
}

/** Attaches observed failures to their Services, with an `observed` reason on each. */
export function attachObserved(ctx: AnalysisContext, services: ServiceAnalysis[], failures: ObservedFailure[]): void {
  const bySvc = new Map<number, ObservedFailure[]>();
  for (const f of failures) {
    const list = bySvc.get(f.service);
    if (list) list.push(f);
    else bySvc.set(f.service, [f]);
  }
  for (const [index, list] of bySvc) {
    const sa = services[index]!;
    const sum = (key: 'node' | 'workload'): Array<[number, number]> => {
      const m = new Map<number, number>();
      for (const f of list) m.set(f[key], (m.get(f[key]) ?? 0) + f.connections);
      return [...m].sort((a, b) => b[1] - a[1]);
    };
    const connections = list.reduce((a, f) => a + f.connections, 0);
    sa.observed = { connections, byNode: sum('node'), byWorkload: sum('workload') };
    sa.reasons.push({
      code: 'OBSERVED_UNREPLIED',
      message: `${connections} connection(s) from local pods to its LB were seen unanswered ([UNREPLIED] in conntrack) on ${sa.observed.byNode.length} node(s): failures observed, not predicted`,
      source: 'conntrack -L in the node dumps',
      basis: 'observed',
      nodes: nodeNames(
        ctx.cluster,
        sa.observed.byNode.map(([n]) => n),
      ),
      evidence: { connections },
      severity: 'error',
    });
  }
}

const NODE_LIST_CAP = 10;

export function nodeNames(cluster: ClusterModel, nodes: number[], cap = NODE_LIST_CAP): string[] {
  const names = nodes.slice(0, cap).map((n) => cluster.nodes[n]!.name);
  if (nodes.length > cap) names.push(`… ${nodes.length - cap} more`);
  return names;
}

/** Service-level reasons: each distinct decision once, with its nodes; then the outcome. */
function summarize(ctx: AnalysisContext, result: ServiceAnalysis): void {
  const { cluster } = ctx;
  const seen = new Map<string, Reason>();
  for (const ing of result.ingresses) {
    for (const group of ing.groups) {
      for (const r of group.decision.reasons) {
        const key = `${r.code}|${r.message}`;
        const prev = seen.get(key);
        if (prev) continue;
        const withNodes = { ...r, nodes: nodeNames(cluster, group.nodes) };
        seen.set(key, withNodes);
        result.reasons.push(withNodes);
      }
    }
  }
  refreshOutcome(ctx, result);
}

/** Reasons that state the outcome; `refreshOutcome` replaces them when only client counts moved. */
const OUTCOME_CODES: ReadonlySet<string> = new Set([
  'LOOPBACK',
  'NO_ELIGIBLE_BACKEND',
  'NO_CLIENT_PODS',
  'UNREACHABLE',
  'OUTSIDE_SOURCE_RANGES',
]);

/**
 * The verdict and outcome reasons from the (derived) figure. The figure follows the number of client
 * pods by itself; the live model calls this when a verdict can change without a re-analysis (the
 * cluster gaining its first client pods or losing its last).
 */
export function refreshOutcome(ctx: AnalysisContext, result: ServiceAnalysis): void {
  const { cluster } = ctx;
  if (result.ingresses.length === 0) return;
  if (result.reasons.some((r) => OUTCOME_CODES.has(r.code))) result.reasons = result.reasons.filter((r) => !OUTCOME_CODES.has(r.code));
  const worst = result.ingresses.reduce((a, b) => (b.probability > a.probability ? b : a));
  const unknown = result.ingresses.some((i) => i.unknownNodes.length > 0);
  if (result.probability > 0) {
    result.verdict = 'loopback';
    const top = worst.atRisk.find((r) => r.clientPods > 0) ?? worst.atRisk[0]!;
    result.reasons.push(
      inferred(
        'LOOPBACK',
        `the LB sends a share of new connections to ${ingressLabel(worst.ingress)} back to the client's own node (the Service's figure); the reply skips the LB and the client times out (worst node ${cluster.nodes[top.node]!.name}: p = ${formatP(top.p)} for its pods)`,
        'docs/model.md#decision over all client pods',
        {
          evidence: { atRiskNodes: worst.atRisk.filter((r) => r.clientPods > 0).length },
          nodes: nodeNames(
            cluster,
            worst.atRisk.map((r) => r.node),
          ),
          severity: 'error',
        },
      ),
    );
  }
  // docs/model.md: loopback (some p > 0) first; then unreachable (some q > 0) before unknown — clients known to
  // fail outright are the firmer finding, and the unknown nodes keep their own reason.
  const unreachable = unreachableClients(ctx, result);
  if (result.probability <= 0) result.verdict = unreachable ? 'unreachable' : unknown ? 'unknown' : 'safe';
  if (unreachable) {
    const causes = unreachable.causes.map((c) => UNREACHABLE_CAUSE_TEXT[c]).join('; ');
    result.reasons.push(
      inferred(
        'UNREACHABLE',
        `${unreachable.clientPods} client pod(s) on ${unreachable.nodes.length} node(s) cannot connect through the LB at all (they fail outright, not loopback): ${causes}`,
        'the decision procedure over all client pods (docs/model.md)',
        {
          nodes: nodeNames(cluster, unreachable.nodes),
          evidence: { clientPods: unreachable.clientPods },
          severity: 'error',
        },
      ),
    );
  }
  const outside = result.ingresses.find((i) => [...i.failingPods.values()].includes('outside-source-ranges'));
  if (outside) {
    result.reasons.push(
      inferred(
        'OUTSIDE_SOURCE_RANGES',
        `client pods whose source is outside spec.loadBalancerSourceRanges [${result.service.sourceRangesText.join(', ')}] are dropped before any LB choice (kube-proxy's firewall where it captures the LB IP, the LB's ACL elsewhere; kube-proxy source, KUBE-PROXY-FIREWALL)`,
        'spec.loadBalancerSourceRanges',
        {
          severity: 'error',
        },
      ),
    );
  }
  const noEligible = result.ingresses.find((i) => i.noEligibleNodes.length > 0);
  if (noEligible) {
    result.reasons.push(
      inferred(
        'NO_ELIGIBLE_BACKEND',
        `for clients on ${noEligible.noEligibleNodes.length} node(s) the LB has no eligible backend (it skips the only one, the client's own node): those connections fail outright — not loopback`,
        'docs/model.md#decision, steps 3–4',
        {
          nodes: nodeNames(cluster, noEligible.noEligibleNodes),
          severity: 'error',
        },
      ),
    );
  }
  if (cluster.clientPodCount === 0) {
    result.reasons.push(
      inferred(
        'NO_CLIENT_PODS',
        'the snapshot has no client pods (Running, not hostNetwork, on a known node), so every figure is 0',
        'Pods',
      ),
    );
  }
}

export function round(p: number): number {
  return Math.round(p * 1e6) / 1e6;
}
