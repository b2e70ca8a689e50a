/**
 * Parser for `ip -o addr` (also plain `ip addr` and `ip -j addr`), and the
 * node's address book: which addresses the kernel treats as its own (the
 * routing "local" type that `-m addrtype --dst-type LOCAL` and local delivery
 * use), and which are bound on `kube-ipvs0`.
 */

import { type Cidr, type IpAddress, type IpFamily, cidrContains, cidrOf, formatIp, ipKey, isLoopback, isMulticast, parseIp } from './cidr';
import { type ParsedDump, type DumpProblem, splitLines } from './problems';

export interface InterfaceAddress {
  /** Interface name without the `@peer` suffix (`veth1@if2` → `veth1`). */
  iface: string;
  family: IpFamily;
  address: IpAddress;
  /** Canonical text of the address. */
  text: string;
  prefix: number;
  broadcast: IpAddress | null;
  scope: string | null;
  line: number;
}

function stripPeer(name: string): string {
  const at = name.indexOf('@');
  return at > 0 ? name.slice(0, at) : name;
}

/** Reads `inet 10.0.0.12/24 brd 10.0.0.255 scope global eth0` (the words after the interface). */
function readInet(words: string[], iface: string, lineNo: number): InterfaceAddress | string {
  const fam = words[0];
  const cidrText = words[1] ?? '';
  const slash = cidrText.indexOf('/');
  const ipText = slash < 0 ? cidrText : cidrText.slice(0, slash);
  const address = parseIp(ipText);
  const prefix = slash < 0 ? (address?.family === 6 ? 128 : 32) : Number(cidrText.slice(slash + 1));
  if (!address || !Number.isInteger(prefix) || prefix < 0 || prefix > (address.family === 4 ? 32 : 128))
    return `cannot read address "${cidrText}"`;
  if ((fam === 'inet') !== (address.family === 4)) return `${fam} with address ${cidrText}`;
  let broadcast: IpAddress | null = null;
  let scope: string | null = null;
  for (let i = 2; i < words.length; i++) {
    if (words[i] === 'brd') broadcast = parseIp(words[i + 1] ?? '');
    if (words[i] === 'scope') scope = words[i + 1] ?? null;
  }
  return { iface, family: address.family, address, text: formatIp(address), prefix, broadcast, scope, line: lineNo };
}

interface IpJsonAddr {
  family?: unknown;
  local?: unknown;
  prefixlen?: unknown;
  broadcast?: unknown;
  scope?: unknown;
}

function parseJson(text: string, fileName: string, problems: DumpProblem[]): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    problems.push({
      file: fileName,
      line: 0,
      message: `looks like \`ip -j addr\` output but is not valid JSON (${(e as Error).message})`,
      severity: 'error',
    });
    return out;
  }
  if (!Array.isArray(data)) {
    problems.push({ file: fileName, line: 0, message: 'JSON is not a list of interfaces', severity: 'error' });
    return out;
  }
  data.forEach((link: unknown, i) => {
    const l = link as { ifname?: unknown; addr_info?: unknown };
    if (typeof l?.ifname !== 'string' || !Array.isArray(l.addr_info)) {
      problems.push({ file: fileName, line: 0, message: `interface #${i + 1} has no ifname/addr_info`, severity: 'error' });
      return;
    }
    for (const a of l.addr_info as IpJsonAddr[]) {
      if (a?.family !== 'inet' && a?.family !== 'inet6') continue;
      const address = typeof a.local === 'string' ? parseIp(a.local) : null;
      if (!address) {
        problems.push({
          file: fileName,
          line: 0,
          message: `interface ${l.ifname}: cannot read address ${String(a.local)}`,
          severity: 'error',
        });
        continue;
      }
      const prefix = typeof a.prefixlen === 'number' ? a.prefixlen : address.family === 4 ? 32 : 128;
      const broadcast = typeof a.broadcast === 'string' ? parseIp(a.broadcast) : null;
      out.push({
        iface: stripPeer(l.ifname),
        family: address.family,
        address,
        text: formatIp(address),
        prefix,
        broadcast,
        scope: typeof a.scope === 'string' ? a.scope : null,
        line: 0,
      });
    }
  });
  return out;
}

/**
 * Parses `ip -o addr` output. Also reads the multi-line `ip addr` form and
 * `ip -j addr` JSON, since that is what people paste.
 */
