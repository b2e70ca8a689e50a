import type { ClusterAnalysis } from '../analysis/analyze';
import { chooseBackend } from '../analysis/backends';
import type { DatapathDecision } from '../analysis/datapath';
import { topAffectedWorkloads } from '../analysis/exposure';
import { ingressLabel } from '../analysis/ingress';
import type { Reason } from '../analysis/reasons';
import { formatP, formatProbability } from '../format/probability';
import { type IngressAnalysis, type ServiceAnalysis, type Verdict } from '../analysis/service';
import type { ClusterModel, ClusterPod } from '../cluster/model';
import { workloadLabel } from '../cluster/workloads';
import { callersProbability, knownCallers, type KnownCaller } from '../callers/callers';
import { worstClientProbability } from '../analysis/worstClient';
import { providerName } from '../profile/profile';
import { fixesFor, type Fix } from '../whatif/fixes';
import { resolveTarget, type ExplainTarget, type ResolveOptions } from './target';

/** One hop of the packet's path, client to reply. */
export interface Hop {
  at: string;
  what: string;
  basis: 'inferred' | 'observed';
  source?: string;
  /** This hop is where it goes wrong. */
  fails?: boolean;
}

export interface ServiceExplanation {
  namespace: string;
  name: string;
  verdict: Verdict;
  /** The Service's figure, or the asked-about client's own p for a workload or pod target. */
  probability: number;
  headline: string;
  ingress?: string;
  /** Path of one connection from a client on `clientNode`. */
  path: Hop[];
  clientNode?: string;
  where: {
    nodes: Array<{ node: string; probability: number; clientPods: number }>;
    nodeCount: number;
    workloads: Array<{ workload: string; pods: number; nodes: string[]; maxProbability: number }>;
    workloadCount: number;
    clientPods: number;
  };
  fixes: Fix[];
  /** The largest p over the client pods (of the ingress shown): the headline figure. */
  worstClientProbability: number;
  /** Known callers, highest p first (at most 5), and how many there are in all. */
  callers: ExplainedCaller[];
  callerCount: number;
  /** Mean p over the known callers; null without callers. */
  callersProbability: number | null;
  inferred: string[];
  observed: string[];
  findings: Reason[];
  /** For a safe target: what to look at instead. */
  checkInstead: string[];
}

/** A pod known to call the Service: "checkout-api on 10.0.1.11 calls 10.0.3.15:8080 (env PAYMENTS_API_URL)". */
export interface ExplainedCaller {
  pod: string;
  /** The workload's name (the pod's for a bare pod). */
  workload: string;
  node: string;
  calls: string;
  /** `declared` when its containers name the address (even if also observed). */
  source: 'declared' | 'observed';
  /** Where it was found, each place once: `env PAYMENTS_API_URL; conntrack -L on node 10.0.1.11, line 1`. */
  where: string;
  /** Node evidence saw it connect. */
  observed: boolean;
  probability: number;
}

export interface Explanation {
  target: { kind: ExplainTarget['kind']; label: string };
  verdict: Verdict;
  probability: number;
  headline: string;
  services: ServiceExplanation[];
}

export type ExplainResult =
  { ok: true; explanation: Explanation } | { ok: false; problem: 'unknown' | 'ambiguous'; message: string; suggestions: string[] };

const TOP = 5;
/** What to check when the loopback is not the cause (the bot's "why does A time out calling B" too). */
export const CHECK_INSTEAD: readonly string[] = [
  "the Service's ready endpoints and the LB's health-check status",
  'NetworkPolicies between the client and the backend',
  'DNS resolution time in the client',
  'conntrack table usage on the client node (nf_conntrack_count vs nf_conntrack_max)',
  "the backend's own latency and logs",
];

export function explain(analysis: ClusterAnalysis, targetText: string, options: ResolveOptions = {}): ExplainResult {
  const resolved = resolveTarget(analysis.context.cluster, targetText, options);
  if (!resolved.ok) return resolved;
  return { ok: true, explanation: explainTarget(analysis, resolved.target) };
}

