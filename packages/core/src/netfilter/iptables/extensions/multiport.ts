/** `-m multiport --dports|--sports|--ports 80,443,8000:8080`. */

import { parsePortList } from '../../ruleset/ports';
import { optionsText } from './options';
import { compilePort, type PortMatch } from './tcp';
import { type MatchExtension, refuse, single } from './types';

const WHICH: Record<string, PortMatch['which']> = {
  sports: 'sport',
  'source-ports': 'sport',
  dports: 'dport',
  'destination-ports': 'dport',
  ports: 'either',
};

export const multiportExtension: MatchExtension<PortMatch> = {
  modules: ['multiport'],
  // Its matches are port matches, compiled by the tcp extension's compiler.
  kinds: [],
  options: { sports: 1, 'source-ports': 1, dports: 1, 'destination-ports': 1, ports: 1 },
  parse(module, options) {
    const out: PortMatch[] = [];
    for (const o of options) {
      const which = WHICH[o.name];
      if (!which) return refuse(`option --${o.name} of -m multiport is not evaluated by loopscope`);
      const v = single(o);
      const ranges = v === null ? null : parsePortList(v);
      if (!ranges) return refuse(`cannot read port list "${o.values.join(' ')}"`);
      out.push({ kind: 'port', which, negated: o.negated, ranges, text: optionsText(`-m ${module}`, [o]) });
    }
    return out;
  },
  compile: compilePort,
};