export function parseIpAddr(text: string, fileName: string): ParsedDump<InterfaceAddress[]> {
  const problems: DumpProblem[] = [];
  if (typeof text !== 'string') return { value: [], problems: [{ file: fileName, line: 0, message: 'not text', severity: 'error' }] };
  if (text.trimStart().startsWith('[')) return { value: parseJson(text, fileName, problems), problems };
  const out: InterfaceAddress[] = [];
  const lines = splitLines(text);
  let currentIface: string | null = null; // for the multi-line form
  for (let idx = 0; idx < lines.length; idx++) {
    const lineNo = idx + 1;
    const raw = lines[idx] as string;
    const line = raw.trim();
    if (line === '') continue;
    // `ip -o` joins continuation lines with a backslash: drop that tail.
    const body = line.split('\\')[0] as string;
    const words = body.trim().split(/\s+/);
    const oneLine = /^(\d+):$/.test(words[0] ?? '') && (words[2] === 'inet' || words[2] === 'inet6');
    if (oneLine) {
      const r = readInet(words.slice(2), stripPeer(words[1] as string), lineNo);
      if (typeof r === 'string') problems.push({ file: fileName, line: lineNo, message: `${r}; skipped`, severity: 'error' });
      else out.push(r);
      continue;
    }
    const header = /^\d+:\s+([^\s:]+):\s/.exec(line + ' ');
    if (header) {
      currentIface = stripPeer(header[1] as string);
      continue;
    }
    if ((words[0] === 'inet' || words[0] === 'inet6') && currentIface !== null) {
      const r = readInet(words, currentIface, lineNo);
      if (typeof r === 'string') problems.push({ file: fileName, line: lineNo, message: `${r}; skipped`, severity: 'error' });
      else out.push(r);
      continue;
    }
    if (/^(link\/|valid_lft|altname|inet|inet6)/.test(words[0] ?? '') || /^\d+:\s+\S+\s+link\//.test(line)) continue;
    problems.push({
      file: fileName,
      line: lineNo,
      message: `unrecognized line "${line.length > 80 ? line.slice(0, 80) + '…' : line}"; skipped`,
      severity: 'error',
    });
  }
  return { value: out, problems };
}

/** The interface where kube-proxy IPVS binds Service addresses. */
export const KUBE_IPVS_INTERFACE = 'kube-ipvs0';

/**
 * What the node considers its own addresses. Built from addr.txt and/or an
 * explicit list. `known` is false when there was no addr.txt: then an address
 * not in the explicit list is "unknown", not "remote".
 */
export class AddressBook {
  readonly entries: InterfaceAddress[];
  readonly known: boolean;
  private readonly local = new Map<string, string | null>(); // key → interface (null for explicit)
  private readonly broadcast = new Set<string>();
  private readonly localRanges: Array<{ cidr: Cidr; iface: string }> = [];

  constructor(entries: InterfaceAddress[], explicit: IpAddress[], known: boolean) {
    this.entries = entries;
    this.known = known;
    for (const e of entries) {
      if (!this.local.has(ipKey(e.address))) this.local.set(ipKey(e.address), e.iface);
      if (e.broadcast) this.broadcast.add(ipKey(e.broadcast));
      // The kernel makes the whole subnet of a loopback address local (127.0.0.0/8).
      if (e.iface === 'lo' || isLoopback(e.address)) this.localRanges.push({ cidr: cidrOf(e.address, e.prefix), iface: e.iface });
    }
    for (const ip of explicit) if (!this.local.has(ipKey(ip))) this.local.set(ipKey(ip), null);
  }

  /** true: the node owns it; false: it does not; null: no addr.txt and not listed, so nobody knows. */
  isLocal(ip: IpAddress): boolean | null {
    if (this.local.has(ipKey(ip)) || isLoopback(ip)) return true;
    for (const r of this.localRanges) if (cidrContains(r.cidr, ip)) return true;
    return this.known ? false : null;
  }

  /** Like isLocal, but only addresses bound on `iface` (addrtype --limit-iface-*). */
  isLocalOn(ip: IpAddress, iface: string): boolean | null {
    if (!this.known) return null;
    for (const e of this.entries) if (e.iface === iface && e.address.family === ip.family && e.address.value === ip.value) return true;
    for (const r of this.localRanges) if (r.iface === iface && cidrContains(r.cidr, ip)) return true;
    return false;
  }

  /** The interface an address is bound on (null if none known, or only from the explicit list). */
  interfaceOf(ip: IpAddress): string | null {
    const iface = this.local.get(ipKey(ip));
    if (iface) return iface;
    for (const r of this.localRanges) if (cidrContains(r.cidr, ip)) return r.iface;
    return null;
  }

  isBroadcast(ip: IpAddress): boolean {
    return (ip.family === 4 && ip.value === 0xffffffff) || this.broadcast.has(ipKey(ip));
  }

  /** LOCAL, BROADCAST, MULTICAST or UNICAST, as the routing table would type it; null when unknown. */
  addressType(ip: IpAddress): 'LOCAL' | 'BROADCAST' | 'MULTICAST' | 'UNICAST' | null {
    const local = this.isLocal(ip);
    if (local) return 'LOCAL';
    if (this.isBroadcast(ip)) return 'BROADCAST';
    if (isMulticast(ip)) return 'MULTICAST';
    return local === null ? null : 'UNICAST';
  }

  boundAddresses(iface: string): string[] {
    return this.entries.filter((e) => e.iface === iface).map((e) => e.text);
  }

  /** Addresses of the node itself: global scope, not on kube-ipvs0, not loopback. */
  nodeAddresses(): string[] {
    return this.entries
      .filter(
        (e) => e.iface !== KUBE_IPVS_INTERFACE && e.iface !== 'lo' && !isLoopback(e.address) && (e.scope === null || e.scope === 'global'),
      )
      .map((e) => e.text);
  }
}
