/**
 * The match and target extensions of an iptables rule, as data.
 *
 * `iptablesSave.ts` cuts a rule into generic options, `-m MODULE …` groups and a
 * `-j TARGET …` group; this module turns each group into a typed match or
 * target. Anything loopscope cannot evaluate becomes an `unknown` match or
 * target that keeps its text, so that a trace crossing it can say so.
 */

import { type Cidr, type IpAddress, parseCidr, parseEndpoint, parseIp, parsePort } from './cidr';
import { quoteWord } from './shellWords';

export interface PortRange {
  from: number;
  to: number;
}

/** How an addrtype option tests one side of the packet. */
export interface AddrTypeTest {
  negated: boolean;
  /** Upper-case route types: LOCAL, UNICAST, BROADCAST, MULTICAST, … */
  types: string[];
}

export type SetFlag = 'src' | 'dst';

/** One condition of a rule. `text` is the fragment of the rule it came from, for explanations. */
export type RuleMatch =
  | { kind: 'source' | 'destination'; negated: boolean; cidrs: Cidr[]; text: string }
  | { kind: 'protocol'; negated: boolean; protocol: number | 'all'; text: string }
  | { kind: 'inInterface' | 'outInterface'; negated: boolean; name: string; text: string }
  | { kind: 'fragment'; negated: boolean; text: string }
  | { kind: 'port'; which: 'sport' | 'dport' | 'either'; negated: boolean; ranges: PortRange[]; text: string }
  | { kind: 'tcpFlags'; negated: boolean; mask: string[]; set: string[]; text: string }
  | { kind: 'set'; negated: boolean; setName: string; flags: SetFlag[]; returnNomatch: boolean; text: string }
  | { kind: 'mark'; negated: boolean; value: number; mask: number; text: string }
  | {
      kind: 'addrtype';
      src: AddrTypeTest | null;
      dst: AddrTypeTest | null;
      limitIfaceIn: boolean;
      limitIfaceOut: boolean;
      text: string;
    }
  | { kind: 'comment'; comment: string; text: string }
  | { kind: 'statistic'; negated: boolean; probability: number; mode: 'random' | 'nth'; text: string }
  | { kind: 'ctstate'; negated: boolean; states: string[]; text: string }
  | { kind: 'iprange'; which: 'src' | 'dst'; negated: boolean; from: IpAddress; to: IpAddress; text: string }
  | { kind: 'pkttype'; negated: boolean; type: string; text: string }
  | { kind: 'unknown'; module: string; reason: string; text: string };

/** `--to-destination 10.1.2.3-10.1.2.4:8080-8081` and friends. Missing parts are null. */
export interface NatRange {
  from: IpAddress | null;
  to: IpAddress | null;
  ports: PortRange | null;
}

/** What a rule does when it matches. */
export type RuleTarget =
  | { kind: 'none'; text: string }
  | { kind: 'chain'; chain: string; goto: boolean; text: string }
  | { kind: 'accept' | 'drop' | 'return'; text: string }
  | { kind: 'reject'; rejectWith: string | null; text: string }
  /** Normalized to the xmark form: mark = (mark & ~mask) ^ value. */
  | { kind: 'mark'; value: number; mask: number; text: string }
  | { kind: 'masquerade'; toPorts: PortRange | null; randomFully: boolean; text: string }
  | { kind: 'snat'; to: NatRange; text: string }
  | { kind: 'dnat'; to: NatRange; text: string }
  | { kind: 'redirect'; toPorts: PortRange | null; text: string }
  /** Targets that neither change the fields NAT decisions use nor stop the packet (LOG, TCPMSS…). */
  | { kind: 'passive'; name: string; text: string }
  | { kind: 'unknown'; name: string; reason: string; text: string };

/** One `--option values…` of a module or target, with its `!`. */
export interface ExtensionOption {
  name: string;
  negated: boolean;
  values: string[];
}

export function optionsText(prefix: string, options: ExtensionOption[]): string {
  const parts = [prefix];
  for (const o of options) {
    if (o.negated) parts.push('!');
    parts.push('--' + o.name, ...o.values.map(quoteWord));
  }
  return parts.join(' ');
}

