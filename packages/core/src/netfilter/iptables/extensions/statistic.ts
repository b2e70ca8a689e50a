/** `-m statistic --mode random --probability P` and `--mode nth --every N`: the trace forks. */

import type { Chance } from '../../ruleset/match';
import { type MatchExtension, refuse } from './types';

export type StatisticMatch = { kind: 'statistic'; negated: boolean; probability: number; mode: 'random' | 'nth'; text: string };

export const statisticExtension: MatchExtension<StatisticMatch> = {
  modules: ['statistic'],
  kinds: ['statistic'],
  options: { mode: 1, probability: 1, every: 1, packet: 1 },
  parse(_module, options, text) {
    const mode = options.find((o) => o.name === 'mode')?.values[0];
    if (mode === 'random') {
      const p = options.find((o) => o.name === 'probability');
      const prob = p ? Number(p.values[0]) : NaN;
      if (!p || !(prob >= 0 && prob <= 1) || options.length !== 2) return refuse('cannot read --mode random --probability');
      return [{ kind: 'statistic', negated: p.negated, probability: prob, mode: 'random', text }];
    }
    if (mode === 'nth') {
      // Every Nth packet: over many connections, the same share as a random 1/N draw.
      const every = Number(options.find((o) => o.name === 'every')?.values[0]);
      if (!(every >= 1)) return refuse('cannot read --mode nth --every');
      const neg = options.some((o) => o.negated);
      return [{ kind: 'statistic', negated: neg, probability: 1 / every, mode: 'nth', text }];
    }
    return refuse(`statistic mode "${mode ?? ''}" is not evaluated by loopscope`);
  },
  compile(m) {
    const chance: Chance = { probability: m.negated ? 1 - m.probability : m.probability };
    return () => (chance.probability >= 1 ? true : chance.probability <= 0 ? false : chance);
  },
};
