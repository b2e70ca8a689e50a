/** `-m conntrack --ctstate …` and `-m state --state …`: the first packet of a connection is NEW. */

import { optionsText } from './options';
import { type MatchExtension, refuse, single } from './types';

export type CtStateMatch = { kind: 'ctstate'; negated: boolean; states: string[]; text: string };

export const conntrackExtension: MatchExtension<CtStateMatch> = {
  modules: ['conntrack', 'state'],
  kinds: ['ctstate'],
  options: {
    ctstate: 1,
    state: 1,
    ctproto: 1,
    ctorigsrc: 1,
    ctorigdst: 1,
    ctreplsrc: 1,
    ctrepldst: 1,
    ctorigsrcport: 1,
    ctorigdstport: 1,
    ctstatus: 1,
    ctexpire: 1,
    ctdir: 1,
  },
  parse(module, options) {
    const out: CtStateMatch[] = [];
    for (const o of options) {
      const v = single(o);
      if ((o.name === 'ctstate' || o.name === 'state') && v !== null) {
        out.push({ kind: 'ctstate', negated: o.negated, states: v.toUpperCase().split(','), text: optionsText(`-m ${module}`, [o]) });
      } else {
        return refuse(`option --${o.name} of -m ${module} is not evaluated by loopscope`);
      }
    }
    return out;
  },
  compile(m) {
    const states = m.states;
    return (p) => {
      // The nat table only sees the first packet of a connection: state NEW.
      const hit = states.includes('NEW') || (p.dnatDone && states.includes('DNAT')) || (p.snatDone && states.includes('SNAT'));
      return hit !== m.negated;
    };
  },
};
