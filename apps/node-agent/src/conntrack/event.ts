/**
 * One line of `conntrack -E -o timestamp,id` (conntrack-tools), e.g.
 *
 *   [1796179842.877498]	    [NEW] tcp      6 120 SYN_SENT src=10.0.1.5 dst=10.0.3.15 sport=40818 dport=8080 [UNREPLIED] src=10.0.3.15 dst=10.0.1.5 sport=8080 dport=40818 id=3714668734
 *   [1796179842.877521]	[DESTROY] tcp      6 120 CLOSE src=… dst=… sport=… dport=… [UNREPLIED] src=… id=3714668734
 *
 * The first src/dst/sport/dport are the original direction before NAT (what the pod asked for);
 * `[UNREPLIED]` means no packet has come back in the reply direction. Older conntrack-tools print
 * DESTROY without the timeout and state, and some protocols (icmp) have no ports: only the fields
 * read here are required.
 */
export type ConntrackEventType = 'NEW' | 'UPDATE' | 'DESTROY';

export interface ConntrackEvent {
  type: ConntrackEventType;
  /** Seconds since the epoch as conntrack printed it, or undefined without `-o timestamp`. */
  timestamp?: number;
  protocol: string;
  src: string;
  dst: string;
  dport: number;
  /** The kernel's conntrack id (`-o id`); undefined when not printed. */
  id?: string;
  unreplied: boolean;
}

const TYPES: Record<string, ConntrackEventType> = { '[NEW]': 'NEW', '[UPDATE]': 'UPDATE', '[DESTROY]': 'DESTROY' };

/** The original-direction destination address, found without parsing the whole line (the hot path filter). */
export function originalDestination(line: string): string | undefined {
  const i = line.indexOf(' dst=');
  if (i < 0) return undefined;
  const end = line.indexOf(' ', i + 5);
  return line.slice(i + 5, end < 0 ? undefined : end);
}

/** Parses one event line; undefined for anything else (headers, summaries, warnings, garbage). */
export function parseConntrackEvent(line: string): ConntrackEvent | undefined {
  if (line.length > 4096) return undefined;
  const words = line.trim().split(/\s+/);
  let i = 0;
  let timestamp: number | undefined;
  const first = words[0];
  if (first && /^\[\d+(\.\d+)?\]$/.test(first)) {
    timestamp = Number(first.slice(1, -1));
    i++;
  }
  const type = TYPES[words[i] ?? ''];
  if (!type) return undefined;
  const protocol = words[i + 1];
  if (!protocol || !/^[a-z0-9-]+$/.test(protocol)) return undefined;
  let src: string | undefined;
  let dst: string | undefined;
  let dport: number | undefined;
  let id: string | undefined;
  let unreplied = false;
  let tuples = 0;
  for (let k = i + 2; k < words.length; k++) {
    const w = words[k]!;
    if (w === '[UNREPLIED]') {
      // Only in the original direction, i.e. before the reply tuple's src=.
      if (tuples === 1) unreplied = true;
      continue;
    }
    const eq = w.indexOf('=');
    if (eq < 0) continue;
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    if (key === 'src') {
      tuples++;
      if (tuples === 1) src = value;
    } else if (tuples === 1 && key === 'dst' && dst === undefined) dst = value;
    else if (tuples === 1 && key === 'dport' && dport === undefined) dport = Number(value);
    else if (key === 'id') id = value;
  }
  if (!src || !dst) return undefined;
  if (dport === undefined || !Number.isInteger(dport) || dport < 0 || dport > 65535) return undefined;
  return { type, timestamp, protocol, src, dst, dport, id, unreplied };
}
