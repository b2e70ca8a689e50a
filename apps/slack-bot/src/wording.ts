import { formatProbability, type Explanation, type ServiceExplanation, type Verdict } from '@loopscope/core';
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

/** The verdict and the figure in one line. */
export function verdictLine(e: Explanation, b: (s: string) => string = (s) => s, pct: (p: number) => string = formatProbability): string {
  const label = b(e.target.label);
  const many = e.services.length > 1;
  switch (e.verdict) {
    case 'loopback':
      if (e.target.kind === 'workload' || e.target.kind === 'pod') {
        return `${label}: ${b('loopback')}, ${many ? 'up to ' : ''}${b(pct(e.probability))} of its new connections time out${many ? ` (towards ${e.services.length} Services)` : e.services[0] ? ` calling ${e.services[0].namespace}/${e.services[0].name}` : ''}`;
      }
      return `${label}: ${b('loopback')}, ${b(pct(e.probability))} of new connections loop back and time out`;
    case 'unreachable':
      return `${label}: ${b('unreachable')}, some in-cluster clients cannot connect through the LB at all`;
    case 'safe':
      return `${label}: ${b('safe')} from internal-LB loopback (0%)`;
    case 'not-applicable':
      return `${label}: ${b('not applicable')}, no internal-LB path to loop through`;
    case 'unknown':
      return `${label}: ${b('unknown')}, loopscope cannot tell from what it sees`;
  }
}

export function serviceLine(s: ServiceExplanation, b: (s: string) => string = (s) => s, pct: (p: number) => string = formatProbability): string {
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
  { ask: 'what if payments used Cluster', what: 'the figure before and after a change (Cluster/Local, VIP/Proxy, prevent-loopback, via ClusterIP, moved clients, kube-proxy tke-fixed)' },
  { ask: 'which services are at risk', what: 'the worst Services that loop, with their figures, and a link to all of them' },
  { ask: 'help', what: 'this list' },
];

export const TARGET_FORMS =
  'A target is a Service (payments-api or payments/payments-api), a workload (deployment/checkout-api), a pod (pod/NAME) or an LB address (10.0.3.15 or 10.0.3.15:8080). Add "in CLUSTER" to ask one cluster.';
