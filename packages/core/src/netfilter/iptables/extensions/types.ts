/**
 * What every iptables extension module declares, in the shape of libxtables'
 * `xtables_match`/`xtables_target`: its option table (how many values each
 * option takes), how it parses a group, and, for matches, how it matches.
 * Adding a match is one new file and one line in `index.ts`.
 */

import type { MatchContext, Matcher } from '../../ruleset/match';
import type { Action, Chain } from '../../ruleset/ruleset';

/** One `[!] --option values…` of a module or target. */
export interface ExtensionOption {
  name: string;
  negated: boolean;
  values: string[];
}

/**
 * Values an option takes: a count, or `rest` (every word up to the next
 * option — the free text of `--comment kubernetes service portals`, which
 * kube-proxy's restore input does not always quote).
 */
export type Arity = number | 'rest';

/** A parse that failed: the whole group becomes an `unknown` match or target with this reason. */
export interface Refusal {
  refused: string;
}

export function refuse(reason: string): Refusal {
  return { refused: reason };
}

export function isRefusal(x: unknown): x is Refusal {
  return typeof x === 'object' && x !== null && 'refused' in x;
}

/** Every parsed match has a kind and the fragment of the rule it came from. */
export interface ParsedMatch {
  kind: string;
  text: string;
}

export interface MatchExtension<M extends ParsedMatch> {
  /** `-m` names this extension answers to. */
  readonly modules: readonly string[];
  /** The `kind`s of the matches it produces (how the compiler finds it again). */
  readonly kinds: readonly M['kind'][];
  /** Option name → values; an option not listed is read by the generic guess, then refused. */
  readonly options: Readonly<Record<string, Arity>>;
  parse(module: string, options: ExtensionOption[], text: string): M[] | Refusal;
  /** A function of the packet, or null for a match that is always true (a comment). */
  compile(match: M, ctx: MatchContext): Matcher | null;
}

export interface TargetExtension<T extends ParsedMatch> {
  /** `-j` names this extension answers to. */
  readonly names: readonly string[];
  readonly kinds: readonly T['kind'][];
  readonly options: Readonly<Record<string, Arity>>;
  parse(name: string, options: ExtensionOption[], text: string): T | Refusal;
  /** What the trace does for it; `chains` resolves a jump. An empty list changes nothing. */
  actions(target: T, chains: ReadonlyMap<string, Chain>): Action[];
}

/** The one value of an option that takes one, else null. */
export function single(o: ExtensionOption): string | null {
  return o.values.length === 1 ? (o.values[0] as string) : null;
}

/** A 32-bit number as iptables prints it: `0x4000` or decimal. */
export function parseMarkNumber(text: string): number | null {
  if (/^0x[0-9a-fA-F]{1,8}$/.test(text) || /^\d{1,10}$/.test(text)) {
    const n = Number(text);
    return n <= 0xffffffff ? n >>> 0 : null;
  }
  return null;
}

/** `V` or `V/M`; mask defaults to all ones. */
export function parseMarkMask(text: string): { value: number; mask: number } | null {
  const [v = '', m] = text.split('/');
  const value = parseMarkNumber(v);
  const mask = m === undefined ? 0xffffffff : parseMarkNumber(m);
  return value === null || mask === null ? null : { value, mask };
}