const PROTOCOLS: Record<string, number> = {
  all: 0,
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
};

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
for (const [name, n] of Object.entries(PROTOCOLS)) if (!PROTOCOL_NAMES.has(n)) PROTOCOL_NAMES.set(n, name);

export function protocolName(num: number): string {
  return PROTOCOL_NAMES.get(num) ?? String(num);
}

/** A 32-bit number as iptables prints it: `0x4000` or decimal. */
export function parseMarkNumber(text: string): number | null {
  if (/^0x[0-9a-fA-F]{1,8}$/.test(text) || /^\d{1,10}$/.test(text)) {
    const n = Number(text);
    return n <= 0xffffffff ? n >>> 0 : null;
  }
  return null;
}

/** `V` or `V/M`; mask defaults to all ones. */
function parseMarkMask(text: string): { value: number; mask: number } | null {
  const [v = '', m] = text.split('/');
  const value = parseMarkNumber(v);
  const mask = m === undefined ? 0xffffffff : parseMarkNumber(m);
  return value === null || mask === null ? null : { value, mask };
}

/** `80`, `1000:2000`, `:1024`, `1024:` (iptables) or `1000-2000` (NAT targets). */
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

function parsePortList(text: string): PortRange[] | null {
  const out: PortRange[] = [];
  for (const item of text.split(',')) {
    const r = parsePortRange(item);
    if (!r) return null;
    out.push(r);
  }
  return out.length > 0 ? out : null;
}

/** Parses `ip[-ip][:port[-port]]` and `[v6][-[v6]][:port[-port]]` as used by DNAT/SNAT. */
export function parseNatRange(text: string): NatRange | null {
  let addrPart = text;
  let portPart: string | null = null;
  if (text.startsWith('[')) {
    const close = text.lastIndexOf(']');
    if (close < 0) return null;
    addrPart = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portPart = rest.slice(1);
    }
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 1) {
      const idx = text.indexOf(':');
      addrPart = text.slice(0, idx);
      portPart = text.slice(idx + 1);
    } else if (colons > 1) {
      // A bare IPv6 address (or range) without port.
      addrPart = text;
    }
  }
  let from: IpAddress | null = null;
  let to: IpAddress | null = null;
  if (addrPart !== '') {
    const strip = (s: string) => (s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);
    const dash = addrPart.indexOf('-');
    const first = strip(dash < 0 ? addrPart : addrPart.slice(0, dash));
    const second = dash < 0 ? null : strip(addrPart.slice(dash + 1));
    from = parseIp(first);
    if (!from) {
      // `[fd00::5]:80` was split above; a bare `fd00::5` arrives here whole.
      const ep = parseEndpoint(addrPart);
      if (!ep) return null;
      from = ep.ip;
    }
    to = second === null ? from : parseIp(second);
    if (!to || to.family !== from.family) return null;
  }
  let ports: PortRange | null = null;
  if (portPart !== null) {
    ports = parsePortRange(portPart, '-');
    if (!ports) return null;
  }
  if (!from && !ports) return null;
  return { from, to, ports };
}

const PASSIVE_TARGETS = new Set([
  'LOG',
  'NFLOG',
  'ULOG',
  'TRACE',
  'AUDIT',
  'TCPMSS',
  'CHECKSUM',
  'CLASSIFY',
  'DSCP',
  'TOS',
  'TTL',
  'HL',
  'SET',
  'IDLETIMER',
  'LED',
  'SECMARK',
  'CONNSECMARK',
]);

/** Targets whose name is never a user chain (used to tell `-j NAME` apart). */
export const BUILTIN_TARGETS = new Set([
  'ACCEPT',
  'DROP',
  'RETURN',
  'REJECT',
  'MARK',
  'MASQUERADE',
  'SNAT',
  'DNAT',
  'REDIRECT',
  'CONNMARK',
  'CT',
  'NOTRACK',
  'NFQUEUE',
  'QUEUE',
  'NETMAP',
  'TPROXY',
  'SNPT',
  'DNPT',
  'TEE',
  'CLUSTERIP',
  'HMARK',
  'SYNPROXY',
  ...PASSIVE_TARGETS,
]);

function unknownTarget(name: string, reason: string, text: string): RuleTarget {
  return { kind: 'unknown', name, reason, text };
}

