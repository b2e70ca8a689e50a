/** `-m pkttype --pkt-type unicast|broadcast|multicast`. */

import { isMulticast } from '../../ruleset/cidr';
import { type MatchExtension, refuse } from './types';

export type PktTypeMatch = { kind: 'pkttype'; negated: boolean; type: string; text: string };

export const pkttypeExtension: MatchExtension<PktTypeMatch> = {
  modules: ['pkttype'],
  kinds: ['pkttype'],
  options: { 'pkt-type': 1 },
  parse(_module, options, text) {
    const o = options[0];
    if (options.length !== 1 || !o || o.name !== 'pkt-type' || o.values.length !== 1) return refuse('cannot read -m pkttype');
    return [{ kind: 'pkttype', negated: o.negated, type: (o.values[0] as string).toLowerCase(), text }];
  },
  compile(m, ctx) {
    const book = ctx.addresses;
    return (p) => {
      const t = isMulticast(p.dst) ? 'multicast' : book.isBroadcast(p.dst) ? 'broadcast' : 'unicast';
      return (t === m.type) !== m.negated;
    };
  },
};
