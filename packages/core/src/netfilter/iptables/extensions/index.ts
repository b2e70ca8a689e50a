/**
 * The registry of iptables extensions loopscope reads: one file per module
 * (its option table, parser and matcher), listed here once. A module or
 * target not listed is kept as `unknown` with its text, and a trace that
 * crosses it is uncertain and says why.
 */

import type { MatchContext, Matcher } from '../../ruleset/match';
import type { Action, Chain } from '../../ruleset/ruleset';
import { type GenericMatch, genericMatches } from './generic';
import { optionsText } from './options';
import { type AddrTypeMatch, addrtypeExtension } from './addrtype';
import { type CommentMatch, commentExtension } from './comment';
import { conntrackExtension, type CtStateMatch } from './conntrack';
import { type IpRangeMatch, iprangeExtension } from './iprange';
import { type MarkMatch, markExtension } from './mark';
import { type ConnmarkTarget, connmarkTarget, type MarkTarget, markTarget } from './markTarget';
import { multiportExtension } from './multiport';
import { type NatTarget, natTargets } from './nat';
import { type PassiveTarget, passiveTargets } from './passive';
import { type PktTypeMatch, pkttypeExtension } from './pkttype';
import { type SetMatch, setExtension } from './set';
import { type StatisticMatch, statisticExtension } from './statistic';
import { type PortMatch, type TcpFlagsMatch, tcpExtension } from './tcp';
import { type Arity, type ExtensionOption, isRefusal, type MatchExtension, type ParsedMatch, type TargetExtension } from './types';
import { type ChainTarget, chainAction, type VerdictTarget, verdictTargets } from './verdicts';

/** One condition of a rule. `text` is the fragment of the rule it came from, for explanations. */
export type RuleMatch =
  | GenericMatch
  | PortMatch
  | TcpFlagsMatch
  | SetMatch
  | MarkMatch
  | AddrTypeMatch
  | CommentMatch
  | StatisticMatch
  | CtStateMatch
  | IpRangeMatch
  | PktTypeMatch;

/** What a rule does when it matches. */
export type RuleTarget =
  | { kind: 'none'; text: string }
  | ChainTarget
  | VerdictTarget
  | MarkTarget
  | NatTarget
  | PassiveTarget
  | ConnmarkTarget
  | { kind: 'unknown'; name: string; reason: string; text: string };

type AnyMatchExtension = MatchExtension<ParsedMatch>;
type AnyTargetExtension = TargetExtension<ParsedMatch>;

const MATCH_EXTENSIONS = [
  tcpExtension,
  multiportExtension,
  setExtension,
  markExtension,
  addrtypeExtension,
  commentExtension,
  statisticExtension,
  conntrackExtension,
  iprangeExtension,
  pkttypeExtension,
] as unknown as AnyMatchExtension[];

const TARGET_EXTENSIONS = [verdictTargets, markTarget, connmarkTarget, natTargets, passiveTargets] as unknown as AnyTargetExtension[];

const BY_MODULE = new Map<string, AnyMatchExtension>();
const BY_KIND = new Map<string, AnyMatchExtension>();
for (const ext of [genericMatches as unknown as AnyMatchExtension, ...MATCH_EXTENSIONS]) {
  for (const m of ext.modules) BY_MODULE.set(m, ext);
  for (const k of ext.kinds) BY_KIND.set(k, ext);
}
const BY_TARGET = new Map<string, AnyTargetExtension>();
const BY_TARGET_KIND = new Map<string, AnyTargetExtension>();
for (const ext of TARGET_EXTENSIONS) {
  for (const n of ext.names) BY_TARGET.set(n, ext);
  for (const k of ext.kinds) BY_TARGET_KIND.set(k, ext);
}

/** Targets loopscope does not evaluate but knows are not user chains (`-j TPROXY` is no jump). */
const OTHER_TARGETS = ['CT', 'NOTRACK', 'NFQUEUE', 'QUEUE', 'NETMAP', 'TPROXY', 'SNPT', 'DNPT', 'TEE', 'CLUSTERIP', 'HMARK', 'SYNPROXY'];

/** Targets whose name is never a user chain (used to tell `-j NAME` apart). */
export const BUILTIN_TARGETS: ReadonlySet<string> = new Set([...BY_TARGET.keys(), ...OTHER_TARGETS]);

const NO_OPTIONS: Readonly<Record<string, Arity>> = {};

/** The option table of `-m MODULE` (empty for a module loopscope does not know). */
export function matchOptionTable(module: string): Readonly<Record<string, Arity>> {
  return BY_MODULE.get(module)?.options ?? NO_OPTIONS;
}

/** The option table of `-j NAME`. */
export function targetOptionTable(name: string): Readonly<Record<string, Arity>> {
  return BY_TARGET.get(name)?.options ?? NO_OPTIONS;
}

/**
 * Interprets one `-m MODULE options…` group (or the implicit protocol module of
 * `-p tcp --dport 80`). A module or option it does not know becomes a single
 * `unknown` match holding the whole group.
 */
export function interpretMatch(module: string, options: ExtensionOption[]): RuleMatch[] {
  const text = optionsText(`-m ${module}`, options);
  const ext = BY_MODULE.get(module);
  if (!ext) return [{ kind: 'unknown', module, reason: `match extension -m ${module} is not evaluated by loopscope`, text }];
  const parsed = ext.parse(module, options, text);
  if (isRefusal(parsed)) return [{ kind: 'unknown', module, reason: parsed.refused, text }];
  return parsed as RuleMatch[];
}

/**
 * Interprets `-j NAME options…` / `-g NAME`. A name that is not a built-in
 * target is a jump to a chain (a missing chain is reported by the parser and
 * the trace).
 */
export function interpretTarget(name: string, goto: boolean, options: ExtensionOption[]): RuleTarget {
  const text = optionsText(goto ? `-g ${name}` : `-j ${name}`, options);
  if (goto || !BUILTIN_TARGETS.has(name)) {
    if (options.length > 0) return { kind: 'unknown', name, reason: `target ${name} with options is not a chain`, text };
    return { kind: 'chain', chain: name, goto, text };
  }
  const ext = BY_TARGET.get(name);
  if (!ext) return { kind: 'unknown', name, reason: `target ${name} is not evaluated by loopscope`, text };
  const parsed = ext.parse(name, options, text);
  if (isRefusal(parsed)) return { kind: 'unknown', name, reason: parsed.refused, text };
  return parsed as RuleTarget;
}

/** Compiles a match; null for matches that are always true (comments). */
export function compileMatch(m: RuleMatch, ctx: MatchContext): Matcher | null {
  const ext = BY_KIND.get(m.kind) as AnyMatchExtension;
  return ext.compile(m, ctx);
}

/** What the trace does for a target. */
export function targetActions(t: RuleTarget, chains: ReadonlyMap<string, Chain>): Action[] {
  if (t.kind === 'none') return [];
  if (t.kind === 'chain') return chainAction(t, chains);
  if (t.kind === 'unknown') return [{ kind: 'unknown', reason: t.reason, text: t.text }];
  const ext = BY_TARGET_KIND.get(t.kind) ?? (t.kind === 'passive' ? passiveTargets : undefined);
  return ext ? (ext as unknown as AnyTargetExtension).actions(t, chains) : [];
}

export type { ExtensionOption } from './types';
export type { SetFlag } from './set';
export type { AddrTypeTest } from './addrtype';
