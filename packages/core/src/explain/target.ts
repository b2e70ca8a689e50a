import type { ClusterModel } from '../cluster/model';
import { workloadLabel } from '../cluster/workloads';
import { servicesNamed } from '../whatif/serviceRef';
import { closest } from './similarity';
import { WORKLOAD_KIND_ALIASES } from './names';

/** What a user can ask about: a Service, a workload, a pod, or an LB address. */
export type ExplainTarget =
  | { kind: 'service'; service: number }
  | { kind: 'ingress'; service: number; address: string; port?: number }
  | { kind: 'workload'; workload: number }
  | { kind: 'pod'; pod: number };

export type TargetResolution =
  { ok: true; target: ExplainTarget } | { ok: false; problem: 'unknown' | 'ambiguous'; message: string; suggestions: string[] };

const WORKLOAD_KINDS = WORKLOAD_KIND_ALIASES;

/**
 * Resolves free text to a target. Accepted: `10.0.0.5[:8080]`, `[fd00::5]:80`, `ns/name` or `name`
 * (Service first), `svc/name`, `deployment/name`, `ns/deployment/name`, `pod/name`, `ns/pod/name`.
 */
/**
 * Longer than any target there can be: a namespace (63) + kind + a name (253), or a hostname (253).
 * Longer text is refused before any lookup, so "did you mean" never sees it.
 */
export const MAX_TARGET_CHARS = 512;

export interface ResolveOptions {
  /** Refuse longer targets (default MAX_TARGET_CHARS). */
  maxTargetChars?: number;
  /** Time budget for "did you mean" (ms, default 250). */
  suggestBudgetMs?: number;
}

/** The one-line refusal for a target over the cap (the exporter and the CLI say the same). */
export function targetTooLong(length: number, max = MAX_TARGET_CHARS): string | undefined {
  return length > max
    ? `the target is ${length} characters long; no Service, workload, pod or LB address is longer than ${max}`
    : undefined;
}

export function resolveTarget(cluster: ClusterModel, raw: string, options: ResolveOptions = {}): TargetResolution {
  const tooLong = targetTooLong(raw.length, options.maxTargetChars);
  if (tooLong) return { ok: false, problem: 'unknown', message: tooLong, suggestions: [] };
  const budgetMs = options.suggestBudgetMs;
  const text = raw.trim().replace(/^(service|svc)\//i, 'service/');
  if (!text) return { ok: false, problem: 'unknown', message: 'no target given', suggestions: [] };
  const address = parseAddress(text);
  if (address) {
    const svc = cluster.services.find((s) => s.ingresses.some((i) => i.ip === address.ip || i.hostname === address.ip));
    if (svc) return { ok: true, target: { kind: 'ingress', service: svc.index, address: address.ip, port: address.port } };
    const byClusterIP = cluster.services.find((s) => s.clusterIP === address.ip);
    if (byClusterIP) return { ok: true, target: { kind: 'service', service: byClusterIP.index } };
    return {
      ok: false,
      problem: 'unknown',
      message: `no Service has the LB ingress ${address.ip}`,
      suggestions: closest(
        address.ip,
        cluster.services.flatMap((s) => s.ingresses.map((i) => i.ip ?? i.hostname ?? '')),
        { budgetMs },
      ),
    };
  }

  const parts = text.split('/');
  let namespace: string | undefined;
  let kind: string | undefined;
  let name: string;
  if (parts.length === 3) [namespace, kind, name] = parts as [string, string, string];
  else if (parts.length === 2 && (WORKLOAD_KINDS[parts[0]!.toLowerCase()] || /^(pod|po|service)$/i.test(parts[0]!)))
    [kind, name] = parts as [string, string];
  else if (parts.length === 2) [namespace, name] = parts as [string, string];
  else name = parts[0]!;
  const kindLower = kind?.toLowerCase();

  const inNs = <T extends { namespace: string }>(x: T): boolean => namespace === undefined || x.namespace === namespace;
  if (!kind || kindLower === 'service') {
    const services = servicesNamed(cluster, name).filter(inNs);
    if (services.length === 1) return { ok: true, target: { kind: 'service', service: services[0]!.index } };
    if (services.length > 1)
      return ambiguous(
        name,
        services.map((s) => `${s.namespace}/${s.name}`),
      );
  }
  if (!kind || WORKLOAD_KINDS[kindLower!]) {
    const wanted = kind ? WORKLOAD_KINDS[kindLower!] : undefined;
    const workloads = cluster.workloads.filter((w) => w.name === name && inNs(w) && (!wanted || w.kind === wanted) && w.kind !== 'Pod');
    if (workloads.length === 1) return { ok: true, target: { kind: 'workload', workload: workloads[0]!.index } };
    if (workloads.length > 1) return ambiguous(name, workloads.map(workloadLabel));
  }
  if (!kind || kindLower === 'pod' || kindLower === 'po') {
    const pods: number[] = [];
    cluster.pods.forEach((p, i) => p.name === name && inNs(p) && pods.push(i));
    if (pods.length === 1) return { ok: true, target: { kind: 'pod', pod: pods[0]! } };
    if (pods.length > 1)
      return ambiguous(
        name,
        pods.map((i) => `${cluster.pods[i]!.namespace}/pod/${name}`),
      );
  }
  const candidates = [
    ...cluster.services.map((s) => `${s.namespace}/${s.name}`),
    ...cluster.workloads.filter((w) => w.kind !== 'Pod').map(workloadLabel),
  ];
  let suggestions = closest(namespace ? `${namespace}/${name}` : name, candidates, { budgetMs });
  if (suggestions.length === 0 && cluster.pods.length <= 50_000)
    suggestions = closest(
      name,
      cluster.pods.map((p) => `${p.namespace}/pod/${p.name}`),
      { limit: 3, budgetMs },
    );
  return {
    ok: false,
    problem: 'unknown',
    message: `nothing called "${raw.trim()}" in the snapshot (looked for a Service, a workload, a pod and an LB IP)`,
    suggestions,
  };
}

function ambiguous(name: string, candidates: string[]): TargetResolution {
  return {
    ok: false,
    problem: 'ambiguous',
    message: `"${name}" matches ${candidates.length} objects; name one as shown`,
    suggestions: [...candidates].sort().slice(0, 10),
  };
}

function parseAddress(text: string): { ip: string; port?: number } | undefined {
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { ip: v6[1]!, port: v6[2] ? Number(v6[2]) : undefined };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(text);
  if (v4) return { ip: v4[1]!, port: v4[2] ? Number(v4[2]) : undefined };
  if (/^[0-9a-fA-F]*:[0-9a-fA-F:]+$/.test(text) && text.includes('::')) return { ip: text };
  // AWS NLB hostnames end in .elb.amazonaws.com. Searched in the hostname-shaped tail with
  // indexOf, not an unanchored regex (which backtracks over every ".elb." of a long target).
  if (isElbHostname(text)) return { ip: text };
  return undefined;
}

/** `…\.elb\.[a-z0-9.-]+$`, in linear time: ".elb." and at least one character in the tail of hostname characters. */
function isElbHostname(text: string): boolean {
  let start = text.length;
  while (start > 0 && /[a-z0-9.-]/i.test(text[start - 1]!)) start--;
  const at = text.toLowerCase().indexOf('.elb.', start);
  return at >= 0 && at + 5 < text.length;
}
