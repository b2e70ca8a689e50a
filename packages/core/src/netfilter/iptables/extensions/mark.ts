/** `-m mark [!] --mark V[/M]`: the packet mark (kube-proxy's 0x4000 masquerade bit). */

import { optionsText } from './options';
import { type MatchExtension, parseMarkMask, refuse, single } from './types';

export type MarkMatch = { kind: 'mark'; negated: boolean; value: number; mask: number; text: string };

export const markExtension: MatchExtension<MarkMatch> = {
  modules: ['mark'],
  kinds: ['mark'],
  options: { mark: 1 },
  parse(module, options) {
    const out: MarkMatch[] = [];
    for (const o of options) {
      const v = single(o);
      const vm = o.name === 'mark' && v !== null ? parseMarkMask(v) : null;
      if (!vm) return refuse(`cannot read -m mark option --${o.name} ${o.values.join(' ')}`);
      out.push({ kind: 'mark', negated: o.negated, value: vm.value, mask: vm.mask, text: optionsText(`-m ${module}`, [o]) });
    }
    return out;
  },
  compile(m) {
    const { value, mask, negated } = m;
    return (p) => ((p.mark & mask) >>> 0 === value) !== negated;
  },
};
