/** Port ranges as iptables and nftables write them. */

import { parsePort } from './cidr';
import type { PortRange } from './ruleset';

/** `80`, `1000:2000`, `:1024`, `1024:` (iptables) or `1000-2000` (NAT targets, nftables). */
export function parsePortRange(text: string, separator: ':' | '-' = ':'): PortRange | null {
  const idx = text.indexOf(separator);
  if (idx < 0) {
    const p = parsePort(text);
    return p === null ? null : { from: p, to: p };
  }
  const a = text.slice(0, idx);
  const b = text.slice(idx + 1);
  const from = a === '' ? 0 : parsePort(a);
  const to = b === '' ? 65535 : parsePort(b);
  if (from === null || to === null || from > to) return null;
  return { from, to };
}

/** `80,443,8000:8080` (multiport). */
export function parsePortList(text: string): PortRange[] | null {
  const out: PortRange[] = [];
  for (const item of text.split(',')) {
    const r = parsePortRange(item);
    if (!r) return null;
    out.push(r);
  }
  return out.length > 0 ? out : null;
}

export function inPortRanges(ranges: readonly PortRange[], port: number): boolean {
  return ranges.some((r) => port >= r.from && port <= r.to);
}
