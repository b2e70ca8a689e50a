/**
 * Parser for `ipset save` and `ipset list` output, and membership tests the
 * way the kernel's `-m set --match-set NAME dst,dst,src` does them.
 *
 * Members are indexed once as normalized string keys in a Set, so a test is
 * one hash lookup per distinct prefix length (net dimensions), never a scan.
 */

import { type IpAddress, type IpFamily, ipKey, maskedKey, parseCidr, parseIp, parsePort } from './cidr';
import { parseProtocol } from './protocols';
import { type ParsedDump, type DumpProblem, splitLines } from './problems';
import { splitWords } from './shellWords';

/** What one element of a member stands for, in set-type order (`hash:ip,port,net` → ip, port, net). */
/** Which side of the packet one dimension of a set lookup reads (`--match-set NAME dst,dst`). */
export type SetFlag = 'src' | 'dst';

export type IpsetDimension = 'ip' | 'net' | 'port' | 'mark' | 'iface' | 'mac' | 'set';

/** The fields of a packet that a set match can look at. */
export interface SetProbe {
  src: IpAddress;
  dst: IpAddress;
  /** IP protocol number (6 tcp, 17 udp, 132 sctp…). */
  protocol: number;
  sport: number | null;
  dport: number;
  mark: number;
  inInterface: string | null;
  outInterface: string | null;
}

/** `match`: member; `nomatch`: an exception entry (hash:net … nomatch) covers it; `absent`: not a member. */
export type SetTestResult = 'match' | 'nomatch' | 'absent' | { unknown: string };

/** A Map, not an object: a set type named `hash:constructor` must not find Object's prototype. */
const DIMENSION_WORDS: ReadonlyMap<string, IpsetDimension> = new Map<string, IpsetDimension>([
  ['ip', 'ip'],
  ['net', 'net'],
  ['port', 'port'],
  ['mark', 'mark'],
  ['iface', 'iface'],
  ['mac', 'mac'],
  ['set', 'set'],
]);

const PORT_PROTOCOLS = new Set([6, 17, 132, 136]);
/** Larger ranges in one member are refused rather than expanded. */
const MAX_EXPANSION = 65536;
/**
 * Keys one set holds at most (JavaScript's Set stops at 2^24 entries). Past it the set is
 * incomplete: a packet it does not find is "unknown", never "absent".
 */
export const MAX_SET_KEYS = 1 << 22;

/** An address range of a one-dimensional ip set (`add S 10.0.0.0-10.255.255.255`), kept as its ends. */
interface AddressRange {
  family: IpFamily;
  from: bigint;
  to: bigint;
  nomatch: boolean;
}
export class IpSet {
  readonly name: string;
  readonly type: string;
  /** `inet`/`inet6` sets hold one family; bitmap:port and list:set hold none (null). */
  readonly family: IpFamily | null;
  readonly dimensions: IpsetDimension[];
  /** Why membership cannot be tested (set type loopscope does not evaluate), or null. */
  readonly unsupported: string | null;
  readonly header: Record<string, string>;
  readonly file: string;
  readonly line: number;
  /** Member lines as written, in order (for display; not used by tests). */
  readonly members: string[] = [];
  /** `Number of entries:` from `ipset list`, to spot truncated dumps. */
  declaredEntries: number | null = null;

  private readonly keys = new Set<string>();
  private readonly nomatchKeys = new Set<string>();
  /** For sets with net dimensions: the prefix-length tuples present, most specific first. */
  private prefixTuples: number[][] = [];
  private prefixTuplesSorted = true;
  private readonly prefixTupleKeys = new Set<string>();
  /** Ranges and networks of a one-dimensional ip set, tested arithmetically, never enumerated. */
  private readonly ranges: AddressRange[] = [];
  /** Why some members were not read (too many keys, a range too large): tests that miss are unknown. */
  private incomplete: string | null = null;
  private readonly netmask: number | null;
  private readonly markmask: number;
  /** Member set names (list:set). */
  readonly memberSets: string[] = [];