/**
 * Interprets `-j NAME options…`. `isChain` says whether NAME is a chain of the
 * table; an undefined name that is not a built-in target is kept as a jump to a
 * missing chain (the trace reports it).
 */
export function interpretTarget(name: string, goto: boolean, options: ExtensionOption[]): RuleTarget {
  const text = optionsText(goto ? `-g ${name}` : `-j ${name}`, options);
  if (goto || !BUILTIN_TARGETS.has(name)) {
    if (options.length > 0) return unknownTarget(name, `target ${name} with options is not a chain`, text);
    return { kind: 'chain', chain: name, goto, text };
  }
  const opt = (n: string) => options.find((o) => o.name === n);
  const known = (allowed: string[]): string | null => {
    for (const o of options) if (!allowed.includes(o.name)) return o.name;
    return null;
  };
  switch (name) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN': {
      const extra = known([]);
      if (extra) return unknownTarget(name, `unexpected option --${extra}`, text);
      return { kind: name.toLowerCase() as 'accept' | 'drop' | 'return', text };
    }
    case 'REJECT':
      return { kind: 'reject', rejectWith: opt('reject-with')?.values[0] ?? null, text };
    case 'MARK': {
      if (options.length !== 1) return unknownTarget(name, 'MARK needs exactly one mark option', text);
      const o = options[0] as ExtensionOption;
      const raw = o.values[0] ?? '';
      if (o.name === 'set-xmark' || o.name === 'set-mark') {
        const vm = parseMarkMask(raw);
        if (!vm) return unknownTarget(name, `cannot read mark "${raw}"`, text);
        // --set-mark V/M zeroes M and ORs V: in xmark terms the mask is V|M.
        const mask = o.name === 'set-mark' ? (vm.mask | vm.value) >>> 0 : vm.mask;
        return { kind: 'mark', value: vm.value, mask, text };
      }
      const v = parseMarkNumber(raw);
      if (v === null) return unknownTarget(name, `cannot read mark "${raw}"`, text);
      if (o.name === 'or-mark') return { kind: 'mark', value: v, mask: v, text };
      if (o.name === 'xor-mark') return { kind: 'mark', value: v, mask: 0, text };
      if (o.name === 'and-mark') return { kind: 'mark', value: 0, mask: ~v >>> 0, text };
      return unknownTarget(name, `unknown MARK option --${o.name}`, text);
    }
    case 'MASQUERADE': {
      const extra = known(['to-ports', 'random', 'random-fully']);
      if (extra) return unknownTarget(name, `unknown MASQUERADE option --${extra}`, text);
      const tp = opt('to-ports')?.values[0];
      const toPorts = tp === undefined ? null : parsePortRange(tp, '-');
      if (tp !== undefined && !toPorts) return unknownTarget(name, `cannot read --to-ports ${tp}`, text);
      return { kind: 'masquerade', toPorts, randomFully: !!opt('random-fully'), text };
    }
    case 'SNAT':
    case 'DNAT': {
      const key = name === 'SNAT' ? 'to-source' : 'to-destination';
      const extra = known([key, 'random', 'random-fully', 'persistent']);
      if (extra) return unknownTarget(name, `unknown ${name} option --${extra}`, text);
      const raw = opt(key)?.values[0];
      if (raw === undefined) return unknownTarget(name, `${name} without --${key}`, text);
      const to = parseNatRange(raw);
      if (!to) return unknownTarget(name, `cannot read --${key} ${raw}`, text);
      return name === 'SNAT' ? { kind: 'snat', to, text } : { kind: 'dnat', to, text };
    }
    case 'REDIRECT': {
      const tp = opt('to-ports')?.values[0];
      const toPorts = tp === undefined ? null : parsePortRange(tp, '-');
      if (tp !== undefined && !toPorts) return unknownTarget(name, `cannot read --to-ports ${tp}`, text);
      return { kind: 'redirect', toPorts, text };
    }
    case 'CONNMARK':
      // Only --restore-mark changes the packet mark; the other forms touch the connection mark.
      if (opt('restore-mark')) return unknownTarget(name, 'CONNMARK --restore-mark sets the packet mark from the connection mark, which a dump does not show', text);
      return { kind: 'passive', name, text };
    default:
      if (PASSIVE_TARGETS.has(name)) return { kind: 'passive', name, text };
      return unknownTarget(name, `target ${name} is not evaluated by loopscope`, text);
  }
}

