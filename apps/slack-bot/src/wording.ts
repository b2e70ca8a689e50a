import {
  formatProbability,
  type Explanation,
  type ReportMissingInput,
  type ReportUnreachable,
  type ServiceExplanation,
  type Verdict,
} from '@loopscope/core';
import type { Unavailable } from './clusters/resolution';

/**
 * Words shared by the Block Kit and plain-text renderings, so both say the same thing.
 * `b` makes text bold in the target format (identity for plain text).
 */

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const VERDICT_WORDS: Record<Verdict, string> = {
  loopback: 'loopback',
  unreachable: 'unreachable',
  safe: 'safe',
  'not-applicable': 'not applicable',
  unknown: 'unknown',
};

export function verdictWord(v: Verdict): string {
  return VERDICT_WORDS[v];
}

/**
 * What a Service's explanation may carry beside v1's fields (core adds them from the report's):
 * read when present, else derived from the explanation itself, so an older exporter still answers.
 */
export interface HeadlineFields {
  worstClientProbability?: number;
  clientPodsAtRisk?: number;
  /** Known callers: the workload as a name (core's explanation) or as { kind, name } (the report's). */
  callers?: Array<{ pod: string; workload?: string | { name: string }; where: string; probability: number }>;
  unreachable?: ReportUnreachable | null;
  missing?: ReportMissingInput[];
}

// Core's explanation now carries these fields itself; the looser shapes here also read an older exporter's answer.
export type ExplainedService = Omit<ServiceExplanation, keyof HeadlineFields> & HeadlineFields;

function headlineFields(s: ServiceExplanation): HeadlineFields {
  return s as unknown as HeadlineFields;
}

/** The headline's figures: the worst-placed client's p, and the client pods (and nodes) at risk. */
export function headlineFigures(s: ServiceExplanation): { worst: number; clientPods: number; nodes: number } {
  const f = headlineFields(s);
  // Without the field: the worst at-risk node's p (the explanation lists nodes worst first).
  const worst = f.worstClientProbability ?? s.where.nodes.reduce((m, n) => Math.max(m, n.probability), 0);
  return { worst: worst > 0 ? worst : s.probability, clientPods: f.clientPodsAtRisk ?? s.where.clientPods, nodes: s.where.nodeCount };
}

/** Who is known to call it, as the answer's first line ends: "checkout-api calls it (env PAYMENTS_API_URL)". */
export function callersPhrase(s: ServiceExplanation): string | undefined {
  const callers = headlineFields(s).callers ?? [];
  if (!callers.length) return undefined;
  // One name per calling workload (or bare pod), the likeliest to loop first.
  const byName = new Map<string, string>();
  for (const c of [...callers].sort((a, b) => b.probability - a.probability)) {
    const name = typeof c.workload === 'string' ? c.workload : (c.workload?.name ?? c.pod);
    if (!byName.has(name)) byName.set(name, c.where);
  }
  const [first, ...rest] = [...byName];
  return rest.length === 0
    ? `${first![0]} calls it (${first![1]})`
    : `${first![0]} (${first![1]}) and ${plural(rest.length, 'more workload')} call it`;
}