  constructor(name: string, type: string, header: Record<string, string>, file: string, line: number) {
    this.name = name;
    this.type = type;
    this.header = header;
    this.file = file;
    this.line = line;
    const [method = '', dims = ''] = type.split(':');
    const dimensions: IpsetDimension[] = [];
    let unsupported: string | null = null;
    for (const d of dims.split(',')) {
      const dim = DIMENSION_WORDS.get(d);
      if (!dim) unsupported = `set type ${type} is not evaluated by loopscope`;
      else dimensions.push(dim);
    }
    if (!['hash', 'bitmap', 'list'].includes(method)) unsupported = `set type ${type} is not evaluated by loopscope`;
    if (dimensions.includes('mac')) unsupported = `set type ${type} matches MAC addresses, which a trace does not know`;
    this.dimensions = dimensions;
    this.unsupported = unsupported;
    const fam = header['family'];
    // hash:* and bitmap:ip sets default to inet; bitmap:port and list:set have no family.
    if (fam === 'inet6') this.family = 6;
    else if (fam === 'inet' || method === 'hash' || type === 'bitmap:ip') this.family = 4;
    else this.family = null;
    const nm = header['netmask'];
    this.netmask = nm !== undefined && /^\d+$/.test(nm) ? Number(nm) : null;
    const mm = header['markmask'];
    this.markmask = mm !== undefined ? Number(mm) >>> 0 : 0xffffffff;
  }

  get size(): number {
    return this.keys.size + this.nomatchKeys.size + this.memberSets.length + this.ranges.length;
  }

  private addKey(key: string, nomatch: boolean): string | null {
    if (this.keys.size + this.nomatchKeys.size >= MAX_SET_KEYS) {
      const first = this.incomplete === null;
      this.incomplete ??= `set ${this.name} holds more than ${MAX_SET_KEYS} entries; the rest were not read`;
      return first
        ? `more than ${MAX_SET_KEYS} entries: this and later members are not read, and a trace that tests the set is uncertain`
        : null;
    }
    if (nomatch) this.nomatchKeys.add(key);
    else this.keys.add(key);
    return null;
  }

  /** A range or network in a one-dimensional ip set: kept as its two ends (any size). */
  private addRange(text: string, nomatch: boolean): string | null | undefined {
    if (this.dimensions.length !== 1 || this.dimensions[0] !== 'ip' || this.netmask !== null) return undefined;
    const dash = text.indexOf('-');
    let range: AddressRange | null = null;
    if (dash > 0) {
      const a = parseIp(text.slice(0, dash));
      const b = parseIp(text.slice(dash + 1));
      if (!a || !b || a.family !== b.family || BigInt(a.value) > BigInt(b.value)) return `cannot read address range "${text}"`;
      range = { family: a.family, from: BigInt(a.value), to: BigInt(b.value), nomatch };
    } else if (text.indexOf('/') >= 0) {
      const c = parseCidr(text);
      if (!c || c.prefix < 0) return `cannot read address "${text}"`;
      const bits = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
      const from = BigInt(c.network);
      range = { family: c.family, from, to: from + (1n << bits) - 1n, nomatch };
    } else return undefined;
    if (this.family !== null && range.family !== this.family)
      return `address family does not match the set (family ${this.family === 6 ? 'inet6' : 'inet'})`;
    if (this.ranges.length >= MAX_SET_KEYS) {
      this.incomplete ??= `set ${this.name} holds more than ${MAX_SET_KEYS} ranges; the rest were not read`;
      return null;
    }
    this.ranges.push(range);
    return null;
  }

