/**
 * The matches iptables itself reads, before any `-m` module: `-s`, `-d`,
 * `-p`, `-i`, `-o`, `-f`; and `unknown`, what every unreadable part becomes.
 */

import { type Cidr, cidrContains } from '../../ruleset/cidr';
import { unknownOf } from '../../ruleset/match';
import type { MatchExtension } from './types';

export type AddressMatch = { kind: 'source' | 'destination'; negated: boolean; cidrs: Cidr[]; text: string };
export type ProtocolMatch = { kind: 'protocol'; negated: boolean; protocol: number | 'all'; text: string };
export type InterfaceMatch = { kind: 'inInterface' | 'outInterface'; negated: boolean; name: string; text: string };
export type FragmentMatch = { kind: 'fragment'; negated: boolean; text: string };
/** A condition loopscope does not evaluate, kept with its text; a trace crossing it is uncertain. */
export type UnknownMatch = { kind: 'unknown'; module: string; reason: string; text: string };

export type GenericMatch = AddressMatch | ProtocolMatch | InterfaceMatch | FragmentMatch | UnknownMatch;

function interfaceMatches(pattern: string, name: string): boolean {
  // iptables: a trailing `+` matches any interface with that prefix.
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

/** Compiles the generic matches; parsing them is the rule parser's job (`ruleOptions.ts`). */
export const genericMatches: MatchExtension<GenericMatch> = {
  modules: [],
  kinds: ['source', 'destination', 'protocol', 'inInterface', 'outInterface', 'fragment', 'unknown'],
  options: {},
  parse: () => [],
  compile(m) {
    switch (m.kind) {
      case 'source':
      case 'destination': {
        const { cidrs, negated } = m;
        const src = m.kind === 'source';
        if (cidrs.length === 1) {
          const c = cidrs[0] as Cidr;
          return (p) => cidrContains(c, src ? p.src : p.dst) !== negated;
        }
        return (p) => cidrs.some((c) => cidrContains(c, src ? p.src : p.dst)) !== negated;
      }
      case 'protocol': {
        const { protocol, negated } = m;
        return (p) => (protocol === 'all' ? true : p.protocol === protocol) !== negated;
      }
      case 'inInterface':
      case 'outInterface': {
        const isIn = m.kind === 'inInterface';
        const reason = unknownOf(
          m.text,
          `the packet's ${isIn ? 'input' : 'output'} interface is not known (give it with inInterface/outInterface)`,
        );
        return (p) => {
          const name = isIn ? p.inInterface : p.outInterface;
          if (name === null) return reason;
          return interfaceMatches(m.name, name) !== m.negated;
        };
      }
      case 'fragment':
        // The first packet of a connection is not a non-first fragment.
        return () => m.negated;
      case 'unknown': {
        const reason = unknownOf(m.text, m.reason);
        return () => reason;
      }
    }
  },
};
