/**
 * Match evaluation: each parsed match is compiled once into a small function
 * of the packet state. A match answers true/false, "unknown" (with the
 * reason, when the dump or the packet does not say), or a probability
 * (`-m statistic`), which the trace turns into two branches.
 */

import type { AddressBook } from './addr';
import { type IpAddress, type IpFamily, cidrContains, isMulticast } from './cidr';
import type { RuleMatch } from './extensions';
import type { IpSet, SetProbe } from './ipset';

/** The packet as it is at one point of the trace (NAT may have rewritten it). */
export interface PacketState extends SetProbe {
  family: IpFamily;
  /** Conntrack status of the connection so far (`--ctstate DNAT/SNAT`). */
  dnatDone: boolean;
  snatDone: boolean;
}

export interface Unknown {
  readonly unknown: string;
}
export interface Chance {
  readonly probability: number;
}
export type MatchOutcome = boolean | Unknown | Chance;
export type Matcher = (p: PacketState) => MatchOutcome;

export interface MatchContext {
  addresses: AddressBook;
  /** null when no ipset dump was given at all. */
  sets: ReadonlyMap<string, IpSet> | null;
  setsFile: string | null;
}

const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);

function interfaceMatches(pattern: string, name: string): boolean {
  // iptables: a trailing `+` matches any interface with that prefix.
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

function ipInRange(ip: IpAddress, from: IpAddress, to: IpAddress): boolean {
  if (ip.family !== from.family) return false;
  return ip.value >= from.value && ip.value <= to.value;
}

function negate(outcome: MatchOutcome, negated: boolean): MatchOutcome {
  if (!negated) return outcome;
  if (typeof outcome === 'boolean') return !outcome;
  return outcome;
}

/** Compiles a match; null for matches that are always true (comments). */
export function compileMatch(m: RuleMatch, ctx: MatchContext): Matcher | null {
  const unknown = (reason: string): Unknown => ({ unknown: `${m.text}: ${reason}` });
  switch (m.kind) {
    case 'comment':
      return null;
    case 'source':
    case 'destination': {
      const cidrs = m.cidrs;
      const src = m.kind === 'source';
      const neg = m.negated;
      if (cidrs.length === 1) {
        const c = cidrs[0] as (typeof cidrs)[number];
        return (p) => cidrContains(c, src ? p.src : p.dst) !== neg;
      }
      return (p) => cidrs.some((c) => cidrContains(c, src ? p.src : p.dst)) !== neg;
    }
    case 'protocol': {
      const proto = m.protocol;
      const neg = m.negated;
      return (p) => (proto === 'all' ? true : p.protocol === proto) !== neg;
    }
    case 'inInterface':
    case 'outInterface': {
      const isIn = m.kind === 'inInterface';
      const reason = unknown(`the packet's ${isIn ? 'input' : 'output'} interface is not known (give it with inInterface/outInterface)`);
      return (p) => {
        const name = isIn ? p.inInterface : p.outInterface;
        if (name === null) return reason;
        return interfaceMatches(m.name, name) !== m.negated;
      };
    }
    case 'fragment':
      // The first packet of a connection is not a non-first fragment.
      return () => m.negated;
    case 'port': {
      const ranges = m.ranges;
      const sportReason = unknown('the packet has no source port (give sport)');
      const inRanges = (port: number) => ranges.some((r) => port >= r.from && port <= r.to);
      return (p) => {
        if (!PORT_PROTOCOLS.has(p.protocol)) return false;
        if (m.which === 'dport') return inRanges(p.dport) !== m.negated;
        if (m.which === 'either' && inRanges(p.dport)) return !m.negated;
        if (p.sport === null) return sportReason;
        return inRanges(p.sport) !== m.negated;
      };
    }
    case 'tcpFlags': {
      // The trace follows the first packet of a connection: a SYN.
      const r = m.mask.every((f) => (f === 'SYN') === m.set.includes(f));
      return (p) => p.protocol === 6 && r !== m.negated;
    }
    case 'set': {
      if (!ctx.sets) {
        const reason = unknown('no ipset dump was given, so set membership is unknown');
        return () => reason;
      }
      const set = ctx.sets.get(m.setName);
      if (!set) {
        const reason = unknown(`set ${m.setName} is not in ${ctx.setsFile ?? 'the ipset dump'}`);
        return () => reason;
      }
      const sets = ctx.sets;
      return (p) => {
        const r = set.test(m.flags, p, sets);
        if (r === 'match') return !m.negated;
        if (r === 'absent') return m.negated;
        if (r === 'nomatch') return m.returnNomatch !== m.negated;
        return unknown(r.unknown);
      };
    }
    case 'mark': {
      const { value, mask, negated } = m;
      return (p) => (((p.mark & mask) >>> 0) === value) !== negated;
    }
    case 'addrtype': {
      const book = ctx.addresses;
      const unknownLocal = unknown('the node addresses are unknown (no addr.txt), so LOCAL cannot be decided');
      const unknownIface = unknown('--limit-iface needs the packet interface, which is not known');
      const unknownType = unknown('only LOCAL, UNICAST, BROADCAST and MULTICAST can be decided without the routing table');
      const test = (ip: IpAddress, t: { negated: boolean; types: string[] }, iface: string | null, limit: boolean): MatchOutcome => {
        let type: string | null;
        if (limit) {
          if (iface === null) return unknownIface;
          const onIface = book.isLocalOn(ip, iface);
          type = onIface === null ? null : onIface ? 'LOCAL' : book.isBroadcast(ip) ? 'BROADCAST' : isMulticast(ip) ? 'MULTICAST' : 'UNICAST';
        } else type = book.addressType(ip);
        if (type === null) return unknownLocal;
        if (t.types.includes(type)) return !t.negated;
        if (type === 'UNICAST' && t.types.some((x) => !['LOCAL', 'UNICAST', 'BROADCAST', 'MULTICAST'].includes(x))) return unknownType;
        return t.negated;
      };
      return (p) => {
        let result: MatchOutcome = true;
        if (m.src) {
          const r = test(p.src, m.src, p.inInterface, m.limitIfaceIn);
          if (r === false) return false;
          if (r !== true) result = r;
        }
        if (m.dst) {
          const r = test(p.dst, m.dst, m.limitIfaceOut ? p.outInterface : p.inInterface, m.limitIfaceIn || m.limitIfaceOut);
          if (r === false) return false;
          if (r !== true) result = r;
        }
        return result;
      };
    }
    case 'statistic': {
      const chance: Chance = { probability: m.negated ? 1 - m.probability : m.probability };
      return () => (chance.probability >= 1 ? true : chance.probability <= 0 ? false : chance);
    }
    case 'ctstate': {
      const states = m.states;
      return (p) => {
        // The nat table only sees the first packet of a connection: state NEW.
        const hit = states.includes('NEW') || (p.dnatDone && states.includes('DNAT')) || (p.snatDone && states.includes('SNAT'));
        return hit !== m.negated;
      };
    }
    case 'iprange':
      return (p) => ipInRange(m.which === 'src' ? p.src : p.dst, m.from, m.to) !== m.negated;
    case 'pkttype': {
      const book = ctx.addresses;
      return (p) => {
        const t = isMulticast(p.dst) ? 'multicast' : book.isBroadcast(p.dst) ? 'broadcast' : 'unicast';
        return negate(t === m.type, m.negated);
      };
    }
    case 'unknown': {
      const reason = unknown(m.reason);
      return () => reason;
    }
  }
}
