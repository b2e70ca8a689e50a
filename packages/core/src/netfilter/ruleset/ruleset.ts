/**
 * The seam between parsers and the trace: what the kernel would run for a
 * packet, as the trace walks it. A `Ruleset` yields, per netfilter hook, the
 * base chains attached to it in priority order — iptables' built-in chains of
 * each table (nat PREROUTING at -100, filter INPUT at 0, nat INPUT at 100…)
 * or nftables base chains of every table and family. Each implementation
 * compiles its own rule syntax into matchers and actions once; the trace
 * knows neither syntax.
 */

import type { IpAddress, IpFamily } from './cidr';
import type { Matcher, PacketState } from './match';

/** Netfilter hooks, named as nftables names them. */
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** A rule that matched during the trace, as an SRE would look it up. */
export interface MatchedRule {
  table: string;
  chain: string;
  /** 1-based within its chain (`iptables -t nat -L CHAIN --line-numbers`); 0 for a chain policy. */
  ruleNumber: number;
  text: string;
  file: string;
  line: number;
  /** nftables: the table's family (`ip`, `ip6`, `inet`) and the rule's handle, when the dump shows it. */
  family?: string;
  handle?: number;
}

export interface PortRange {
  from: number;
  to: number;
}

/** A NAT destination: `10.1.2.3-10.1.2.4:8080-8081`. Missing parts are null. */
export interface NatRange {
  from: IpAddress | null;
  to: IpAddress | null;
  ports: PortRange | null;
}

/**
 * What a matched rule does, in the order its statements run. A rule with no
 * action (or only passive ones: counter, log) lets the packet go on.
 */
export type Action =
  | { kind: 'jump' | 'goto'; chainName: string; chain: Chain | null }
  | { kind: 'return' | 'accept' | 'drop' }
  | { kind: 'reject'; rejectWith: string | null }
  /** mark = (mark & ~mask) ^ value (iptables' xmark form; nftables `mark set mark or|and|xor` too). */
  | { kind: 'mark'; value: number; mask: number }
  | { kind: 'dnat'; to: NatRange }
  | { kind: 'redirect'; toPorts: PortRange | null }
  | { kind: 'masquerade'; randomFully: boolean }
  | { kind: 'snat'; to: NatRange }
  /** Not evaluated: the trace assumes it neither changes nor stops the packet, and says so. */
  | { kind: 'unknown'; reason: string; text: string }
  /** A verdict map: the packet picks its actions (none when no element matches). */
  | { kind: 'dispatch'; pick: (p: PacketState) => DispatchResult }
  /** `numgen random mod N vmap {…}`: N ways, each with its probability. */
  | { kind: 'fork'; ways: ForkWay[] };

export type DispatchResult = { actions: Action[]; label: string } | null | { unknown: string };

export interface ForkWay {
  probability: number;
  label: string;
  actions: Action[];
}

export interface Rule {
  ref: MatchedRule;
  /** All must hold (a comment compiles to nothing). */
  matchers: Matcher[];
  actions: Action[];
  /** The rule changes nothing the trace follows, so matches it cannot evaluate do not matter. */
  passive: boolean;
  /** `nat KUBE-SERVICES rule 2 (iptables-save.txt:78)`: where a reason points. */
  where: string;
  /** ipKey of the one destination host the rule requires (`-d X/32`), for the chain index; else null. */
  dstKey: string | null;
}

export interface Chain {
  name: string;
  table: string;
  rules: Rule[];
  /**
   * For long chains (KUBE-SERVICES has two rules per Service port): the rule
   * positions by exact destination, and those that test no exact
   * destination. A packet only needs its own destination's rules plus those.
   */
  index: { wild: number[]; byDst: Map<string, number[]> } | null;
}

/** How a base chain's table type limits what it may do (DNAT only in nat chains…). */
export type ChainType = 'nat' | 'filter' | 'route';

export interface BaseChain extends Chain {
  hook: Hook;
  type: ChainType;
  priority: number;
  /** What happens to a packet that falls off the end. */
  policy: 'accept' | 'drop';
  /** nftables family of its table, or `ip`/`ip6` for iptables. */
  family: string;
  /** What a trace cites when the policy drops the packet (`:FORWARD DROP (chain policy)`). */
  policyRef: MatchedRule;
}

export interface Ruleset {
  readonly file: string;
  readonly family: IpFamily;
  /** Base chains attached to a hook, lowest priority first (the kernel's order). */
  baseChains(hook: Hook): readonly BaseChain[];
  /** Facts worth telling with every trace (e.g. mangle rules that set marks). */
  readonly notes: readonly string[];
  /** Whether the ruleset has any base chain of this type (no nat at all makes a trace uncertain). */
  hasType(type: ChainType): boolean;
}

/** Chains shorter than this are scanned rule by rule. */
const INDEX_MIN_RULES = 16;

/** Builds a long chain's destination index (see `Chain.index`). */
export function indexChain(chain: Chain): void {
  if (chain.rules.length < INDEX_MIN_RULES) return;
  const wild: number[] = [];
  const byDst = new Map<string, number[]>();
  chain.rules.forEach((r, i) => {
    if (r.dstKey === null) wild.push(i);
    else {
      const list = byDst.get(r.dstKey);
      if (list) list.push(i);
      else byDst.set(r.dstKey, [i]);
    }
  });
  chain.index = { wild, byDst };
}

/** Several rulesets of one node and family (iptables-save and nft), walked as one, as the kernel does. */
export function combineRulesets(parts: Ruleset[]): Ruleset | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0] as Ruleset;
  const first = parts[0] as Ruleset;
  const byHook = new Map<Hook, BaseChain[]>();
  const hooks: Hook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];
  for (const h of hooks) byHook.set(h, sortByPriority(parts.flatMap((p) => [...p.baseChains(h)])));
  return {
    file: parts.map((p) => p.file).join(' + '),
    family: first.family,
    baseChains: (h) => byHook.get(h) ?? [],
    notes: parts.flatMap((p) => [...p.notes]),
    hasType: (t) => parts.some((p) => p.hasType(t)),
  };
}

/** Stable sort by priority: chains of equal priority keep their registration order. */
export function sortByPriority(chains: BaseChain[]): BaseChain[] {
  return chains
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.priority - b.c.priority || a.i - b.i)
    .map((x) => x.c);
}
