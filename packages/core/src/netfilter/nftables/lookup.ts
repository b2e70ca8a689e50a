/**
 * Set and map lookups: a key of one or more parts (`ip daddr . meta l4proto
 * . th dport`) against the elements, exact keys through one hash lookup
 * (kube-proxy's service-ips map has one element per Service port), prefixes
 * and ranges (interval sets) tested one by one.
 */

import type { MatchContext, PacketState, Unknown } from '../ruleset/match';
import { type FieldReader, fieldReader, parsePattern, type Pattern, patternMatches, type Val, valKey } from './fields';
import type { NftElement, NftExpr, NftValue } from './model';

export interface Lookup {
  /** The matching element, null when none, or why it cannot be told. */
  find(p: PacketState): NftElement | null | Unknown;
}

function keyParts(e: NftExpr): NftExpr[] {
  return e.kind === 'concat' ? e.parts : [e];
}

function valueParts(v: NftValue): NftValue[] {
  return v.kind === 'concat' ? v.parts : [v];
}

/** Compiles a key expression against elements; null with the reason when the key is not one loopscope reads. */
export function compileLookup(
  key: NftExpr,
  elements: readonly NftElement[],
  ctx: MatchContext,
  setLabel: string,
): Lookup | { refused: string } {
  const readers: FieldReader[] = [];
  for (const part of keyParts(key)) {
    const r = fieldReader(part, ctx);
    if (!r) return { refused: `the key part ${part.kind === 'field' ? part.name : part.kind} is not evaluated by loopscope` };
    readers.push(r);
  }
  const exact = new Map<string, NftElement>();
  const intervals: Array<{ pats: Pattern[]; el: NftElement }> = [];
  let unreadable = 0;
  for (const el of elements) {
    const parts = valueParts(el.key);
    if (parts.length !== readers.length) {
      unreadable++;
      continue;
    }
    const pats: Pattern[] = [];
    for (let i = 0; i < parts.length; i++) {
      const pat = parsePattern((readers[i] as FieldReader).kind, parts[i] as NftValue);
      if (!pat) break;
      pats.push(pat);
    }
    if (pats.length !== parts.length) {
      unreadable++;
      continue;
    }
    if (pats.every((p) => 'exact' in p)) {
      const k = pats.map((p) => (p as { exact: string }).exact).join('|');
      if (!exact.has(k)) exact.set(k, el);
    } else intervals.push({ pats, el });
  }
  const missReason: Unknown | null =
    unreadable > 0 ? { unknown: `${unreadable} element(s) of ${setLabel} cannot be read, so a miss is not certain` } : null;
  return {
    find(p) {
      const vals: Val[] = [];
      for (const r of readers) {
        const v = r.read(p);
        if (v === 'absent') return null;
        if (typeof v === 'object' && 'unknown' in v) return v;
        vals.push(v);
      }
      const hit = exact.get(vals.map(valKey).join('|'));
      if (hit) return hit;
      for (const { pats, el } of intervals) if (pats.every((pat, i) => patternMatches(pat, vals[i] as Val))) return el;
      return missReason;
    },
  };
}