  /**
   * Adds one member as `ipset save` writes it (`10.0.0.5,tcp:80`). Returns an
   * error message when the member cannot be read for this set type.
   */
  add(element: string, nomatch: boolean): string | null {
    if (this.type === 'list:set') {
      this.memberSets.push(element);
      return null;
    }
    if (this.unsupported) return null; // kept in `members` only
    const parts = element.split(',');
    if (parts.length !== this.dimensions.length)
      return `member "${element}" does not have the ${this.dimensions.length} parts of a ${this.type} set`;
    // Fast path: every part is one value (what `ipset save` prints); ranges take the slow path.
    let key = '';
    let prefixes: number[] | null = null;
    let single = true;
    for (let d = 0; d < parts.length && single; d++) {
      const k = this.singleKey(this.dimensions[d] as IpsetDimension, parts[d] as string);
      if (k === null) single = false;
      else {
        key = d === 0 ? k.key : key + ',' + k.key;
        if (k.prefix !== null) (prefixes ??= []).push(k.prefix);
      }
    }
    if (single) {
      if (prefixes) this.notePrefixes(prefixes);
      return this.addKey(key, nomatch);
    }
    const ranged = this.addRange(element, nomatch);
    if (ranged !== undefined) return ranged;
    // Each part expands to one or more keys (ranges); nets carry their prefix.
    let partials: Array<{ key: string; prefixes: number[] }> = [{ key: '', prefixes: [] }];
    for (let d = 0; d < parts.length; d++) {
      const expanded = this.expandPart(this.dimensions[d] as IpsetDimension, parts[d] as string);
      if (typeof expanded === 'string') {
        if (expanded.endsWith('too large') || expanded.endsWith('too large to expand'))
          this.incomplete ??= `a member of set ${this.name} was too large to read`;
        return `member "${element}": ${expanded}`;
      }
      if (partials.length * expanded.length > MAX_EXPANSION) {
        this.incomplete ??= `a member of set ${this.name} was too large to read`;
        return `member "${element}" expands to too many entries`;
      }
      const next: Array<{ key: string; prefixes: number[] }> = [];
      for (const p of partials) {
        for (const e of expanded) {
          next.push({ key: d === 0 ? e.key : p.key + ',' + e.key, prefixes: e.prefix === null ? p.prefixes : [...p.prefixes, e.prefix] });
        }
      }
      partials = next;
    }
    for (const p of partials) {
      if (p.prefixes.length > 0) this.notePrefixes(p.prefixes);
      const err = this.addKey(p.key, nomatch);
      if (err !== null || this.incomplete !== null) return err;
    }
    return null;
  }

  private notePrefixes(prefixes: number[]): void {
    const tk = prefixes.length === 1 ? String(prefixes[0]) : prefixes.join('/');
    if (this.prefixTupleKeys.has(tk)) return;
    this.prefixTupleKeys.add(tk);
    this.prefixTuples.push(prefixes);
    this.prefixTuplesSorted = false;
  }

  /** The kernel tries the most specific entries first; sorted once, at the first test after a change. */
  private sortedPrefixTuples(): number[][] {
    if (!this.prefixTuplesSorted) {
      this.prefixTuples.sort((a, b) => {
        for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return (b[k] as number) - (a[k] as number);
        return 0;
      });
      this.prefixTuplesSorted = true;
    }
    return this.prefixTuples;
  }

  /** Membership as the set's reader saw it, made "unknown" when the set could not be read whole. */
  private missed(result: 'absent'): SetTestResult {
    return this.incomplete !== null ? { unknown: this.incomplete } : result;
  }

