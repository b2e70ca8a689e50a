import type { ClusterAnalysis } from '../analysis/analyze';
import { affectedWorkloads, atRiskNodes, serviceLinks, type Link } from '../analysis/exposure';
import { ingressAddress } from '../analysis/ingress';
import type { Reason } from '../analysis/reasons';
import { round, type BackendKind, type LbScope, type ServiceAnalysis, type Verdict } from '../analysis/service';
import { worstClientProbability } from '../analysis/worstClient';
import { UNREACHABLE_CAUSE_TEXT, unreachableClients } from '../analysis/unreachable';
import { callersProbability, knownCallers, type KnownCaller } from '../callers/callers';
import type { ClusterModel } from '../cluster/model';
import { formatProblem } from '../kube/problems';
import type { Detected } from '../profile/profile';
import { fixesFor, type Fix } from '../whatif/fixes';
import { reportSummary } from './summary';

/** The `loopscope/v1` report: the CLI's `--format json` and the exporter's `/api/v1/report`. A stable contract. */
export interface Report {
  apiVersion: 'loopscope/v1';
  generatedAt: string;
  cluster: ReportCluster;
  summary: Record<Verdict, number> & { services: number; clientPods: number; clientPodsAtRisk: number };
  services: ReportService[];
  links: ReportLink[];
  /** Links left out by `maxLinks` (lowest probability first). */
  linksOmitted: number;
  /** Input problems, each naming the file, item and field. */
  problems: string[];
}

export interface ReportCluster {
  nodes: number;
  pods: number;
  clientPods: number;
  provider: Detected<string>;
  podIpRoutable: Detected<boolean | null>;
  podNetwork: Detected<string>;
  /** Nodes per proxy mode, and per IPVS bind behaviour. */
  proxyModes: Record<string, number>;
  ipvsBind: Record<string, number>;
  evidenceNodes: number;
}

export interface ReportIngress {
  ip?: string;
  hostname?: string;
  port: number;
  protocol: string;
  ipMode: string;
  loopbackProbability: number;
  atRiskNodes: string[];
  noEligibleBackendNodes: string[];
  unknownNodes: string[];
}

export interface ReportService {
  namespace: string;
  name: string;
  type: string;
  verdict: Verdict;
  loopbackProbability: number;
  lbScope: LbScope;
  trafficPolicy: string | null;
  backendKind: BackendKind;
  ingresses: ReportIngress[];
  atRiskNodes: string[];
  clientPodsOnAtRiskNodes: number;
  affectedWorkloads: Array<{ namespace: string; kind: string; name: string; pods: number; nodes: string[]; maxProbability: number }>;
  reasons: Reason[];
  fixes: Fix[];
  /** Failed connections read from node conntrack tables (null without evidence). */
  /** The headline: the largest p over the Service's client pods (what the worst-placed client suffers). */
  worstClientProbability: number;
  /** Client pods on the Service's at-risk nodes (the same count as `clientPodsOnAtRiskNodes`). */
  clientPodsAtRisk: number;
  /** In-cluster clients that cannot connect through the LB at all (q = 1), or null when there are none. */
  unreachable: ReportUnreachable | null;
  /** Pods known to call an ingress of the Service: declared in their containers, or observed by node evidence. */
  callers: ReportCaller[];
  /** The mean p over the known callers; null without known callers, or when the verdict is unknown. */
  callersProbability: number | null;
  /** For an `unknown` verdict: the input kinds that are missing and the `kubectl get` that supplies each. */
  missing: ReportMissingInput[];
  observed: {
    unrepliedConnections: number;
    byNode: Array<{ node: string; connections: number }>;
    byWorkload: Array<{ namespace: string; kind: string; name: string; connections: number }>;
  } | null;
}

export interface ReportUnreachable {
  /** Client pods that fail outright. */
  clientPods: number;
  nodes: string[];
  /** Why, one line each (no eligible backend, outside loadBalancerSourceRanges, no ready endpoint). */
  reasons: string[];
}