export function explainTarget(analysis: ClusterAnalysis, target: ExplainTarget): Explanation {
  const { cluster } = analysis.context;
  switch (target.kind) {
    case 'service':
    case 'ingress': {
      const sa = analysis.services[target.service]!;
      const port = target.kind === 'ingress' ? target.port : undefined;
      const address = target.kind === 'ingress' ? target.address : undefined;
      const se = explainService(analysis, sa, { address, port });
      const label = address
        ? `${address}${port ? `:${port}` : ''} (LB of ${sa.service.namespace}/${sa.service.name})`
        : `${sa.service.namespace}/${sa.service.name}`;
      return {
        target: { kind: target.kind, label },
        verdict: se.verdict,
        probability: se.probability,
        headline: se.headline,
        services: [se],
      };
    }
    case 'workload':
    case 'pod': {
      const pods: number[] = [];
      const w = target.kind === 'workload' ? target.workload : cluster.pods[target.pod]!.workload;
      if (target.kind === 'pod') pods.push(target.pod);
      else cluster.pods.forEach((p, i) => p.workload === w && pods.push(i));
      const label =
        target.kind === 'pod'
          ? `${cluster.pods[target.pod]!.namespace}/pod/${cluster.pods[target.pod]!.name}`
          : workloadLabel(cluster.workloads[w]!);
      return explainClient(analysis, target.kind, label, pods);
    }
  }
}

function explainClient(analysis: ClusterAnalysis, kind: 'workload' | 'pod', label: string, podIndexes: number[]): Explanation {
  const { cluster } = analysis.context;
  const pods = podIndexes.map((i) => cluster.pods[i]!);
  const clientIndexes = podIndexes.filter((i) => cluster.pods[i]!.role === 'client');
  const clients = clientIndexes.map((i) => cluster.pods[i]!);
  const hostNet = pods.filter((p) => p.role === 'hostNetwork');
  const services: ServiceExplanation[] = [];
  for (const sa of analysis.services) {
    if (sa.verdict !== 'loopback') continue;
    // p of this client: the mean over its pods of each pod's p, at the Service's worst ingress.
    let best: { ing: IngressAnalysis; p: number; pod: ClusterPod } | undefined;
    for (const ing of sa.ingresses) {
      const risk = new Map(ing.atRisk.map((r) => [r.node, r.p]));
      let sum = 0;
      let worst: { pod: ClusterPod; p: number } | undefined;
      for (const i of clientIndexes) {
        const pod = cluster.pods[i]!;
        const p = ing.podP.get(i) ?? risk.get(pod.node) ?? 0;
        sum += p;
        if (p > 0 && (!worst || p > worst.p)) worst = { pod, p };
      }
      const p = clients.length ? sum / clients.length : 0;
      if (p > 0 && worst && (!best || p > best.p)) best = { ing, p, pod: worst.pod };
    }
    if (!best) continue;
    const se = explainService(analysis, sa, {
      address: best.ing.ingress.ip ?? best.ing.ingress.hostname,
      port: best.ing.ingress.port,
      clientNode: best.pod.node,
      clientPod: best.pod,
    });
    se.probability = best.p;
    se.headline = `${label} → ${sa.service.namespace}/${sa.service.name} via ${ingressLabel(best.ing.ingress)}: ${formatProbability(best.p)} of its new connections loop back and time out (${clients.filter((c) => best!.ing.atRisk.some((r) => r.node === c.node)).length} of its ${clients.length} pod(s) sit on at-risk nodes).`;
    services.push(se);
  }
  services.sort((a, b) => b.probability - a.probability);
  const probability = services[0]?.probability ?? 0;
  let headline: string;
  if (services.length > 0) {
    headline = `${label} is exposed to internal-LB loopback towards ${services.length} Service(s); worst: ${services[0]!.namespace}/${services[0]!.name} at ${formatProbability(probability)} of new connections.`;
  } else if (clients.length === 0 && hostNet.length > 0) {
    headline = `${label} uses the host network: its packets carry the node IP. It is not counted as a client; on TKE the CLB skips its own node for such a source, elsewhere the node-IP source hairpins when the LB picks that node.`;
  } else if (clients.length === 0) {
    headline = `${label} has no running pod on a known node, so it opens no connections to analyse.`;
  } else {
    headline = `Internal-LB loopback is not the cause for ${label}: none of its ${clients.length} pod(s) is on a node where a Service's LB can send its connection back. Check instead: ${CHECK_INSTEAD.join('; ')}.`;
  }
  return { target: { kind, label }, verdict: services.length > 0 ? 'loopback' : 'safe', probability, headline, services };
}

