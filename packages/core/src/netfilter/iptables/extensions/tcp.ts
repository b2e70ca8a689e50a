/** `-m tcp|udp|sctp|udplite|dccp` (and the implicit module of `-p tcp --dport 80`): ports, TCP flags. */

import { type MatchContext, type Matcher, PORT_PROTOCOLS, unknownOf } from '../../ruleset/match';
import { inPortRanges, parsePortRange } from '../../ruleset/ports';
import type { PortRange } from '../../ruleset/ruleset';
import { optionsText } from './options';
import { type MatchExtension, refuse, single } from './types';

export type PortMatch = { kind: 'port'; which: 'sport' | 'dport' | 'either'; negated: boolean; ranges: PortRange[]; text: string };
export type TcpFlagsMatch = { kind: 'tcpFlags'; negated: boolean; mask: string[]; set: string[]; text: string };

const ALL_FLAGS = ['SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH'];

function flagList(text: string): string[] {
  const upper = text.toUpperCase();
  if (upper === 'ALL') return ALL_FLAGS;
  if (upper === 'NONE') return [];
  return upper.split(',');
}

/** A port match of any protocol: the packet must have ports; the source port may be unknown. */
export function compilePort(m: PortMatch): Matcher {
  const sportReason = unknownOf(m.text, 'the packet has no source port (give sport)');
  return (p) => {
    if (!PORT_PROTOCOLS.has(p.protocol)) return false;
    if (m.which === 'dport') return inPortRanges(m.ranges, p.dport) !== m.negated;
    if (m.which === 'either' && inPortRanges(m.ranges, p.dport)) return !m.negated;
    if (p.sport === null) return sportReason;
    return inPortRanges(m.ranges, p.sport) !== m.negated;
  };
}

export const tcpExtension: MatchExtension<PortMatch | TcpFlagsMatch> = {
  modules: ['tcp', 'udp', 'sctp', 'udplite', 'dccp'],
  kinds: ['port', 'tcpFlags'],
  options: { sport: 1, 'source-port': 1, dport: 1, 'destination-port': 1, 'tcp-flags': 2, syn: 0 },
  parse(module, options) {
    const out: Array<PortMatch | TcpFlagsMatch> = [];
    for (const o of options) {
      const text = optionsText(`-m ${module}`, [o]);
      if (o.name === 'sport' || o.name === 'source-port' || o.name === 'dport' || o.name === 'destination-port') {
        const v = single(o);
        const r = v === null ? null : parsePortRange(v);
        if (!r) return refuse(`cannot read port "${o.values.join(' ')}"`);
        const which = o.name === 'sport' || o.name === 'source-port' ? 'sport' : 'dport';
        out.push({ kind: 'port', which, negated: o.negated, ranges: [r], text });
      } else if (module === 'tcp' && o.name === 'tcp-flags' && o.values.length === 2) {
        const [mask = '', set = ''] = o.values;
        out.push({ kind: 'tcpFlags', negated: o.negated, mask: flagList(mask), set: flagList(set), text });
      } else if (module === 'tcp' && o.name === 'syn' && o.values.length === 0) {
        out.push({ kind: 'tcpFlags', negated: o.negated, mask: ['SYN', 'RST', 'ACK', 'FIN'], set: ['SYN'], text });
      } else {
        return refuse(`option --${o.name} of -m ${module} is not evaluated by loopscope`);
      }
    }
    return out;
  },
  compile(m, _ctx: MatchContext) {
    if (m.kind === 'port') return compilePort(m);
    // The trace follows the first packet of a connection: a SYN.
    const r = m.mask.every((f) => (f === 'SYN') === m.set.includes(f));
    return (p) => p.protocol === 6 && r !== m.negated;
  },
};
