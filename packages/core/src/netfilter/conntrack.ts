/**
 * Parser for `conntrack -L` output (and `/proc/net/nf_conntrack`, which adds
 * a family prefix). An `[UNREPLIED]` entry from a local pod to an LB
 * address is an observed failed connection: the strongest evidence there is.
 */

import { type IpAddress, type IpFamily, formatEndpoint, parseIp, sameIp } from './ruleset/cidr';
import { type ParsedDump, type DumpProblem, splitLines } from './ruleset/problems';
import { fieldRecord } from './ruleset/lookupTable';

export interface ConntrackTuple {
  src: IpAddress;
  dst: IpAddress;
  /** Ports for tcp/udp/sctp/dccp; null otherwise. */
  sport: number | null;
  dport: number | null;
  /** Other fields of the tuple as printed (type, code, id for icmp; packets, bytes with accounting). */
  fields: Record<string, string>;
}

export interface ConntrackEntry {
  family: IpFamily;
  protocol: string;
  protocolNumber: number;
  /** Seconds until the entry expires. */
  timeout: number;
  /** TCP (and SCTP/DCCP) state, e.g. SYN_SENT, ESTABLISHED; null for udp/icmp. */
  state: string | null;
  original: ConntrackTuple;
  reply: ConntrackTuple;
  /** No packet was seen in the reply direction. */
  unreplied: boolean;
  assured: boolean;
  /** All bracketed flags as printed: UNREPLIED, ASSURED, OFFLOAD, … */
  flags: string[];
  mark: number | null;
  zone: number | null;
  use: number | null;
  /** Other key=value pairs (id, secctx, labels, …). */
  extra: Record<string, string>;
  /** The source was rewritten (SNAT/MASQUERADE): the reply goes to another address than the original source. */
  snat: boolean;
  /** The destination was rewritten (DNAT, or IPVS with conntrack): the reply comes from another address. */
  dnat: boolean;
  line: number;
}

const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'dccp', 'udplite']);

function newTuple(): { src?: string; dst?: string; fields: Record<string, string> } {
  return { fields: fieldRecord() };
}

function finishTuple(t: { src?: string; dst?: string; fields: Record<string, string> }, withPorts: boolean): ConntrackTuple | string {
  const src = t.src === undefined ? null : parseIp(t.src);
  const dst = t.dst === undefined ? null : parseIp(t.dst);
  if (!src || !dst) return `cannot read addresses src=${t.src ?? '?'} dst=${t.dst ?? '?'}`;
  const port = (k: string): number | null | string => {
    const v = t.fields[k];
    if (v === undefined) return withPorts ? `missing ${k}=` : null;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : `bad ${k}=${v}`;
  };
  const sport = port('sport');
  const dport = port('dport');
  if (typeof sport === 'string') return sport;
  if (typeof dport === 'string') return dport;
  const fields = { ...t.fields };
  delete fields['sport'];
  delete fields['dport'];
  return { src, dst, sport, dport, fields };
}

const FOOTER = /flow entries have been shown|^conntrack v[\d.]+/;