interface Focus {
  address?: string;
  port?: number;
  clientNode?: number;
  /** Show the path from this pod (a workload or pod target). */
  clientPod?: ClusterPod;
}

function explainService(analysis: ClusterAnalysis, sa: ServiceAnalysis, focus: Focus): ServiceExplanation {
  const { cluster } = analysis.context;
  const svc = sa.service;
  const ingresses = sa.ingresses.filter(
    (i) =>
      (focus.address === undefined || i.ingress.ip === focus.address || i.ingress.hostname === focus.address) &&
      (focus.port === undefined || i.ingress.port === focus.port),
  );
  const ing = (ingresses.length ? ingresses : sa.ingresses).reduce<IngressAnalysis | undefined>(
    (a, b) => (!a || b.probability > a.probability ? b : a),
    undefined,
  );
  const probability = ing ? ing.probability : sa.probability;
  const workloads = topAffectedWorkloads(analysis.context, sa.probability > 0 ? (ing ? [ing] : sa.ingresses) : [], TOP);
  const atRisk = ing ? ing.atRisk.filter((r) => r.clientPods > 0) : [];
  const clientNode = focus.clientNode ?? atRisk[0]?.node ?? pickTypicalNode(analysis, ing);
  const findings = sa.reasons.filter(
    (r) =>
      (r.severity === 'error' && r.code !== 'LOOPBACK') ||
      r.severity === 'warning' ||
      r.code === 'EVIDENCE_DISAGREES' ||
      r.code === 'OBSERVED_UNREPLIED',
  );
  const observed = sa.reasons.filter((r) => r.basis === 'observed').map((r) => `${r.message} (${r.source})`);
  const inferredFacts = sa.reasons
    .filter((r) => r.basis === 'inferred' && r.code !== 'LOOPBACK')
    .map((r) => `${r.message} — from ${r.source}`);
  const verdict = ing && ingresses.length ? (probability > 0 ? 'loopback' : sa.verdict === 'loopback' ? 'safe' : sa.verdict) : sa.verdict;
  const known = knownCallers(analysis, sa);
  const callers = callersByPod(cluster, known);
  const worst = ing ? ingressWorst(ing) : worstClientProbability(sa);
  const figures: HeadlineFigures = {
    exposure: probability,
    worst,
    clientPods: atRisk.reduce((a, r) => a + r.clientPods, 0),
    nodes: atRisk.length,
    callers,
  };
  return {
    namespace: svc.namespace,
    name: svc.name,
    verdict,
    probability,
    worstClientProbability: worst,
    callers: callers.slice(0, TOP),
    callerCount: callers.length,
    callersProbability: callersProbability(known, verdict),
    headline: headlineFor(analysis, sa, verdict, figures, ing),
    ingress: ing ? ingressLabel(ing.ingress) : undefined,
    path: ing && clientNode !== undefined ? packetPath(analysis, sa, ing, clientNode, focus.clientPod) : [],
    clientNode: clientNode !== undefined ? cluster.nodes[clientNode]?.name : undefined,
    where: {
      nodes: atRisk.slice(0, TOP).map((r) => ({ node: cluster.nodes[r.node]!.name, probability: r.p, clientPods: r.clientPods })),
      nodeCount: atRisk.length,
      workloads: workloads.workloads.map((w) => ({
        workload: workloadLabel(w.workload),
        pods: w.pods,
        nodes: w.nodes,
        maxProbability: w.maxProbability,
      })),
      workloadCount: workloads.count,
      clientPods: atRisk.reduce((a, r) => a + r.clientPods, 0),
    },
    fixes: fixesFor(analysis, sa),
    inferred: inferredFacts,
    observed,
    findings,
    checkInstead: verdict === 'loopback' ? [] : CHECK_INSTEAD.map((c) => c),
  };
}

