/** `-j ACCEPT|DROP|RETURN|REJECT`, and `-j CHAIN` / `-g CHAIN` to a user chain. */

import type { Action, Chain } from '../../ruleset/ruleset';
import { type TargetExtension, refuse } from './types';

export type VerdictTarget =
  { kind: 'accept' | 'drop' | 'return'; text: string } | { kind: 'reject'; rejectWith: string | null; text: string };

export type ChainTarget = { kind: 'chain'; chain: string; goto: boolean; text: string };

export const verdictTargets: TargetExtension<VerdictTarget> = {
  names: ['ACCEPT', 'DROP', 'RETURN', 'REJECT'],
  kinds: ['accept', 'drop', 'return', 'reject'],
  options: { 'reject-with': 1 },
  parse(name, options, text) {
    if (name === 'REJECT') {
      const extra = options.find((o) => o.name !== 'reject-with');
      if (extra) return refuse(`unknown REJECT option --${extra.name}`);
      return { kind: 'reject', rejectWith: options[0]?.values[0] ?? null, text };
    }
    const extra = options[0];
    if (extra) return refuse(`unexpected option --${extra.name}`);
    return { kind: name.toLowerCase() as 'accept' | 'drop' | 'return', text };
  },
  actions(t): Action[] {
    if (t.kind === 'reject') return [{ kind: 'reject', rejectWith: t.rejectWith }];
    return [{ kind: t.kind }];
  },
};

/** A jump's action; the chain is null when the table does not define it (the trace says so). */
export function chainAction(t: ChainTarget, chains: ReadonlyMap<string, Chain>): Action[] {
  return [{ kind: t.goto ? 'goto' : 'jump', chainName: t.chain, chain: chains.get(t.chain) ?? null }];
}
