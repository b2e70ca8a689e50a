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

/** The original-direction destination address, found without parsing the whole line (the hot path filter). */
export function originalDestination(line: string): string | undefined {
  const i = line.indexOf(' dst=');
  if (i < 0) return undefined;
  const end = line.indexOf(' ', i + 5);
  return line.slice(i + 5, end < 0 ? undefined : end);
}

const TYPES: Record<string, ConntrackEventType> = { NEW: 'NEW', UPDATE: 'UPDATE', DESTROY: 'DESTROY' };

/** The value of `key=` at `at` (which points at the key), up to the next space; or undefined. */
function valueAt(line: string, at: number, key: string): [string, number] | undefined {
  if (!line.startsWith(key, at)) return undefined;
  const from = at + key.length;
  let end = line.indexOf(' ', from);
  if (end < 0) end = line.length;
  return end > from ? [line.slice(from, end), end] : undefined;
}

/**
 * Parses one event line; undefined for anything else (headers, summaries, warnings, garbage).
 * Written with indexOf rather than a regular expression: it runs for every event to an ingress
 * point, tens of thousands a second on a busy node (see the flood benchmark).
 */
export function parseConntrackEvent(line: string): ConntrackEvent | undefined {
  if (line.length > 4096) return undefined;
  let p = 0;
  while (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9) p++;
  let timestamp: number | undefined;
  const first = line.indexOf(']', p);
  if (line[p] !== '[' || first < 0) return undefined;
  let typeStart = p + 1;
  let typeEnd = first;
  const c = line.charCodeAt(typeStart);
  if (c >= 48 && c <= 57) {
    timestamp = Number(line.slice(typeStart, first));
    if (!Number.isFinite(timestamp)) return undefined;
    typeStart = line.indexOf('[', first) + 1;
    typeEnd = line.indexOf(']', typeStart);
    if (typeStart <= 0 || typeEnd < 0) return undefined;
  }
  const type = TYPES[line.slice(typeStart, typeEnd)];
  if (!type) return undefined;
  p = typeEnd + 1;
  while (line.charCodeAt(p) === 32 || line.charCodeAt(p) === 9) p++;
  const protoEnd = line.indexOf(' ', p);
  if (protoEnd < 0) return undefined;
  const protocol = line.slice(p, protoEnd);
  if (!/^[a-z0-9-]+$/.test(protocol)) return undefined;
  const srcAt = line.indexOf(' src=', protoEnd);
  if (srcAt < 0) return undefined;
  const src = valueAt(line, srcAt + 1, 'src=');
  const dst = src && valueAt(line, src[1] + 1, 'dst=');
  if (!src || !dst) return undefined;
  const dportAt = line.indexOf(' dport=', dst[1]);
  const dportValue = dportAt >= 0 ? valueAt(line, dportAt + 1, 'dport=') : undefined;
  if (!dportValue || !/^\d{1,5}$/.test(dportValue[0])) return undefined;
  const dport = Number(dportValue[0]);
  if (dport > 65535) return undefined;
  // Between the original tuple and the reply tuple: the original direction's flags.
  const replyAt = line.indexOf(' src=', dportValue[1]);
  const flag = line.indexOf('[UNREPLIED]', dportValue[1]);
  const unreplied = flag >= 0 && (replyAt < 0 || flag < replyAt);
  const idAt = line.lastIndexOf(' id=');
  const id = idAt >= 0 ? valueAt(line, idAt + 1, 'id=')?.[0] : undefined;
  return { type, timestamp, protocol, src: src[0], dst: dst[0], dport, id, unreplied };
}
