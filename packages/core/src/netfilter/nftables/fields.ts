/**
 * What nftables expressions read from the packet, and how the values they
 * are compared with are read: `ip daddr` is an address (compared with
 * addresses, prefixes, ranges), `th dport` and `meta l4proto` numbers,
 * `iifname` a name (`eth*` wildcards), `ct state` the connection's state
 * (the first packet's is `new`), `fib daddr type` the route type.
 */

import { type Cidr, cidrContains, type IpAddress, ipKey, parseCidr, parseIp } from '../ruleset/cidr';
import { type MatchContext, type PacketState, PORT_PROTOCOLS, type Unknown } from '../ruleset/match';
import { parseProtocol } from '../ruleset/protocols';
import type { NftExpr, NftValue } from './model';
import { lookupTable } from '../ruleset/lookupTable';

export type FieldKind = 'ip' | 'number' | 'name' | 'ctstate' | 'ctstatus' | 'fibtype';

/** A packet value: an address, a number or a word. `absent` means the packet has no such field (`ip saddr` of an IPv6 packet). */
export type Val = IpAddress | number | string;
export type Read = Val | 'absent' | Unknown;

export interface FieldReader {
  kind: FieldKind;
  read(p: PacketState): Read;
}

/** A tested value of one part of a key: exact (indexable) or a predicate (prefix, range, wildcard). */
export type Pattern = { exact: string } | { test: (v: Val) => boolean };

export function valKey(v: Val): string {
  return typeof v === 'object' ? ipKey(v) : typeof v === 'number' ? `n${v}` : `s${v}`;
}

const NFPROTO = lookupTable<number>({ ipv4: 2, ipv6: 10 });
const TCP_LIKE = lookupTable<number>({ tcp: 6, udp: 17, sctp: 132, dccp: 33, udplite: 136 });

/** Reads a field of the packet; null when loopscope does not know the field. */
export function fieldReader(e: NftExpr, ctx: MatchContext): FieldReader | null {
  if (e.kind === 'binop') {
    const inner = fieldReader(e.left, ctx);
    if (!inner || inner.kind !== 'number') return null;
    const op = e.op;
    const n = e.right;
    return {
      kind: 'number',
      read(p) {
        const v = inner.read(p);
        if (typeof v !== 'number') return v;
        return (op === 'and' ? v & n : op === 'or' ? v | n : v ^ n) >>> 0;
      },
    };
  }
  if (e.kind !== 'field') return null;
  const [proto = '', field = ''] = e.name.split(' ');
  const fam = proto === 'ip' ? 4 : proto === 'ip6' ? 6 : null;
  if (fam !== null && (field === 'saddr' || field === 'daddr')) {
    return { kind: 'ip', read: (p) => (p.family !== fam ? 'absent' : field === 'saddr' ? p.src : p.dst) };
  }
  if ((proto === 'ip' && field === 'protocol') || (proto === 'ip6' && field === 'nexthdr')) {
    return { kind: 'number', read: (p) => (p.family !== fam ? 'absent' : p.protocol) };
  }
  if (proto === 'th' || TCP_LIKE[proto] !== undefined) {
    const need = TCP_LIKE[proto];
    const name = e.name;
    if (field === 'dport' || field === 'sport') {
      return {
        kind: 'number',
        read(p) {
          if (need !== undefined ? p.protocol !== need : !PORT_PROTOCOLS.has(p.protocol)) return 'absent';
          if (field === 'dport') return p.dport;
          return p.sport === null ? { unknown: `${name}: the packet has no source port (give sport)` } : p.sport;
        },
      };
    }
    return null;
  }
  if (proto === 'meta') {
    switch (field) {
      case 'l4proto':
        return { kind: 'number', read: (p) => p.protocol };
      case 'mark':
        return { kind: 'number', read: (p) => p.mark };
      case 'nfproto':
      case 'protocol':
        return { kind: 'number', read: (p) => (field === 'nfproto' ? (p.family === 4 ? 2 : 10) : p.family === 4 ? 0x0800 : 0x86dd) };
      case 'iifname':
      case 'oifname':
      case 'iif':
      case 'oif': {
        const isIn = field.startsWith('i');
        const name = e.name;
        return {
          kind: 'name',
          read: (p) =>
            (isIn ? p.inInterface : p.outInterface) ?? {
              unknown: `${name}: the packet's ${isIn ? 'input' : 'output'} interface is not known (give it with inInterface/outInterface)`,
            },
        };
      }
    }
    return null;
  }
  if (proto === 'ct' && field === 'state') return { kind: 'ctstate', read: () => 'new' };
  if (proto === 'ct' && field === 'status')
    return { kind: 'ctstatus', read: (p) => [p.dnatDone ? 'dnat' : '', p.snatDone ? 'snat' : ''].filter(Boolean).join(',') };
  if (proto === 'fib') {
    // `fib saddr type`, `fib daddr type`; with `. iif`/`. oif` the answer depends on the interface.
    const m = /^fib (saddr|daddr) type$/.exec(e.name);
    if (!m) return null;
    const src = m[1] === 'saddr';
    const name = e.name;
    return {
      kind: 'fibtype',
      read(p) {
        const t = ctx.addresses.addressType(src ? p.src : p.dst);
        return t === null
          ? { unknown: `${name}: the node addresses are unknown (no addr.txt), so the route type cannot be decided` }
          : t.toLowerCase();
      },
    };
  }
  return null;
}

