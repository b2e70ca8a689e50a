import { isCloseMatch, type Explanation } from '@loopscope/core';
import { ClusterUnavailable, type ClusterApi, type ExplainLookup } from './clusterApi';

/** A cluster that did not answer, and why. */
export interface Unavailable {
  cluster: string;
  location: string;
  reason: string;
}

/** A target that a cluster can resolve exactly. */
export interface TargetRef {
  cluster: string;
  target: string;
}

export type Resolution =
  | { kind: 'found'; cluster: string; target: string; explanation: Explanation; assumed?: string; unavailable: Unavailable[] }
  /** Several clusters or objects match: the user picks. */
  | { kind: 'choice'; prompt: string; options: TargetRef[]; unavailable: Unavailable[] }
  | { kind: 'unknown'; target: string; message: string; suggestions: TargetRef[]; clustersAsked: string[]; unavailable: Unavailable[] }
  /** No cluster that was asked answered. */
  | { kind: 'unavailable'; unavailable: Unavailable[] };

/** Which kind of object the question is about, when a name could be either. */
export type Prefer = 'service' | 'client';

interface Asked {
  cluster: ClusterApi;
  target: string;
}

type Answered = { asked: Asked; lookup: ExplainLookup } | { asked: Asked; unavailable: Unavailable };

/**
 * Resolves a target across clusters: asks every cluster (or the one named) at once, and settles on
 * one explanation, a short choice (several clusters or namespaces match), or "did you mean".
 * Names are matched forgivingly: when nothing matches exactly but exactly one close candidate does
 * ("payments" → payments/payments-api, "paymnts-api" → payments/payments-api), that one is used
 * and the answer says so.
 */
export async function resolveTarget(
  clusters: readonly ClusterApi[],
  text: string,
  options: { cluster?: string; prefer: Prefer },
): Promise<Resolution> {
  const questions: Asked[] = [];
  const scope = options.cluster ? clusters.filter((c) => c.name === options.cluster) : clusters;
  for (const cluster of scope) questions.push({ cluster, target: text });
  // "prod/payments" where prod is a cluster: also ask prod for "payments" (prod may be a namespace too).
  const slash = text.indexOf('/');
  if (!options.cluster && slash > 0) {
    const named = clusters.find((c) => c.name.toLowerCase() === text.slice(0, slash));
    if (named && text.length > slash + 1) questions.push({ cluster: named, target: text.slice(slash + 1) });
  }
  const answered = await askAll(questions);
  const unavailable = uniqueUnavailable(answered);
  const lookups = answered.filter((a): a is Extract<Answered, { lookup: ExplainLookup }> => 'lookup' in a);
  if (lookups.length === 0) return { kind: 'unavailable', unavailable };

  const found = settle(lookups, text, unavailable);
  if (found) return found;

  // Nothing exact: one close candidate (across clusters) is taken, several are offered.
  // Each suggestion is judged against what its cluster was asked ("payments" for "prod/payments" in cluster prod).
  const asked = new Map<string, string>();
  for (const a of lookups)
    if (a.lookup.status !== 'found')
      for (const target of a.lookup.suggestions)
        if (isCloseMatch(a.asked.target, target)) asked.set(`${a.asked.cluster.name}\u0000${target}`, a.asked.target);
  const suggestions = dedupeRefs(
    lookups.flatMap((a) =>
      a.lookup.status === 'found' ? [] : a.lookup.suggestions.map((target) => ({ cluster: a.asked.cluster.name, target })),
    ),
  );
  const strong = suggestions.filter((s) => asked.has(`${s.cluster}\u0000${s.target}`));
  const preferred = strong.filter((s) => refKind(s.target) === options.prefer);
  const pick = distinctTargets(preferred).length === 1 ? preferred : distinctTargets(strong).length === 1 ? strong : [];
  if (pick.length > 0) {
    const again = await askAll(pick.map((p) => ({ cluster: clusters.find((c) => c.name === p.cluster)!, target: p.target })));
    unavailable.push(...uniqueUnavailable(again).filter((u) => !unavailable.some((x) => x.cluster === u.cluster)));
    const settled = settle(
      again.filter((a): a is Extract<Answered, { lookup: ExplainLookup }> => 'lookup' in a),
      text,
      unavailable,
    );
    if (settled?.kind === 'found') return { ...settled, assumed: `taking "${text}" to mean ${settled.target}` };
    if (settled) return settled;
  }
  const firstUnknown = lookups.find((a) => a.lookup.status !== 'found')!.lookup as Exclude<ExplainLookup, { status: 'found' }>;
  const ranked = [...strong, ...suggestions.filter((s) => !strong.includes(s))];
  return {
    kind: 'unknown',
    target: text,
    message: firstUnknown.message,
    suggestions: ranked.slice(0, 8),
    clustersAsked: [...new Set(lookups.map((a) => a.asked.cluster.name))],
    unavailable,
  };
}

