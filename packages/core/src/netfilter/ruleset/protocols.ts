/** IP protocol names and numbers, as iptables (`-p`) and nftables (`meta l4proto`) write them. */
import { lookupTable } from './lookupTable';

const PROTOCOLS = lookupTable<number>({
  all: 0,
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  dccp: 33,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
});

/** `tcp` → 6, `6` → 6, `all` → 'all'; null when unknown. */
export function parseProtocol(text: string): number | 'all' | null {
  const lower = text.toLowerCase();
  if (lower === 'all' || lower === '0') return 'all';
  const known = PROTOCOLS[lower];
  if (known !== undefined) return known;
  if (/^\d{1,3}$/.test(lower) && Number(lower) <= 255) return Number(lower);
  return null;
}

const PROTOCOL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(PROTOCOLS)) if (n !== undefined && !PROTOCOL_NAMES.has(n)) PROTOCOL_NAMES.set(n, name);

export function protocolName(num: number): string {
  return PROTOCOL_NAMES.get(num) ?? String(num);
}