/** The verdict and the headline figure in one line: the worst-placed client's figure, and its known callers. */
export function verdictLine(
  e: Explanation,
  b: (s: string) => string = (s) => s,
  pct: (p: number) => string = formatProbability,
  text: (s: string) => string = (s) => s,
): string {
  const label = b(e.target.label);
  const many = e.services.length > 1;
  const s = e.services[0];
  switch (e.verdict) {
    case 'loopback':
      if (e.target.kind === 'workload' || e.target.kind === 'pod') {
        return `${label}: ${b('loopback')}, ${many ? 'up to ' : ''}${b(pct(e.probability))} of its new connections time out${many ? ` (towards ${e.services.length} Services)` : s ? ` calling ${text(`${s.namespace}/${s.name}`)}` : ''}`;
      }
      if (s) {
        const f = headlineFigures(s);
        const callers = callersPhrase(s);
        return `${label}: ${b(`up to ${pct(f.worst)}`)} of connections from ${plural(f.clientPods, 'client pod')} on ${plural(f.nodes, 'node')} time out${callers ? `; ${text(callers)}` : ''}`;
      }
      return `${label}: ${b('loopback')}, ${b(pct(e.probability))} of new connections loop back and time out`;
    case 'unreachable': {
      const u = s && headlineFields(s).unreachable;
      return u
        ? `${label}: ${b('unreachable')}, ${plural(u.clientPods, 'client pod')} on ${plural(u.nodes.length, 'node')} cannot connect through the LB at all${u.reasons[0] ? ` (${text(u.reasons[0])})` : ''}`
        : `${label}: ${b('unreachable')}, some in-cluster clients cannot connect through the LB at all`;
    }
    case 'safe':
      return `${label}: ${b('safe')} from internal-LB loopback (0%)`;
    case 'not-applicable':
      return `${label}: ${b('not applicable')}, no internal-LB path to loop through`;
    case 'unknown': {
      const missing = (s && headlineFields(s).missing) ?? [];
      return missing.length
        ? `${label}: ${b('unknown')}, the input has no ${text(missing.map((m) => m.kind).join(' or '))}: add ${missing.map((m) => `\`${text(m.kubectl)}\``).join(' and ')}`
        : `${label}: ${b('unknown')}, loopscope cannot tell from what it sees`;
    }
  }
}

/** An at-risk list entry: the worst-client figure first, then where, then the cluster exposure. */
export function atRiskEntry(
  s: AtRiskEntryFigures,
  b: (s: string) => string = (s) => s,
  pct: (p: number) => string = formatProbability,
): string {
  const worst = s.worstClientProbability ?? s.loopbackProbability;
  return `${b(`up to ${pct(worst)}`)} · ${plural(s.clientPodsOnAtRiskNodes, 'client pod')} on ${plural(s.atRiskNodes, 'node')} · ${plural(s.affectedWorkloads, 'workload')} · exposure ${pct(s.loopbackProbability)}`;
}

export interface AtRiskEntryFigures {
  worstClientProbability?: number;
  loopbackProbability: number;
  atRiskNodes: number;
  clientPodsOnAtRiskNodes: number;
  affectedWorkloads: number;
}

/** Worst first: by the worst-client figure (the exposure for exporters without it), then the exposure. */
export function byWorstClient<T extends AtRiskEntryFigures>(list: T[]): T[] {
  return [...list].sort(
    (a, b) =>
      (b.worstClientProbability ?? b.loopbackProbability) - (a.worstClientProbability ?? a.loopbackProbability) ||
      b.loopbackProbability - a.loopbackProbability,
  );
}

export function serviceLine(
  s: ServiceExplanation,
  b: (s: string) => string = (s) => s,
  pct: (p: number) => string = formatProbability,
): string {
  return `${b(`${s.namespace}/${s.name}`)}: ${b(verdictWord(s.verdict))}${s.verdict === 'loopback' || s.probability > 0 ? `, ${b(pct(s.probability))}` : ''}${s.ingress ? ` via ${s.ingress}` : ''}`;
}

export function unavailableLine(u: Unavailable, b: (s: string) => string = (s) => s): string {
  return `Cluster ${b(u.cluster)} did not answer (${u.reason}; ${u.location}).`;
}

export function unavailableNote(list: Unavailable[], answeredFromOthers: boolean, b: (s: string) => string = (s) => s): string {
  return list.map((u) => unavailableLine(u, b)).join(' ') + (answeredFromOthers ? ' This answer comes from the other clusters.' : '');
}

/** What the bot understands, for help and for a question it did not. */
export const CAPABILITIES: Array<{ ask: string; what: string }> = [
  { ask: 'why is payments timing out', what: 'the verdict and figure, the packet path hop by hop, where, and the fixes' },
  { ask: 'why does checkout time out calling payments', what: "one caller's own figure towards one Service" },
  { ask: 'is prod/payments at risk', what: 'the short answer: verdict, where, fixes' },
  {
    ask: 'what if payments used Cluster',
    what: 'the figure before and after a change (Cluster/Local, VIP/Proxy, prevent-loopback, via ClusterIP, moved clients, kube-proxy tke-fixed)',
  },
  { ask: 'which services are at risk', what: 'the worst Services that loop, with their figures, and a link to all of them' },
  { ask: 'help', what: 'this list' },
];

export const TARGET_FORMS =
  'A target is a Service (payments-api or payments/payments-api), a workload (deployment/checkout-api), a pod (pod/NAME) or an LB address (10.0.3.15 or 10.0.3.15:8080). Add "in CLUSTER" to ask one cluster.';
