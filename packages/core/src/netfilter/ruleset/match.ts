/**
 * What a compiled match is: a small function of the packet state, compiled
 * once per rule. It answers true/false, "unknown" (with the reason, when the
 * dump or the packet does not say), or a probability (`-m statistic`), which
 * the trace turns into two branches. The iptables extensions
 * (`iptables/extensions/`) and the nftables expressions compile to this.
 */

import type { AddressBook } from './addr';
import type { IpFamily } from './cidr';
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

/** What matches may consult besides the packet: the node's addresses and ipsets. */
export interface MatchContext {
  addresses: AddressBook;
  /** null when no ipset dump was given at all. */
  sets: ReadonlyMap<string, IpSet> | null;
  setsFile: string | null;
}

/** Protocols with ports (tcp, udp, dccp, sctp, udplite). */
export const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 33, 132, 136]);

/** `!` flips a decided answer; an unknown stays unknown. */
export function negate(outcome: MatchOutcome, negated: boolean): MatchOutcome {
  if (!negated) return outcome;
  if (typeof outcome === 'boolean') return !outcome;
  return outcome;
}

/** An unknown answer naming the rule fragment: `-m set --match-set X dst: set X is not in ipset.txt`. */
export function unknownOf(text: string, reason: string): Unknown {
  return { unknown: `${text}: ${reason}` };
}