export interface ReportCaller {
  namespace: string;
  pod: string;
  node: string;
  podIP?: string;
  workload?: { kind: string; name: string };
  /** The ingress the pod calls. */
  ingress: { ip?: string; hostname?: string; port?: number };
  /** `declared`: named in a container's env, args or command; `observed`: seen in node conntrack evidence. */
  source: 'declared' | 'observed';
  /** Where it was found, e.g. `env PAYMENTS_API_URL` or `conntrack on node-a at 2026-12-02T10:00:00Z`. */
  where: string;
  /** p for this caller (0 when the Service's verdict is unknown: `callersProbability` is null then). */
  probability: number;
}

export interface ReportMissingInput {
  kind: string;
  /** The command that supplies it, e.g. `kubectl get pods -A -o json`. */
  kubectl: string;
}

export interface ReportLink {
  client: { node: string; namespace: string; workload: string; kind: string; pods: number };
  service: { namespace: string; name: string };
  ingress: { ip?: string; hostname?: string; port: number; protocol: string };
  backend: Link['backend'];
  probability: number;
}

export interface ReportOptions {
  /** Cap on links (highest probability kept); default unlimited. */
  maxLinks?: number;
  /** Leave out the fixes (they cost a what-if per fix). Default: included. */
  fixes?: boolean;
  /** Leave out the per-link objects (a Service list needs none; 100,000s at scale). Default: included. */
  links?: boolean;
  now?: Date;
}