interface HeadlineFigures {
  exposure: number;
  worst: number;
  clientPods: number;
  nodes: number;
  callers: ExplainedCaller[];
}

/** One line per caller pod (declared and observed merged), highest p first. */
function callersByPod(cluster: ClusterModel, known: KnownCaller[]): ExplainedCaller[] {
  const byPod = new Map<number, ExplainedCaller>();
  for (const c of known) {
    const prev = byPod.get(c.pod);
    if (!prev) {
      byPod.set(c.pod, explainedCaller(cluster, c));
      continue;
    }
    if (!prev.where.split('; ').includes(c.where)) prev.where += `; ${c.where}`;
    if (c.source === 'observed') prev.observed = true;
    if (c.probability > prev.probability) prev.probability = c.probability;
  }
  return [...byPod.values()].sort((a, b) => b.probability - a.probability);
}

function explainedCaller(cluster: ClusterModel, c: KnownCaller): ExplainedCaller {
  const pod = cluster.pods[c.pod]!;
  const w = cluster.workloads[pod.workload];
  const address = c.ingress.ip ?? c.ingress.hostname ?? '?';
  const host = address.includes(':') && c.ingress.port !== undefined ? `[${address}]` : address;
  return {
    pod: `${pod.namespace}/${pod.name}`,
    workload: w && w.kind !== 'Pod' ? w.name : pod.name,
    node: pod.node >= 0 ? cluster.nodes[pod.node]!.name : '?',
    calls: c.ingress.port !== undefined ? `${host}:${c.ingress.port}` : host,
    source: c.source,
    where: c.where,
    observed: c.source === 'observed',
    probability: c.probability,
  };
}

/** The worst-client figure of one ingress point. */
function ingressWorst(ing: IngressAnalysis): number {
  let worst = 0;
  for (const r of ing.atRisk) if (r.clientPods > 0 && r.p > worst) worst = r.p;
  for (const p of ing.podP.values()) if (p > worst) worst = p;
  return worst;
}

/** "checkout-api on 10.0.1.11 calls 10.0.3.15:8080 (env PAYMENTS_API_URL)" */
export function callerPhrase(c: ExplainedCaller): string {
  return `${c.workload} on ${c.node} calls ${c.calls} (${c.where})`;
}

/**
 * The loopback headline: known callers first (what those who really call it suffer), then the
 * worst-client figure, then the cluster-wide exposure (docs/model.md#figures).
 */
function loopbackHeadline(analysis: ClusterAnalysis, ref: string, f: HeadlineFigures, ing: IngressAnalysis | undefined): string {
  const target = ing ? ingressLabel(ing.ingress) : 'its internal LB';
  const provider = providerName(analysis.context.profile.provider.value);
  const spread = `from ${f.clientPods} client pod(s) on ${f.nodes} node(s)`;
  const exposure = `cluster-wide exposure ${formatProbability(f.exposure)}`;
  const lead = f.callers[0];
  if (lead && lead.probability > 0) {
    return `${ref}: ${callerPhrase(lead)}: ${formatProbability(lead.probability)} of its connections loop back to its own node and time out${f.callers.length > 1 ? ` (${f.callers.length} known callers)` : ''}. Up to ${formatProbability(f.worst)} of new connections ${spread} loop (internal-LB loopback on ${provider}); ${exposure}.`;
  }
  const callersNote = lead
    ? ` Its ${f.callers.length} known caller(s), e.g. ${callerPhrase(lead)}, run where none of their connections loop.`
    : '';
  return `${ref}: up to ${formatProbability(f.worst)} of new connections ${spread} to ${target} loop back to the client's own node and time out (internal-LB loopback on ${provider}); ${exposure}.${callersNote}`;
}