function parseNumber(text: string): number | null {
  if (/^0x[0-9a-fA-F]{1,8}$/.test(text) || /^\d{1,10}$/.test(text)) {
    const n = Number(text);
    return n <= 0xffffffff ? n : null;
  }
  const proto = parseProtocol(text);
  if (typeof proto === 'number') return proto;
  return NFPROTO[text] ?? null;
}

function isFullPrefix(c: Cidr): boolean {
  return c.prefix === (c.family === 4 ? 32 : 128);
}

/** Reads one part of a compared value for a field of this kind; null when unreadable. */
export function parsePattern(kind: FieldKind, v: NftValue): Pattern | null {
  if (v.kind === 'concat') return null;
  if (kind === 'ip') {
    if (v.kind === 'range') {
      const a = parseIp(v.from);
      const b = parseIp(v.to);
      if (!a || !b || a.family !== b.family) return null;
      return { test: (x) => typeof x === 'object' && x.family === a.family && x.value >= a.value && x.value <= b.value };
    }
    const c = parseCidr(v.text);
    if (!c) return null;
    if (isFullPrefix(c)) return { exact: ipKey(c.family === 4 ? { family: 4, value: c.network } : { family: 6, value: c.network }) };
    return { test: (x) => typeof x === 'object' && cidrContains(c, x) };
  }
  if (kind === 'number') {
    if (v.kind === 'range') {
      const a = parseNumber(v.from);
      const b = parseNumber(v.to);
      if (a === null || b === null) return null;
      return { test: (x) => typeof x === 'number' && x >= a && x <= b };
    }
    const n = parseNumber(v.text);
    return n === null ? null : { exact: `n${n}` };
  }
  if (v.kind === 'range') return null;
  const words = v.text.toLowerCase().split(',');
  if (kind === 'name') {
    const w = v.text;
    if (w.endsWith('*')) return { test: (x) => typeof x === 'string' && x.startsWith(w.slice(0, -1)) };
    return { exact: `s${w}` };
  }
  if (kind === 'ctstate' || kind === 'ctstatus') {
    // A list of flags matches when the packet has any of them.
    return { test: (x) => typeof x === 'string' && x.split(',').some((s) => s !== '' && words.includes(s)) };
  }
  return words.length === 1 ? { exact: `s${words[0]}` } : null;
}

export function patternMatches(pat: Pattern, v: Val): boolean {
  return 'exact' in pat ? pat.exact === valKey(v) : pat.test(v);
}