export function parseConntrack(text: string, fileName: string): ParsedDump<ConntrackEntry[]> {
  const problems: DumpProblem[] = [];
  const out: ConntrackEntry[] = [];
  if (typeof text !== 'string') return { value: out, problems: [{ file: fileName, line: 0, message: 'not text', severity: 'error' }] };
  const lines = splitLines(text);
  let declared: number | null = null;
  for (let idx = 0; idx < lines.length; idx++) {
    const lineNo = idx + 1;
    const line = (lines[idx] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    if (FOOTER.test(line)) {
      // Starts only after a non-digit (and bounded): a long digit run cannot make it quadratic.
      const m = /(?:^|\D)(\d{1,15}) flow entries/.exec(line);
      if (m) declared = Number(m[1]);
      continue;
    }
    const r = parseEntry(line, lineNo);
    if (typeof r === 'string') problems.push({ file: fileName, line: lineNo, message: `${r}; skipped`, severity: 'error' });
    else out.push(r);
  }
  if (declared !== null && declared !== out.length && problems.length === 0) {
    problems.push({
      file: fileName,
      line: 0,
      message: `conntrack reported ${declared} entries but ${out.length} were read`,
      severity: 'warning',
    });
  }
  return { value: out, problems };
}

function parseEntry(line: string, lineNo: number): ConntrackEntry | string {
  const words = line.split(/\s+/);
  let i = 0;
  // /proc/net/nf_conntrack and `-o extended` start with `ipv4 2` / `ipv6 10`.
  if ((words[0] === 'ipv4' || words[0] === 'ipv6') && /^\d+$/.test(words[1] ?? '')) i = 2;
  const protocol = words[i];
  const protoNum = Number(words[i + 1]);
  const timeout = Number(words[i + 2]);
  if (!protocol || !/^[a-z0-9-]+$/.test(protocol) || !Number.isInteger(protoNum) || !Number.isInteger(timeout)) {
    return 'not a conntrack entry (expected "PROTO NUMBER TIMEOUT …")';
  }
  i += 3;
  let state: string | null = null;
  if (words[i] && /^[A-Z_]+$/.test(words[i] as string)) {
    state = words[i] as string;
    i++;
  }
  const tuples = [newTuple(), newTuple()];
  let which = -1;
  const flags: string[] = [];
  const extra: Record<string, string> = fieldRecord();
  let mark: number | null = null;
  let zone: number | null = null;
  let use: number | null = null;
  for (; i < words.length; i++) {
    const w = words[i] as string;
    if (w.startsWith('[') && w.endsWith(']')) {
      flags.push(w.slice(1, -1));
      continue;
    }
    const eq = w.indexOf('=');
    if (eq <= 0) return `unexpected word "${w}"`;
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    if (key === 'src') {
      which++;
      if (which > 1) return 'more than two tuples';
    }
    if (key === 'mark') mark = Number(value);
    else if (key === 'zone') zone = Number(value);
    else if (key === 'use') use = Number(value);
    else if (
      which >= 0 &&
      which <= 1 &&
      ['src', 'dst', 'sport', 'dport', 'type', 'code', 'id', 'packets', 'bytes', 'srckey', 'dstkey'].includes(key)
    ) {
      const t = tuples[which] as ReturnType<typeof newTuple>;
      if (key === 'src') t.src = value;
      else if (key === 'dst') t.dst = value;
      else t.fields[key] = value;
    } else extra[key] = value;
  }
  if (which !== 1) return 'an entry needs an original and a reply tuple (src=… dst=… twice)';
  const withPorts = PORT_PROTOCOLS.has(protocol);
  const original = finishTuple(tuples[0] as ReturnType<typeof newTuple>, withPorts);
  if (typeof original === 'string') return `original tuple: ${original}`;
  const reply = finishTuple(tuples[1] as ReturnType<typeof newTuple>, withPorts);
  if (typeof reply === 'string') return `reply tuple: ${reply}`;
  if (original.src.family !== reply.src.family) return 'tuples of different address families';
  return {
    family: original.src.family,
    protocol,
    protocolNumber: protoNum,
    timeout,
    state,
    original,
    reply,
    unreplied: flags.includes('UNREPLIED'),
    assured: flags.includes('ASSURED'),
    flags,
    mark: mark !== null && Number.isFinite(mark) ? mark : null,
    zone: zone !== null && Number.isFinite(zone) ? zone : null,
    use: use !== null && Number.isFinite(use) ? use : null,
    extra,
    snat: !sameIp(reply.dst, original.src) || (original.sport !== null && reply.dport !== original.sport),
    dnat: !sameIp(reply.src, original.dst) || (original.dport !== null && reply.sport !== original.dport),
    line: lineNo,
  };
}

/** `tcp 172.16.1.5:51234 → 10.0.0.5:80 (reply from 10.0.0.5:80 to 10.0.0.12:51234) [UNREPLIED]` */
export function describeConntrackEntry(e: ConntrackEntry): string {
  const o = e.original;
  const r = e.reply;
  const flags = e.flags.length > 0 ? ' ' + e.flags.map((f) => `[${f}]`).join(' ') : '';
  return `${e.protocol} ${formatEndpoint(o.src, o.sport)} -> ${formatEndpoint(o.dst, o.dport)} (reply ${formatEndpoint(r.src, r.sport)} -> ${formatEndpoint(r.dst, r.dport)})${e.state ? ' ' + e.state : ''}${flags}`;
}