  /** The key of one part when it is a single value; null when it needs expanding (or is bad). */
  private singleKey(dim: IpsetDimension, text: string): { key: string; prefix: number | null } | null {
    switch (dim) {
      case 'ip': {
        if (text.indexOf('-') >= 0 || text.indexOf('/') >= 0) return null;
        const ip = parseIp(text);
        if (!ip || (this.family !== null && ip.family !== this.family)) return null;
        return { key: this.netmask !== null ? maskedKey(ip, this.netmask) : ipKey(ip), prefix: null };
      }
      case 'port': {
        if (text.indexOf('-') >= 0) return null;
        const colon = text.indexOf(':');
        const portText = colon < 0 ? text : text.slice(colon + 1);
        const port = parsePort(portText);
        if (port === null) return null;
        if (this.type === 'bitmap:port') return { key: String(port), prefix: null };
        const proto = colon < 0 ? 6 : parseProtocol(text.slice(0, colon));
        if (proto === null || proto === 'all' || !PORT_PROTOCOLS.has(proto)) return null;
        return { key: `${proto}:${port}`, prefix: null };
      }
      case 'net':
      case 'mark':
      case 'iface': {
        const e = this.expandPart(dim, text);
        return typeof e === 'string' || e.length !== 1 ? null : (e[0] as { key: string; prefix: number | null });
      }
      default:
        return null;
    }
  }

  private expandPart(dim: IpsetDimension, text: string): Array<{ key: string; prefix: number | null }> | string {
    switch (dim) {
      case 'ip': {
        const ips = expandAddresses(text);
        if (typeof ips === 'string') return ips;
        for (const ip of ips)
          if (this.family !== null && ip.family !== this.family)
            return `address family does not match the set (family ${this.family === 6 ? 'inet6' : 'inet'})`;
        return ips.map((ip) => ({ key: this.netmask !== null ? maskedKey(ip, this.netmask) : ipKey(ip), prefix: null }));
      }
      case 'net': {
        const c = parseCidr(text);
        if (!c || c.prefix < 0) return `cannot read network "${text}"`;
        if (this.family !== null && c.family !== this.family) return 'address family does not match the set';
        const ip: IpAddress = c.family === 4 ? { family: 4, value: c.network } : { family: 6, value: c.network };
        return [{ key: maskedKey(ip, c.prefix) + '/' + c.prefix, prefix: c.prefix }];
      }
      case 'port': {
        if (this.type === 'bitmap:port') {
          const range = parseRange(text.includes(':') ? text.slice(text.indexOf(':') + 1) : text);
          if (!range) return `cannot read port "${text}"`;
          return rangeKeys(range, (p) => String(p));
        }
        const colon = text.indexOf(':');
        const protoText = colon < 0 ? 'tcp' : text.slice(0, colon);
        const portText = colon < 0 ? text : text.slice(colon + 1);
        const proto = parseProtocol(protoText);
        if (proto === null || proto === 'all') return `unknown protocol "${protoText}"`;
        if (!PORT_PROTOCOLS.has(proto)) return [{ key: `${proto}:${portText}`, prefix: null }]; // icmp type/code: kept, never matched
        const range = parseRange(portText);
        if (!range) return `cannot read port "${portText}"`;
        return rangeKeys(range, (p) => `${proto}:${p}`);
      }
      case 'mark': {
        const m = Number(text);
        if (!Number.isInteger(m) || m < 0 || m > 0xffffffff) return `cannot read mark "${text}"`;
        return [{ key: String((m & this.markmask) >>> 0), prefix: null }];
      }
      case 'iface':
        return [{ key: text, prefix: null }];
      default:
        return `dimension ${dim} is not evaluated`;
    }
  }