const PORT_MODULES = new Set(['tcp', 'udp', 'sctp', 'udplite', 'dccp']);

/**
 * Interprets one `-m MODULE options…` group (or the implicit protocol module of
 * `-p tcp --dport 80`). Returns one or more matches; a module or option it does
 * not know becomes a single `unknown` match holding the whole group.
 */
export function interpretMatch(module: string, options: ExtensionOption[]): RuleMatch[] {
  const text = optionsText(`-m ${module}`, options);
  const unknown = (reason: string): RuleMatch[] => [{ kind: 'unknown', module, reason, text }];
  const one = (o: ExtensionOption) => (o.values.length === 1 ? (o.values[0] as string) : null);
  const out: RuleMatch[] = [];
  const optText = (o: ExtensionOption) => optionsText(`-m ${module}`, [o]);

  if (PORT_MODULES.has(module)) {
    for (const o of options) {
      const v = one(o);
      if (o.name === 'sport' || o.name === 'source-port' || o.name === 'dport' || o.name === 'destination-port') {
        const r = v === null ? null : parsePortRange(v);
        if (!r) return unknown(`cannot read port "${o.values.join(' ')}"`);
        const which = o.name === 'sport' || o.name === 'source-port' ? 'sport' : 'dport';
        out.push({ kind: 'port', which, negated: o.negated, ranges: [r], text: optText(o) });
      } else if (module === 'tcp' && o.name === 'tcp-flags' && o.values.length === 2) {
        const [mask = '', set = ''] = o.values;
        out.push({ kind: 'tcpFlags', negated: o.negated, mask: flagList(mask), set: flagList(set), text: optText(o) });
      } else if (module === 'tcp' && o.name === 'syn' && o.values.length === 0) {
        out.push({ kind: 'tcpFlags', negated: o.negated, mask: ['SYN', 'RST', 'ACK', 'FIN'], set: ['SYN'], text: optText(o) });
      } else {
        return unknown(`option --${o.name} of -m ${module} is not evaluated by loopscope`);
      }
    }
    return out;
  }

  switch (module) {
    case 'multiport':
      for (const o of options) {
        const v = one(o);
        const ranges = v === null ? null : parsePortList(v);
        let which: 'sport' | 'dport' | 'either' | null = null;
        if (o.name === 'sports' || o.name === 'source-ports') which = 'sport';
        else if (o.name === 'dports' || o.name === 'destination-ports') which = 'dport';
        else if (o.name === 'ports') which = 'either';
        if (!which) return unknown(`option --${o.name} of -m multiport is not evaluated by loopscope`);
        if (!ranges) return unknown(`cannot read port list "${o.values.join(' ')}"`);
        out.push({ kind: 'port', which, negated: o.negated, ranges, text: optText(o) });
      }
      return out;
    case 'set': {
      let current: Extract<RuleMatch, { kind: 'set' }> | null = null;
      for (const o of options) {
        if (o.name === 'match-set' || o.name === 'set') {
          const [setName, flagText] = o.values;
          if (!setName || !flagText || o.values.length !== 2) return unknown('--match-set needs a set name and flags');
          const flags = flagText.split(',');
          if (flags.some((f) => f !== 'src' && f !== 'dst') || flags.length > 6) return unknown(`cannot read set flags "${flagText}"`);
          current = { kind: 'set', negated: o.negated, setName, flags: flags as SetFlag[], returnNomatch: false, text: optText(o) };
          out.push(current);
        } else if (o.name === 'return-nomatch' && current) {
          current.returnNomatch = true;
          current.text += ' --return-nomatch';
        } else if ((o.name === 'update-counters' || o.name === 'update-subcounters') && o.negated) {
          // `! --update-counters` only changes the set's counters.
        } else {
          return unknown(`option --${o.name} of -m set is not evaluated by loopscope`);
        }
      }
      return out.length > 0 ? out : unknown('-m set without --match-set');
    }
    case 'mark':
      for (const o of options) {
        const v = one(o);
        const vm = o.name === 'mark' && v !== null ? parseMarkMask(v) : null;
        if (!vm) return unknown(`cannot read -m mark option --${o.name} ${o.values.join(' ')}`);
        out.push({ kind: 'mark', negated: o.negated, value: vm.value, mask: vm.mask, text: optText(o) });
      }
      return out;
    case 'addrtype': {
      const m: Extract<RuleMatch, { kind: 'addrtype' }> = {
        kind: 'addrtype',
        src: null,
        dst: null,
        limitIfaceIn: false,
        limitIfaceOut: false,
        text,
      };
      for (const o of options) {
        const v = one(o);
        if ((o.name === 'src-type' || o.name === 'dst-type') && v !== null) {
          const test = { negated: o.negated, types: v.toUpperCase().split(',') };
          if (o.name === 'src-type') m.src = test;
          else m.dst = test;
        } else if (o.name === 'limit-iface-in' && o.values.length === 0) m.limitIfaceIn = true;
        else if (o.name === 'limit-iface-out' && o.values.length === 0) m.limitIfaceOut = true;
        else return unknown(`option --${o.name} of -m addrtype is not evaluated by loopscope`);
      }
      return [m];
    }
    case 'comment': {
      const o = options[0];
      if (options.length !== 1 || !o || o.name !== 'comment' || o.values.length !== 1) return unknown('-m comment needs one --comment "text"');
      return [{ kind: 'comment', comment: o.values[0] as string, text }];
    }
    case 'statistic': {
      const mode = options.find((o) => o.name === 'mode')?.values[0];
      if (mode === 'random') {
        const p = options.find((o) => o.name === 'probability');
        const prob = p ? Number(p.values[0]) : NaN;
        if (!p || !(prob >= 0 && prob <= 1) || options.length !== 2) return unknown('cannot read --mode random --probability');
        return [{ kind: 'statistic', negated: p.negated, probability: prob, mode: 'random', text }];
      }
      if (mode === 'nth') {
        // Every Nth packet: over many connections, the same share as a random 1/N draw.
        const every = Number(options.find((o) => o.name === 'every')?.values[0]);
        if (!(every >= 1)) return unknown('cannot read --mode nth --every');
        const neg = options.some((o) => o.negated);
        return [{ kind: 'statistic', negated: neg, probability: 1 / every, mode: 'nth', text }];
      }
      return unknown(`statistic mode "${mode ?? ''}" is not evaluated by loopscope`);
    }
    case 'conntrack':
    case 'state':
      for (const o of options) {
        const v = one(o);
        if ((o.name === 'ctstate' || o.name === 'state') && v !== null) {
          out.push({ kind: 'ctstate', negated: o.negated, states: v.toUpperCase().split(','), text: optText(o) });
        } else {
          return unknown(`option --${o.name} of -m ${module} is not evaluated by loopscope`);
        }
      }
      return out;
    case 'iprange':
      for (const o of options) {
        const v = one(o) ?? '';
        const [a = '', b = ''] = v.split('-');
        const from = parseIp(a);
        const to = parseIp(b);
        const which = o.name === 'src-range' ? 'src' : o.name === 'dst-range' ? 'dst' : null;
        if (!which || !from || !to || from.family !== to.family) return unknown(`cannot read -m iprange --${o.name} ${v}`);
        out.push({ kind: 'iprange', which, negated: o.negated, from, to, text: optText(o) });
      }
      return out;
    case 'pkttype': {
      const o = options[0];
      if (options.length !== 1 || !o || o.name !== 'pkt-type' || o.values.length !== 1) return unknown('cannot read -m pkttype');
      return [{ kind: 'pkttype', negated: o.negated, type: (o.values[0] as string).toLowerCase(), text }];
    }
    default:
      return unknown(`match extension -m ${module} is not evaluated by loopscope`);
  }
}

function flagList(text: string): string[] {
  const upper = text.toUpperCase();
  if (upper === 'ALL') return ['SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH'];
  if (upper === 'NONE') return [];
  return upper.split(',');
}

/** Parses the value of `-s`/`-d` (a CIDR, or a comma list as iptables-restore accepts). */
export function parseAddressList(text: string): Cidr[] | null {
  const out: Cidr[] = [];
  for (const part of text.split(',')) {
    const c = parseCidr(part);
    if (!c) return null;
    out.push(c);
  }
  return out.length > 0 ? out : null;
}
