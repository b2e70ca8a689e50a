/** `-m iprange --src-range|--dst-range A-B`. */

import { type IpAddress, parseIp } from '../../ruleset/cidr';
import { optionsText } from './options';
import { type MatchExtension, refuse } from './types';

export type IpRangeMatch = { kind: 'iprange'; which: 'src' | 'dst'; negated: boolean; from: IpAddress; to: IpAddress; text: string };

export const iprangeExtension: MatchExtension<IpRangeMatch> = {
  modules: ['iprange'],
  kinds: ['iprange'],
  options: { 'src-range': 1, 'dst-range': 1 },
  parse(module, options) {
    const out: IpRangeMatch[] = [];
    for (const o of options) {
      const v = o.values.length === 1 ? (o.values[0] as string) : '';
      const [a = '', b = ''] = v.split('-');
      const from = parseIp(a);
      const to = parseIp(b);
      const which = o.name === 'src-range' ? 'src' : o.name === 'dst-range' ? 'dst' : null;
      if (!which || !from || !to || from.family !== to.family) return refuse(`cannot read -m iprange --${o.name} ${v}`);
      out.push({ kind: 'iprange', which, negated: o.negated, from, to, text: optionsText(`-m ${module}`, [o]) });
    }
    return out;
  },
  compile(m) {
    return (p) => {
      const ip = m.which === 'src' ? p.src : p.dst;
      return (ip.family === m.from.family && ip.value >= m.from.value && ip.value <= m.to.value) !== m.negated;
    };
  },
};