  /**
   * Tests a packet against the set with the match's direction flags
   * (`dst,dst` → destination IP and destination port). `sets` resolves
   * members of list:set sets.
   */
  test(flags: readonly SetFlag[], probe: SetProbe, sets?: ReadonlyMap<string, IpSet>, depth = 0): SetTestResult {
    if (this.unsupported) return { unknown: this.unsupported };
    if (this.type === 'list:set') {
      if (depth > 4) return { unknown: `list:set ${this.name} nests too deep` };
      for (const name of this.memberSets) {
        const member = sets?.get(name);
        if (!member) return { unknown: `set ${name} (member of ${this.name}) is not in the ipset dump` };
        const r = member.test(flags, probe, sets, depth + 1);
        if (r !== 'absent') return r;
      }
      return 'absent';
    }
    // The kernel refuses a match with fewer flags than the set has dimensions.
    if (flags.length < this.dimensions.length) return 'absent';
    const family = probe.dst.family;
    if (this.family !== null && this.family !== family) return 'absent';
    const parts: string[] = [];
    const netIps: Array<{ slot: number; ip: IpAddress }> = [];
    for (let d = 0; d < this.dimensions.length; d++) {
      const src = flags[d] === 'src';
      switch (this.dimensions[d]) {
        case 'ip': {
          const ip = src ? probe.src : probe.dst;
          parts.push(this.netmask !== null ? maskedKey(ip, this.netmask) : ipKey(ip));
          break;
        }
        case 'net':
          netIps.push({ slot: parts.length, ip: src ? probe.src : probe.dst });
          parts.push('');
          break;
        case 'port': {
          const port = src ? probe.sport : probe.dport;
          if (port === null) return { unknown: `set ${this.name} is tested on the source port, which the packet does not give` };
          if (!PORT_PROTOCOLS.has(probe.protocol)) return 'absent';
          parts.push(this.type === 'bitmap:port' ? String(port) : `${probe.protocol}:${port}`);
          break;
        }
        case 'mark':
          parts.push(String((probe.mark & this.markmask) >>> 0));
          break;
        case 'iface': {
          const iface = src ? probe.inInterface : probe.outInterface;
          if (iface === null)
            return { unknown: `set ${this.name} is tested on the ${src ? 'input' : 'output'} interface, which the packet does not give` };
          parts.push(iface);
          break;
        }
        default:
          return { unknown: `set ${this.name}: dimension not evaluated` };
      }
    }
    if (netIps.length === 0) {
      const key = parts.join(',');
      if (this.keys.has(key)) return 'match';
      if (this.ranges.length > 0) {
        const ip = flags[0] === 'src' ? probe.src : probe.dst;
        const v = BigInt(ip.value);
        let hit: SetTestResult = 'absent';
        for (const r of this.ranges) {
          if (r.family !== ip.family || v < r.from || v > r.to) continue;
          if (!r.nomatch) return 'match';
          hit = 'nomatch';
        }
        if (hit !== 'absent') return hit;
      }
      return this.missed('absent');
    }
    for (const tuple of this.sortedPrefixTuples()) {
      for (let k = 0; k < netIps.length; k++) {
        const n = netIps[k] as { slot: number; ip: IpAddress };
        const prefix = tuple[k] as number;
        parts[n.slot] = maskedKey(n.ip, prefix) + '/' + prefix;
      }
      const key = parts.join(',');
      if (this.keys.has(key)) return 'match';
      if (this.nomatchKeys.has(key)) return 'nomatch';
    }
    return this.missed('absent');
  }

  /** True when an address (and optionally protocol/port) is a member, for `dst,dst`-style checks from the model. */
  hasDestination(ip: IpAddress, protocol = 6, port = 0): boolean {
    const probe: SetProbe = { src: ip, dst: ip, protocol, sport: port, dport: port, mark: 0, inInterface: null, outInterface: null };
    return this.test(['dst', 'dst', 'dst', 'dst'], probe) === 'match';
  }
}

function parseRange(text: string): { from: number; to: number } | null {
  const dash = text.indexOf('-');
  const a = parsePort(dash < 0 ? text : text.slice(0, dash));
  const b = dash < 0 ? a : parsePort(text.slice(dash + 1));
  if (a === null || b === null || a > b) return null;
  return { from: a, to: b };
}

function rangeKeys(range: { from: number; to: number }, key: (p: number) => string): Array<{ key: string; prefix: null }> {
  const out: Array<{ key: string; prefix: null }> = [];
  for (let p = range.from; p <= range.to; p++) out.push({ key: key(p), prefix: null });
  return out;
}