function headlineFor(
  analysis: ClusterAnalysis,
  sa: ServiceAnalysis,
  verdict: Verdict,
  figures: HeadlineFigures,
  ing: IngressAnalysis | undefined,
): string {
  const ref = `${sa.service.namespace}/${sa.service.name}`;
  const why = sa.reasons[0]?.message ?? '';
  switch (verdict) {
    case 'loopback':
      return loopbackHeadline(analysis, ref, figures, ing);
    case 'safe': {
      const decisive = sa.reasons.find((r) => /^(CAPTURED_|SOURCE_NODE_IP|GCP_|AWS_|NO_READY)/.test(r.code));
      return `${ref} is safe from internal-LB loopback: ${decisive?.message ?? 'no client node can be chosen as its own backend'}.`;
    }
    case 'unreachable':
      return `${ref}: some in-cluster clients cannot connect through ${ing ? ingressLabel(ing.ingress) : 'its internal LB'} at all: ${why}.`;
    case 'not-applicable':
      return `${ref} cannot loop back through an internal LB: ${why}.`;
    case 'unknown':
      return `${ref}: loopback risk unknown — ${
        sa.reasons
          .filter((r) => r.code.startsWith('UNKNOWN') || r.code === 'INVALID_FIELD')
          .map((r) => `${r.message} (${r.source})`)
          .join('; ') || why
      }.`;
  }
}

/** A node to show the path from when nothing is at risk: one with client pods, preferably. */
function pickTypicalNode(analysis: ClusterAnalysis, ing: IngressAnalysis | undefined): number | undefined {
  if (!ing) return undefined;
  const nodes = analysis.context.cluster.nodes;
  return (nodes.find((n) => n.clientPods > 0) ?? nodes[0])?.index;
}

