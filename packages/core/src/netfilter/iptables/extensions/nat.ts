/** `-j DNAT|SNAT --to-…`, `-j MASQUERADE`, `-j REDIRECT`: the NAT targets. */

import { parseNatRange } from '../../ruleset/natRange';
import { parsePortRange } from '../../ruleset/ports';
import type { NatRange, PortRange } from '../../ruleset/ruleset';
import { type ExtensionOption, type TargetExtension, refuse } from './types';

export type NatTarget =
  | { kind: 'masquerade'; toPorts: PortRange | null; randomFully: boolean; text: string }
  | { kind: 'snat'; to: NatRange; text: string }
  | { kind: 'dnat'; to: NatRange; text: string }
  | { kind: 'redirect'; toPorts: PortRange | null; text: string };

function unexpected(options: ExtensionOption[], allowed: string[]): string | null {
  for (const o of options) if (!allowed.includes(o.name)) return o.name;
  return null;
}

export const natTargets: TargetExtension<NatTarget> = {
  names: ['DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT'],
  kinds: ['masquerade', 'snat', 'dnat', 'redirect'],
  options: { 'to-destination': 1, 'to-source': 1, 'to-ports': 1, random: 0, 'random-fully': 0, persistent: 0 },
  parse(name, options, text) {
    const opt = (n: string) => options.find((o) => o.name === n);
    const toPorts = (): PortRange | null | 'bad' => {
      const tp = opt('to-ports')?.values[0];
      if (tp === undefined) return null;
      return parsePortRange(tp, '-') ?? 'bad';
    };
    if (name === 'MASQUERADE' || name === 'REDIRECT') {
      const extra = name === 'MASQUERADE' ? unexpected(options, ['to-ports', 'random', 'random-fully']) : null;
      if (extra) return refuse(`unknown ${name} option --${extra}`);
      const ports = toPorts();
      if (ports === 'bad') return refuse(`cannot read --to-ports ${opt('to-ports')?.values[0] ?? ''}`);
      if (name === 'REDIRECT') return { kind: 'redirect', toPorts: ports, text };
      return { kind: 'masquerade', toPorts: ports, randomFully: !!opt('random-fully'), text };
    }
    const key = name === 'SNAT' ? 'to-source' : 'to-destination';
    const extra = unexpected(options, [key, 'random', 'random-fully', 'persistent']);
    if (extra) return refuse(`unknown ${name} option --${extra}`);
    const raw = opt(key)?.values[0];
    if (raw === undefined) return refuse(`${name} without --${key}`);
    const to = parseNatRange(raw);
    if (!to) return refuse(`cannot read --${key} ${raw}`);
    return name === 'SNAT' ? { kind: 'snat', to, text } : { kind: 'dnat', to, text };
  },
  actions(t) {
    switch (t.kind) {
      case 'dnat':
        return [{ kind: 'dnat', to: t.to }];
      case 'snat':
        return [{ kind: 'snat', to: t.to }];
      case 'redirect':
        return [{ kind: 'redirect', toPorts: t.toPorts }];
      case 'masquerade':
        return [{ kind: 'masquerade', randomFully: t.randomFully }];
    }
  },
};
