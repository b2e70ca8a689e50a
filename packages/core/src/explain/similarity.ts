/** Edit distance for "did you mean" suggestions (names are short; O(a·b) is fine). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidates to `query`: substring matches first, then by edit distance. */
export function closest(query: string, candidates: Iterable<string>, limit = 5): string[] {
  const q = query.toLowerCase();
  const scored: Array<[number, string]> = [];
  for (const c of candidates) {
    const l = c.toLowerCase();
    const tail = l.slice(l.lastIndexOf('/') + 1);
    // A typo in the first part of a longer name ("paymnts" for "payments-api") counts as close.
    const prefix = tail.slice(0, q.length + 1);
    let score = l.includes(q) || (q.length >= 3 && q.includes(tail)) ? 0 : Math.min(editDistance(q, l), editDistance(q, tail), q.length >= 4 ? editDistance(q, prefix) + 0.5 : Infinity);
    if (score === 0 && l !== q) score = 0.5;
    if (score <= Math.max(2, Math.floor(q.length / 3))) scored.push([score, c]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].length - b[1].length || a[1].localeCompare(b[1]));
  return [...new Set(scored.map((s) => s[1]))].slice(0, limit);
}