export function buildReport(analysis: ClusterAnalysis, options: ReportOptions = {}): Report {
  const steps = reportSteps(analysis, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same report, built one Service per step: a server drives it a slice of steps per turn of its
 * event loop, so a cold report of 100,000s of pods never holds a liveness probe for the whole build.
 * `buildReport` drains it at once. The analysis must not change between steps: `LiveCluster`
 * updates its analysis in place, so its caller holds the next recompute until the report is done.
 */
export function* reportSteps(analysis: ClusterAnalysis, options: ReportOptions = {}): Generator<void, Report, void> {
  const { cluster, profile } = analysis.context;
  const summary = reportSummary(analysis);
  const services: ReportService[] = [];
  let links: ReportLink[] = [];
  for (const sa of analysis.services) {
    const saLinks = sa.probability > 0 ? serviceLinks(analysis.context, sa) : [];
    services.push(reportService(analysis, sa, saLinks, atRiskNodes(sa), options.fixes !== false));
    if (options.links !== false) for (const l of saLinks) links.push(reportLink(analysis, sa, l));
    yield;
  }
  let linksOmitted = 0;
  if (options.maxLinks !== undefined && links.length > options.maxLinks) {
    links.sort((a, b) => b.probability - a.probability || b.client.pods - a.client.pods);
    linksOmitted = links.length - options.maxLinks;
    links = links.slice(0, options.maxLinks);
  }
  const count = (values: Array<string | undefined>): Record<string, number> => {
    // No prototype: a proxy mode read as "constructor" or "__proto__" is counted like any other.
    const out: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const v of values) if (v) out[v] = (out[v] ?? 0) + 1;
    return out;
  };
  return {
    apiVersion: 'loopscope/v1',
    generatedAt: (options.now ?? new Date()).toISOString(),
    cluster: {
      nodes: cluster.nodes.filter((n) => !n.missing).length,
      pods: cluster.pods.length,
      clientPods: cluster.clientPodCount,
      provider: profile.provider,
      podIpRoutable: { value: profile.podIpRoutable.value ?? null, source: profile.podIpRoutable.source },
      podNetwork: profile.podNetwork,
      proxyModes: count(profile.nodes.map((n) => n.proxyMode.value)),
      ipvsBind: count(profile.nodes.map((n) => n.ipvsBind?.value)),
      evidenceNodes: analysis.context.classes.filter((c) => c.evidenceNode !== undefined).length,
    },
    summary,
    services,
    links,
    linksOmitted,
    problems: [...cluster.problems.map(formatProblem), ...analysis.evidenceProblems],
  };
}

function reportService(analysis: ClusterAnalysis, sa: ServiceAnalysis, links: Link[], nodes: number[], withFixes: boolean): ReportService {
  const { cluster } = analysis.context;
  const names = (list: number[]): string[] => list.map((n) => cluster.nodes[n]!.name);
  const svc = sa.service;
  const clientPodsAtRisk = nodes.reduce((a, n) => a + cluster.nodes[n]!.clientPods, 0);
  const callers = knownCallers(analysis, sa);
  const callersFigure = callersProbability(callers, sa.verdict);
  return {
    namespace: svc.namespace,
    name: svc.name,
    type: svc.type,
    verdict: sa.verdict,
    loopbackProbability: round(sa.probability),
    lbScope: sa.scope,
    trafficPolicy: svc.type === 'LoadBalancer' || svc.type === 'NodePort' ? (svc.trafficPolicy ?? null) : null,
    backendKind: sa.backendKind,
    ingresses: sa.ingresses.map((i) => ({
      ...(i.ingress.ip ? { ip: i.ingress.ip } : { hostname: i.ingress.hostname }),
      port: i.ingress.port,
      protocol: i.ingress.protocol,
      ipMode: i.ingress.ipMode,
      loopbackProbability: round(i.probability),
      atRiskNodes: names(i.atRisk.filter((r) => r.clientPods > 0).map((r) => r.node)),
      noEligibleBackendNodes: names(i.noEligibleNodes),
      unknownNodes: names(i.unknownNodes),
    })),
    atRiskNodes: names(nodes),
    clientPodsOnAtRiskNodes: clientPodsAtRisk,
    worstClientProbability: round(worstClientProbability(sa)),
    clientPodsAtRisk,
    unreachable: reportUnreachable(analysis, sa),
    callers: callers.map((c) => reportCaller(cluster, c)),
    callersProbability: callersFigure === null ? null : round(callersFigure),
    missing: (sa.missing ?? []).map((m) => ({ kind: m.kind, kubectl: m.kubectl })),
    affectedWorkloads: affectedWorkloads(analysis.context, links).map((w) => ({
      namespace: w.workload.namespace,
      kind: w.workload.kind,
      name: w.workload.name,
      pods: w.pods,
      nodes: w.nodes,
      maxProbability: round(w.maxProbability),
    })),
    reasons: sa.reasons,
    observed: sa.observed
      ? {
          unrepliedConnections: sa.observed.connections,
          byNode: sa.observed.byNode.map(([n, c]) => ({ node: cluster.nodes[n]!.name, connections: c })),
          byWorkload: sa.observed.byWorkload.map(([w, c]) => {
            const wl = cluster.workloads[w]!;
            return { namespace: wl.namespace, kind: wl.kind, name: wl.name, connections: c };
          }),
        }
      : null,
    fixes: withFixes
      ? fixesFor(analysis, sa).map((f) => ({
          ...f,
          predictedProbability: round(f.predictedProbability),
          predictedWorstClientProbability: round(f.predictedWorstClientProbability),
        }))
      : [],
  };
}

function reportUnreachable(analysis: ClusterAnalysis, sa: ServiceAnalysis): ReportUnreachable | null {
  const u = unreachableClients(analysis.context, sa);
  if (!u) return null;
  const { cluster } = analysis.context;
  return {
    clientPods: u.clientPods,
    nodes: u.nodes.map((n) => cluster.nodes[n]!.name),
    reasons: u.causes.map((c) => UNREACHABLE_CAUSE_TEXT[c]),
  };
}

function reportLink(analysis: ClusterAnalysis, sa: ServiceAnalysis, l: Link): ReportLink {
  const { cluster } = analysis.context;
  const w = cluster.workloads[l.workload]!;
  return {
    client: { node: cluster.nodes[l.node]!.name, namespace: w.namespace, workload: w.name, kind: w.kind, pods: l.pods },
    service: { namespace: sa.service.namespace, name: sa.service.name },
    ingress: {
      ...(l.ingress.ip ? { ip: l.ingress.ip } : { hostname: ingressAddress(l.ingress) }),
      port: l.ingress.port,
      protocol: l.ingress.protocol,
    },
    backend: l.backend,
    probability: round(l.probability),
  };
}

function reportCaller(cluster: ClusterModel, c: KnownCaller): ReportCaller {
  const pod = cluster.pods[c.pod]!;
  const w = cluster.workloads[pod.workload];
  const workload = w && w.kind !== 'Pod' ? { kind: w.kind, name: w.name } : undefined;
  return {
    namespace: pod.namespace,
    pod: pod.name,
    node: pod.node >= 0 ? cluster.nodes[pod.node]!.name : '',
    ...(pod.ip ? { podIP: pod.ip } : {}),
    ...(workload ? { workload } : {}),
    ingress: c.ingress,
    source: c.source,
    where: c.where,
    probability: round(c.probability),
  };
}
