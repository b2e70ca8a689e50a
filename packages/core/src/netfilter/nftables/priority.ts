/** Chain priorities by name (nft(8), "PRIORITY"): `dstnat - 10` → -110 for ip/ip6/inet. */
import { lookupTable } from '../ruleset/lookupTable';

const NAMED = lookupTable<number>({ raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 });
/** The bridge family names the same keywords at other numbers. */
const BRIDGE = lookupTable<number>({ dstnat: -300, filter: -200, out: 100, srcnat: 300 });

export function parsePriority(text: string, family: string): number | null {
  // Trimmed first: two adjacent `\s*` around an optional group backtrack quadratically on long blank runs.
  const m = /^(-?\d+|[a-z]+)(?:\s*([+-])\s*(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const head = m[1] as string;
  const base = /^-?\d+$/.test(head) ? Number(head) : (family === 'bridge' ? BRIDGE : NAMED)[head];
  if (base === undefined) return null;
  const delta = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return base + delta;
}