/** One explanation, or a choice between several found / ambiguous ones; undefined when all are unknown. */
function settle(lookups: Array<{ asked: Asked; lookup: ExplainLookup }>, text: string, unavailable: Unavailable[]): Resolution | undefined {
  const found = new Map<string, { cluster: string; target: string; explanation: Explanation }>();
  for (const a of lookups) {
    if (a.lookup.status !== 'found') continue;
    const target = canonicalTarget(a.lookup.explanation);
    found.set(`${a.asked.cluster.name}\u0000${target}`, { cluster: a.asked.cluster.name, target, explanation: a.lookup.explanation });
  }
  const all = [...found.values()];
  if (all.length === 1) return { kind: 'found', ...all[0]!, unavailable };
  if (all.length > 1) {
    const clusterCount = new Set(all.map((f) => f.cluster)).size;
    const prompt =
      clusterCount > 1 && distinctTargets(all).length === 1
        ? `"${text}" is in ${clusterCount} clusters. Which one?`
        : `"${text}" matches ${all.length} objects. Which one?`;
    return { kind: 'choice', prompt, options: all.map((f) => ({ cluster: f.cluster, target: f.target })), unavailable };
  }
  const ambiguous = lookups.filter((a) => a.lookup.status === 'ambiguous');
  if (ambiguous.length > 0) {
    const options = dedupeRefs(
      ambiguous.flatMap((a) =>
        a.lookup.status === 'ambiguous' ? a.lookup.suggestions.map((target) => ({ cluster: a.asked.cluster.name, target })) : [],
      ),
    );
    return {
      kind: 'choice',
      prompt: `"${text}" matches ${options.length} objects${new Set(options.map((o) => o.cluster)).size > 1 ? ' across clusters' : ''}. Which one?`,
      options,
      unavailable,
    };
  }
  return undefined;
}

async function askAll(asked: Asked[]): Promise<Answered[]> {
  return Promise.all(
    asked.map(async (a): Promise<Answered> => {
      try {
        return { asked: a, lookup: await a.cluster.explain(a.target) };
      } catch (err) {
        const reason = err instanceof ClusterUnavailable ? err.reason : `failed: ${(err as Error).message}`;
        return { asked: a, unavailable: { cluster: a.cluster.name, location: a.cluster.location, reason } };
      }
    }),
  );
}

function uniqueUnavailable(answered: Answered[]): Unavailable[] {
  const out: Unavailable[] = [];
  for (const a of answered) if ('unavailable' in a && !out.some((u) => u.cluster === a.unavailable.cluster)) out.push(a.unavailable);
  return out;
}

/** The exact name of what an explanation is about, as the exporter resolves it again. */
export function canonicalTarget(e: Explanation): string {
  // An LB target's label reads "10.0.3.15:8080 (LB of payments/payments-api)".
  return e.target.kind === 'ingress' ? e.target.label.split(' ')[0]! : e.target.label;
}

/** `ns/name` is a Service; `ns/kind/name` a workload or pod; an address is an LB (a Service's). */
export function refKind(target: string): Prefer {
  return target.split('/').length === 3 ? 'client' : 'service';
}

function distinctTargets(refs: TargetRef[]): string[] {
  return [...new Set(refs.map((r) => r.target))];
}

function dedupeRefs(refs: TargetRef[]): TargetRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.cluster}\u0000${r.target}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