/** `10.0.0.1`, `10.0.0.0/30` or `10.0.0.1-10.0.0.4` → the addresses (ipset expands these for ip dimensions). */
function expandAddresses(text: string): IpAddress[] | string {
  const dash = text.indexOf('-');
  if (dash > 0) {
    const a = parseIp(text.slice(0, dash));
    const b = parseIp(text.slice(dash + 1));
    if (!a || !b || a.family !== 4 || b.family !== 4 || a.value > b.value) return `cannot read address range "${text}"`;
    if (b.value - a.value >= MAX_EXPANSION) return 'address range too large';
    const out: IpAddress[] = [];
    for (let v = a.value; v <= b.value; v++) out.push({ family: 4, value: v });
    return out;
  }
  if (text.includes('/')) {
    const c = parseCidr(text);
    if (!c || c.prefix < 0) return `cannot read address "${text}"`;
    const bits = (c.family === 4 ? 32 : 128) - c.prefix;
    if (bits > 16) return 'network too large to expand';
    const out: IpAddress[] = [];
    for (let k = 0; k < 2 ** bits; k++) {
      out.push(c.family === 4 ? { family: 4, value: c.network + k } : { family: 6, value: c.network + BigInt(k) });
    }
    return out;
  }
  const ip = parseIp(text);
  return ip ? [ip] : `cannot read address "${text}"`;
}

export interface IpsetDump {
  file: string;
  sets: Map<string, IpSet>;
}

/** Turns `family inet hashsize 1024 comment timeout 0` into a record (flags map to ''). */
function parseHeader(words: string[]): Record<string, string> {
  const VALUED = new Set([
    'family',
    'hashsize',
    'maxelem',
    'netmask',
    'markmask',
    'timeout',
    'range',
    'size',
    'bucketsize',
    'initval',
    'bitmask',
  ]);
  // No prototype: a header word `constructor` or `__proto__` is just a word.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (VALUED.has(w) && i + 1 < words.length) {
      out[w] = words[i + 1] as string;
      i++;
    } else out[w] = '';
  }
  return out;
}

/** Splits a member line into its element and whether it carries `nomatch`. */
function readMember(rest: string): { element: string; nomatch: boolean } {
  const sp = rest.search(/\s/);
  const element = sp < 0 ? rest : rest.slice(0, sp);
  let nomatch = false;
  if (sp >= 0 && rest.indexOf('nomatch', sp) >= 0) {
    const words = splitWords(rest.slice(sp)).words;
    nomatch = words.some((w) => !w.quoted && w.text === 'nomatch');
  }
  return { element, nomatch };
}

/**
 * Parses `ipset save` or `ipset list` output (either; even both in one file).
 * Unreadable lines are reported with their line number and skipped.
 */
