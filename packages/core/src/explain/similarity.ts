/**
 * "Did you mean" for explain targets, bounded in time and work whatever the query: a query is
 * compared only with candidates whose length is within the allowed distance (a length-bucket
 * filter), the edit distance is computed in a band of that width and stops as soon as the band's
 * minimum exceeds it, and the scan gives up at a deadline with what it has found.
 */

/** Levenshtein distance (unbounded; for short names). */
export function editDistance(a: string, b: string): number {
  return editDistanceWithin(a, b, Math.max(a.length, b.length));
}

/**
 * The edit distance when it is at most `max`, else `max + 1`. O(min(a, b) · max) time: only the
 * diagonal band |i − j| ≤ max can hold a path that cheap (Ukkonen).
 */
export function editDistanceWithin(a: string, b: string, max: number): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a.length > b.length) [a, b] = [b, a];
  const over = max + 1;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j <= max ? j : over;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - max);
    const to = Math.min(b.length, i + max);
    cur[from - 1] = from === 1 ? i : over;
    let rowMin = cur[from - 1]!;
    for (let j = from; j <= to; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1));
      cur[j] = v > over ? over : v;
      if (v < rowMin) rowMin = v;
    }
    if (to < b.length) cur[to + 1] = over;
    if (rowMin > max) return over;
    [prev, cur] = [cur, prev];
  }
  return Math.min(prev[b.length]!, over);
}

export interface ClosestOptions {
  limit?: number;
  /** Give up scanning after this long (ms) and return what was found; default 250. */
  budgetMs?: number;
  now?: () => number;
}

/** No name is longer (a namespace, a kind and a 253-character name); a longer query has no near match. */
const MAX_QUERY_CHARS = 1024;

/** The closest candidates to `query`: substring matches first, then by edit distance. */
export function closest(query: string, candidates: Iterable<string>, limitOrOptions: number | ClosestOptions = 5): string[] {
  const options = typeof limitOrOptions === 'number' ? { limit: limitOrOptions } : limitOrOptions;
  const limit = options.limit ?? 5;
  const now = options.now ?? Date.now;
  const deadline = now() + (options.budgetMs ?? 250);
  if (query.length > MAX_QUERY_CHARS) return [];
  const q = query.toLowerCase();
  const max = Math.max(2, Math.floor(q.length / 3));
  const scored: Array<[number, string]> = [];
  let seen = 0;
  for (const c of candidates) {
    if ((++seen & 255) === 0 && now() > deadline) break;
    const l = c.toLowerCase();
    const tail = l.slice(l.lastIndexOf('/') + 1);
    let score: number;
    if (l.includes(q) || (q.length >= 3 && tail.length > 0 && q.includes(tail))) score = l === q ? 0 : 0.5;
    else {
      // A typo in the first part of a longer name ("paymnts" for "payments-api") counts as close.
      const prefix = q.length >= 4 ? editDistanceWithin(q, tail.slice(0, q.length + 1), max) + 0.5 : Infinity;
      score = Math.min(editDistanceWithin(q, l, max), editDistanceWithin(q, tail, max), prefix);
    }
    if (score <= max) scored.push([score, c]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].length - b[1].length || a[1].localeCompare(b[1]));
  return [...new Set(scored.map((s) => s[1]))].slice(0, limit);
}
