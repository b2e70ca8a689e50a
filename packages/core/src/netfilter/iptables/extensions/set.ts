/** `-m set [!] --match-set NAME dst,dst [--return-nomatch]`: membership in the node's ipsets. */

import type { SetFlag } from '../../ruleset/ipset';
import { unknownOf } from '../../ruleset/match';
import { optionsText } from './options';
import { type MatchExtension, refuse } from './types';

export type { SetFlag };
export type SetMatch = { kind: 'set'; negated: boolean; setName: string; flags: SetFlag[]; returnNomatch: boolean; text: string };

export const setExtension: MatchExtension<SetMatch> = {
  modules: ['set'],
  kinds: ['set'],
  options: {
    'match-set': 2,
    set: 2,
    'return-nomatch': 0,
    'update-counters': 0,
    'update-subcounters': 0,
    'packets-eq': 1,
    'packets-lt': 1,
    'packets-gt': 1,
    'bytes-eq': 1,
    'bytes-lt': 1,
    'bytes-gt': 1,
  },
  parse(module, options) {
    const out: SetMatch[] = [];
    let current: SetMatch | null = null;
    for (const o of options) {
      if (o.name === 'match-set' || o.name === 'set') {
        const [setName, flagText] = o.values;
        if (!setName || !flagText || o.values.length !== 2) return refuse('--match-set needs a set name and flags');
        const flags = flagText.split(',');
        if (flags.some((f) => f !== 'src' && f !== 'dst') || flags.length > 6) return refuse(`cannot read set flags "${flagText}"`);
        current = {
          kind: 'set',
          negated: o.negated,
          setName,
          flags: flags as SetFlag[],
          returnNomatch: false,
          text: optionsText(`-m ${module}`, [o]),
        };
        out.push(current);
      } else if (o.name === 'return-nomatch' && current) {
        current.returnNomatch = true;
        current.text += ' --return-nomatch';
      } else if ((o.name === 'update-counters' || o.name === 'update-subcounters') && o.negated) {
        // `! --update-counters` only changes the set's counters.
      } else {
        return refuse(`option --${o.name} of -m set is not evaluated by loopscope`);
      }
    }
    return out.length > 0 ? out : refuse('-m set without --match-set');
  },
  compile(m, ctx) {
    if (!ctx.sets) {
      const reason = unknownOf(m.text, 'no ipset dump was given, so set membership is unknown');
      return () => reason;
    }
    const set = ctx.sets.get(m.setName);
    if (!set) {
      const reason = unknownOf(m.text, `set ${m.setName} is not in ${ctx.setsFile ?? 'the ipset dump'}`);
      return () => reason;
    }
    const sets = ctx.sets;
    return (p) => {
      const r = set.test(m.flags, p, sets);
      if (r === 'match') return !m.negated;
      if (r === 'absent') return m.negated;
      if (r === 'nomatch') return m.returnNomatch !== m.negated;
      return unknownOf(m.text, r.unknown);
    };
  },
};
