/**
 * IPv4/IPv6 addresses and CIDR blocks, parsed once into numbers so that rule
 * and ipset checks during a trace are integer compares.
 *
 * IPv4 values are unsigned 32-bit numbers (fast path: most clusters are IPv4);
 * IPv6 values are 128-bit bigints.
 */

export type IpFamily = 4 | 6;

export type IpAddress = { readonly family: 4; readonly value: number } | { readonly family: 6; readonly value: bigint };

/** A network with its mask. `prefix` is -1 for a non-contiguous dotted mask (iptables allows those). */
export type Cidr =
  | { readonly family: 4; readonly network: number; readonly mask: number; readonly prefix: number }
  | { readonly family: 6; readonly network: bigint; readonly mask: bigint; readonly prefix: number };

const V6_ALL = (1n << 128n) - 1n;

function parseV4(text: string): number | null {
  // One pass, no split: this runs for every address of a 20k-rule dump.
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || ++digits > 3) return null;
      octet = octet * 10 + d;
      if (octet > 255) return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + octet;
}

function parseV6(text: string): bigint | null {
  if (text.length < 2 || text.length > 45) return null;
  let head = text;
  let v4Tail: number | null = null;
  // An embedded IPv4 address (::ffff:10.0.0.1) fills the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > 0) {
    v4Tail = parseV4(text.slice(lastColon + 1));
    if (v4Tail === null) return null;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const double = head.indexOf('::');
  if (double !== head.lastIndexOf('::')) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.length === 0 || g.length > 4 || !/^[0-9a-fA-F]+$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (double >= 0) {
    const left = parseGroups(head.slice(0, double));
    const right = parseGroups(head.slice(double + 2));
    if (!left || !right || left.length + right.length > 7) return null;
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    const all = parseGroups(head);
    if (!all || all.length !== 8) return null;
    groups = all;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  if (v4Tail !== null) value = (value & ~0xffffffffn) | BigInt(v4Tail);
  return value;
}

/** Parses a bare IPv4 or IPv6 address (no brackets, no zone, no prefix). */
export function parseIp(text: string): IpAddress | null {
  if (text.indexOf(':') >= 0) {
    const value = parseV6(text);
    return value === null ? null : { family: 6, value };
  }
  const value = parseV4(text);
  return value === null ? null : { family: 4, value };
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function v6Mask(prefix: number): bigint {
  return prefix === 0 ? 0n : (V6_ALL << BigInt(128 - prefix)) & V6_ALL;
}

function maskToPrefix4(mask: number): number {
  for (let p = 0; p <= 32; p++) if (v4Mask(p) === mask) return p;
  return -1;
}

/** The block of one address (/32 or /128). */
export function hostCidr(ip: IpAddress): Cidr {
  return ip.family === 4
    ? { family: 4, network: ip.value, mask: 0xffffffff, prefix: 32 }
    : { family: 6, network: ip.value, mask: V6_ALL, prefix: 128 };
}

export function cidrOf(ip: IpAddress, prefix: number): Cidr {
  if (ip.family === 4) {
    const mask = v4Mask(prefix);
    return { family: 4, network: (ip.value & mask) >>> 0, mask, prefix };
  }
  const mask = v6Mask(prefix);
  return { family: 6, network: ip.value & mask, mask, prefix };
}

/**
 * Parses `10.0.0.0/8`, `10.0.0.1` (a host), `fd00::/64`, and the dotted masks
 * iptables prints for non-contiguous masks (`10.0.0.0/255.0.255.0`).
 * Host bits are cleared, as the kernel does.
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!ip) return null;
  if (slash < 0) return hostCidr(ip);
  const maskText = text.slice(slash + 1);
  if (/^\d{1,3}$/.test(maskText)) {
    const prefix = Number(maskText);
    if (prefix > (ip.family === 4 ? 32 : 128)) return null;
    return cidrOf(ip, prefix);
  }
  if (ip.family === 4) {
    const mask = parseV4(maskText);
    if (mask === null) return null;
    return { family: 4, network: (ip.value & mask) >>> 0, mask, prefix: maskToPrefix4(mask) };
  }
  return null;
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family === 4) return ip.family === 4 && (ip.value & cidr.mask) >>> 0 === cidr.network;
  return ip.family === 6 && (ip.value & cidr.mask) === cidr.network;
}

export function sameIp(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

/**
 * A short string that identifies an address, for Set/Map keys. Not for display:
 * IPv4 is the 32-bit number, IPv6 is `6:` and hex.
 */
export function ipKey(ip: IpAddress): string {
  return ip.family === 4 ? String(ip.value) : '6:' + ip.value.toString(16);
}

/** The key of the network that holds `ip` under `prefix` (same encoding as ipKey). */
export function maskedKey(ip: IpAddress, prefix: number): string {
  if (ip.family === 4) return String((ip.value & v4Mask(prefix)) >>> 0);
  return '6:' + (ip.value & v6Mask(prefix)).toString(16);
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = ip.value;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (length >= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return hex(groups.slice(0, bestStart)) + '::' + hex(groups.slice(bestStart + bestLen));
}

export function formatCidr(cidr: Cidr): string {
  const ip: IpAddress = cidr.family === 4 ? { family: 4, value: cidr.network } : { family: 6, value: cidr.network };
  if (cidr.prefix >= 0) return `${formatIp(ip)}/${cidr.prefix}`;
  return `${formatIp(ip)}/${formatIp({ family: 4, value: cidr.mask as number })}`;
}

/** `10.0.0.5:80` or `[fd00::5]:80`. */
export function formatEndpoint(ip: IpAddress, port: number | null): string {
  const host = ip.family === 6 ? `[${formatIp(ip)}]` : formatIp(ip);
  return port === null ? host : `${host}:${port}`;
}

/**
 * Parses `IP:PORT`, `[IPv6]:PORT`, or an address alone (port null).
 * A bare IPv6 address without brackets is accepted when it has no port.
 */
export function parseEndpoint(text: string): { ip: IpAddress; port: number | null } | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    const ip = parseIp(text.slice(1, close));
    if (!ip || ip.family !== 6) return null;
    const rest = text.slice(close + 1);
    if (rest === '') return { ip, port: null };
    if (!rest.startsWith(':')) return null;
    const port = parsePort(rest.slice(1));
    return port === null ? null : { ip, port };
  }
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host = '', portText = ''] = text.split(':');
    const ip = parseIp(host);
    const port = parsePort(portText);
    return ip && ip.family === 4 && port !== null ? { ip, port } : null;
  }
  const ip = parseIp(text);
  return ip ? { ip, port: null } : null;
}

export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

export function isMulticast(ip: IpAddress): boolean {
  return ip.family === 4 ? ip.value >>> 28 === 0xe : ip.value >> 120n === 0xffn;
}

export function isLoopback(ip: IpAddress): boolean {
  return ip.family === 4 ? ip.value >>> 24 === 127 : ip.value === 1n;
}