function packetPath(analysis: ClusterAnalysis, sa: ServiceAnalysis, ing: IngressAnalysis, node: number, clientPod?: ClusterPod): Hop[] {
  const { cluster, profile } = analysis.context;
  const n = cluster.nodes[node]!;
  const group = ing.groups[analysis.context.nodeClass[node]!]!;
  const decision: DatapathDecision = group.decision;
  const sample: ClusterPod | undefined = clientPod ?? sampleClientPod(cluster, node);
  const podIP = sample?.ip ?? 'the pod IP';
  const target = ingressLabel(ing.ingress);
  const hops: Hop[] = [];
  const basisOf = (r: Reason | undefined): Hop['basis'] => r?.basis ?? 'inferred';
  hops.push({
    at: `client pod on ${n.name}`,
    what: `${sample ? `${sample.namespace}/${sample.name} (${podIP})` : 'a pod'} opens a connection to ${target}`,
    basis: 'inferred',
  });
  const capture = decision.reasons[0];
  const source = decision.reasons[1];
  if (decision.outcome === 'captured') {
    hops.push({
      at: `node ${n.name}`,
      what: `captured on the node: ${capture?.message}`,
      basis: basisOf(capture),
      source: capture?.source,
    });
    hops.push({
      at: 'backend',
      what: "served by an endpoint through the node's own proxy; the reply returns the same way, so there is no LB hop to loop through",
      basis: 'inferred',
    });
    return hops;
  }
  if (decision.outcome === 'unknown') {
    hops.push({
      at: `node ${n.name}`,
      what: `cannot decide: ${decision.reasons.map((r) => `${r.message} (${r.source})`).join('; ')}`,
      basis: 'inferred',
    });
    return hops;
  }
  hops.push({ at: `node ${n.name} egress`, what: `not captured: ${capture?.message}`, basis: basisOf(capture), source: capture?.source });
  const seen = decision.source === 'node' ? `the node IP ${n.internalIP ?? ''}`.trim() : `the pod IP ${podIP}`;
  hops.push({
    at: `node ${n.name} POSTROUTING`,
    what: `${source?.message}; the packet leaves with source ${seen}`,
    basis: basisOf(source),
    source: source?.source,
  });
  const backends = sa.backends!;
  const skips = profile.lbSkipsSourceBackend.value;
  const choice = chooseBackend(backends, node, decision.source!, skips, profile.podNetwork.value === 'shared');
  const total = backends.kind === 'node' ? backends.nodes.length : backends.endpoints.length;
  const backendWord = backends.kind === 'node' ? 'node' : 'pod';
  const skipNote =
    decision.source === 'node' && skips && backends.kind === 'node' && backends.isBackend[node]
      ? `; it skips ${n.name} because that backend's IP equals the source (Tencent Cloud doc "CLB loopback")`
      : '';
  hops.push({
    at: `internal LB ${target}`,
    what: `sees source ${seen}; picks one of ${choice.eligible} eligible ${backendWord} backend(s) of ${total}${skipNote}${choice.eligible > 0 ? `; ${choice.looping} of them ${backends.kind === 'node' ? `is ${n.name} itself` : `are pods on ${n.name}`} → p = ${formatP(choice.eligible ? choice.looping / choice.eligible : 0)}` : ''}`,
    basis: 'inferred',
    source: backends.reason.source,
  });
  if (choice.eligible === 0) {
    hops.push({ at: 'LB', what: 'no eligible backend: the connection fails outright (not loopback)', basis: 'inferred', fails: true });
    return hops;
  }
  if (choice.looping === 0) {
    hops.push({
      at: 'backend on another node',
      what: 'the reply goes back through the LB, which rewrites it to come from the LB IP: the connection works',
      basis: 'inferred',
    });
    return hops;
  }
  const backendAt =
    backends.kind === 'node'
      ? `${n.name}:${ing.ingress.nodePort ?? 'nodePort'} (NodePort on the client's own node)`
      : `an endpoint pod on ${n.name}`;
  hops.push({
    at: backendAt,
    what: `the LB forwards the packet back to ${n.name}, still from ${seen}; the node delivers it to an endpoint pod`,
    basis: 'inferred',
  });
  hops.push({
    at: `reply inside ${n.name}`,
    what: `the endpoint replies to ${seen} directly inside the node, never through the LB: the client expected ${target} but gets a reply from ${backends.kind === 'node' ? `${n.internalIP ?? 'the node IP'}:${ing.ingress.nodePort ?? 'nodePort'}` : 'the endpoint pod IP'}, drops it, and the connection times out`,
    basis: 'inferred',
    fails: true,
  });
  return hops;
}

const samplePodCache = new WeakMap<ClusterModel['pods'], Map<number, number>>();

/** A client pod on the node to show in a path (one pass over the pods, cached per pod list). */
function sampleClientPod(cluster: ClusterModel, node: number): ClusterPod | undefined {
  let byNode = samplePodCache.get(cluster.pods);
  if (!byNode) {
    byNode = new Map();
    for (let i = 0; i < cluster.pods.length; i++) {
      const p = cluster.pods[i]!;
      if (p.role === 'client' && !byNode.has(p.node)) byNode.set(p.node, i);
    }
    samplePodCache.set(cluster.pods, byNode);
  }
  const index = byNode.get(node);
  const pod = index === undefined ? undefined : cluster.pods[index];
  // The live model may have replaced that pod since: only trust a client still on the node.
  return pod && pod.node === node && pod.role === 'client' ? pod : undefined;
}