export function parseIpset(text: string, fileName: string): ParsedDump<IpsetDump> {
  const problems: DumpProblem[] = [];
  const dump: IpsetDump = { file: fileName, sets: new Map() };
  const report = (line: number, message: string, severity: DumpProblem['severity'] = 'error') =>
    problems.push({ file: fileName, line, message, severity });
  if (typeof text !== 'string') {
    report(0, 'not text');
    return { value: dump, problems };
  }
  const lines = splitLines(text);
  // `ipset list` state
  let listName: string | null = null;
  let listType: string | null = null;
  let listHeader: Record<string, string> = Object.create(null) as Record<string, string>;
  let listLine = 0;
  let listSet: IpSet | null = null;
  let inMembers = false;
  let declared: number | null = null;

  const addSet = (set: IpSet, lineNo: number) => {
    if (dump.sets.has(set.name)) report(lineNo, `set ${set.name} appears twice; the later one is kept`, 'warning');
    dump.sets.set(set.name, set);
    if (set.unsupported) report(lineNo, `${set.unsupported}; a trace that tests set ${set.name} will be uncertain`, 'warning');
  };
  const finishListSet = (lineNo: number) => {
    if (listName !== null && !listSet) {
      if (listType === null) report(listLine, `set ${listName} has no Type: line`);
      else {
        listSet = new IpSet(listName, listType, listHeader, fileName, listLine);
        addSet(listSet, listLine);
      }
    }
    if (listSet && declared !== null && listSet.members.length < declared) {
      report(
        lineNo,
        `set ${listSet.name} declares ${declared} entries but ${listSet.members.length} were read (truncated dump, or \`ipset list -t\`?)`,
        'warning',
      );
    }
    if (listSet && declared !== null) listSet.declaredEntries = declared;
    listName = null;
    listType = null;
    listHeader = Object.create(null) as Record<string, string>;
    listSet = null;
    inMembers = false;
    declared = null;
  };
  const addMember = (set: IpSet, rest: string, lineNo: number) => {
    const { element, nomatch } = readMember(rest);
    set.members.push(rest);
    const err = set.add(element, nomatch);
    if (err) report(lineNo, `set ${set.name}: ${err}; skipped`);
  };

  for (let idx = 0; idx < lines.length; idx++) {
    const lineNo = idx + 1;
    const line = (lines[idx] as string).trim();
    if (line === '') {
      if (inMembers || listName !== null) finishListSet(lineNo);
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith('create ') || line.startsWith('-N ') || line.startsWith('-exist') || line === 'create') {
      if (listName !== null) finishListSet(lineNo);
      const words = splitWords(line)
        .words.map((w) => w.text)
        .filter((w) => w !== '-exist');
      const [, name, type, ...rest] = words;
      if (!name || !type) {
        report(lineNo, 'create line needs a name and a type');
        continue;
      }
      addSet(new IpSet(name, type, parseHeader(rest), fileName, lineNo), lineNo);
      continue;
    }
    if (line.startsWith('add ') || line.startsWith('-A ')) {
      if (listName !== null) finishListSet(lineNo);
      const rest = line.slice(line.indexOf(' ') + 1).trimStart();
      const sp = rest.search(/\s/);
      if (sp <= 0) {
        report(lineNo, 'add line needs a set name and a member');
        continue;
      }
      const name = rest.slice(0, sp);
      const set = dump.sets.get(name);
      if (!set) {
        report(lineNo, `member added to set ${name}, which was not created before`);
        continue;
      }
      addMember(set, rest.slice(sp + 1).trimStart(), lineNo);
      continue;
    }
    const field = /^([A-Z][A-Za-z ]*):\s*(.*)$/.exec(line);
    if (field && !inMembers) {
      const key = field[1] as string;
      const value = field[2] as string;
      if (key === 'Name') {
        if (listName !== null) finishListSet(lineNo);
        listName = value;
        listLine = lineNo;
      } else if (listName === null) {
        report(lineNo, `"${key}:" outside a set (no Name: line before it)`);
      } else if (key === 'Type') listType = value;
      else if (key === 'Header') listHeader = parseHeader(value.split(/\s+/));
      else if (key === 'Number of entries') declared = /^\d+$/.test(value) ? Number(value) : null;
      else if (key === 'Members') {
        if (listType === null) report(lineNo, `set ${listName} has no Type: line; its members are skipped`);
        else {
          listSet = new IpSet(listName, listType, listHeader, fileName, listLine);
          addSet(listSet, listLine);
        }
        inMembers = true;
        if (value !== '') report(lineNo, 'unexpected text after Members:', 'warning');
      }
      continue;
    }
    if (inMembers) {
      if (line.startsWith('Name:')) {
        finishListSet(lineNo);
        idx--; // read this line again as the start of the next set
        continue;
      }
      if (listSet) addMember(listSet, line, lineNo);
      continue;
    }
    report(lineNo, `unrecognized line "${line.length > 80 ? line.slice(0, 80) + '…' : line}"; skipped`);
  }
  finishListSet(lines.length);
  return { value: dump, problems };
}
