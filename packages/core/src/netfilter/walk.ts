/**
 * The chain walk: one thread of a packet through one base chain and the
 * chains it jumps to, the way the kernel evaluates them. A probabilistic
 * match (`-m statistic`) or an N-way `numgen` map forks the thread; each
 * thread keeps its probability, the rules it matched and what it could not
 * decide.
 */

import { formatIp, ipKey } from './ruleset/cidr';
import type { Chance, PacketState, Unknown } from './ruleset/match';
import type { Action, BaseChain, Chain, ForkWay, MatchedRule, Rule } from './ruleset/ruleset';

export const MAX_OUTCOMES = 512;
const MAX_STEPS = 200000;
const MAX_DEPTH = 64;
/** Entries into one chain during one base chain's walk; kube-proxy's deepest real paths enter a chain a few times. */
const MAX_ENTRIES = 64;

interface Frame {
  chain: Chain;
  pos: number;
  /** Rule positions to visit (indexed chains), else null: every rule in order. */
  cand: number[] | null;
}

export interface Thread {
  probability: number;
  pkt: PacketState;
  stack: Frame[];
  rules: MatchedRule[];
  branches: string[];
  reasons: string[];
  /** The same reasons as a Set: one `includes` per reason made 100k unknown matches quadratic. */
  reasonSet: Set<string>;
  dnat: boolean;
  redirect: boolean;
  snatRule: MatchedRule | null;
  snatTarget: 'MASQUERADE' | 'SNAT' | null;
  snatTo: string | null;
  droppedBy: MatchedRule | null;
  dropped: boolean;
  steps: number;
  /** How often each chain was entered in the current base chain's walk (loop guard). */
  entries: Map<Chain, number>;
  /** Actions a fork left for this thread to run before its next rule. */
  pending: { rule: Rule; actions: Action[] } | null;
}

export function newThread(pkt: PacketState): Thread {
  return {
    probability: 1,
    pkt,
    stack: [],
    rules: [],
    branches: [],
    reasons: [],
    reasonSet: new Set(),
    dnat: false,
    redirect: false,
    snatRule: null,
    snatTarget: null,
    snatTo: null,
    droppedBy: null,
    dropped: false,
    steps: 0,
    entries: new Map(),
    pending: null,
  };
}

function fork(t: Thread): Thread {
  return {
    ...t,
    pkt: { ...t.pkt },
    stack: t.stack.map((f) => ({ chain: f.chain, pos: f.pos, cand: f.cand })),
    rules: t.rules.slice(),
    branches: t.branches.slice(),
    reasons: t.reasons.slice(),
    reasonSet: new Set(t.reasonSet),
    entries: new Map(t.entries),
  };
}

export function addReason(t: Thread, reason: string): void {
  if (t.reasonSet.has(reason)) return;
  t.reasonSet.add(reason);
  t.reasons.push(reason);
}

function mergeSorted(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && (a[i] as number) < (b[j] as number))) out.push(a[i++] as number);
    else out.push(b[j++] as number);
  }
  return out;
}

/** A frame entering `chain` for this packet (its destination picks the candidate rules). */
function enter(chain: Chain, pkt: PacketState): Frame {
  const idx = chain.index;
  if (!idx) return { chain, pos: 0, cand: null };
  const mine = idx.byDst.get(ipKey(pkt.dst));
  return { chain, pos: 0, cand: mine ? mergeSorted(idx.wild, mine) : idx.wild };
}

export function round(p: number): number {
  return Math.round(p * 1e6) / 1e6;
}

/** The rule's matches for this packet: no, unknown (why), or yes with a probability. */
type Evaluation = { matched: false } | { matched: true; unknown: string | null; probability: number };

function evaluate(rule: Rule, pkt: PacketState): Evaluation {
  let probability = 1;
  let unknown: string | null = null;
  for (const m of rule.matchers) {
    const r = m(pkt);
    if (r === true) continue;
    if (r === false) return { matched: false };
    if ((r as Unknown).unknown !== undefined) unknown ??= (r as Unknown).unknown;
    else probability *= (r as Chance).probability;
  }
  return { matched: true, unknown, probability };
}

/** 'next': go on with the next rule; 'stop': this thread is done with the base chain. */
type Step = 'next' | 'stop';

class BaseChainWalk {
  readonly done: Thread[] = [];
  readonly work: Thread[] = [];

  constructor(
    readonly base: BaseChain,
    readonly budget: { outcomes: number },
  ) {}

  run(start: Thread): Thread[] {
    start.stack = [enter(this.base, start.pkt)];
    start.entries = new Map();
    start.steps = 0;
    this.work.push(start);
    while (this.work.length > 0) this.runThread(this.work.pop() as Thread);
    return this.done;
  }

  private finish(t: Thread): void {
    this.done.push(t);
  }

  private runThread(t: Thread): void {
    for (;;) {
      if (t.pending) {
        const { rule, actions } = t.pending;
        t.pending = null;
        if (this.apply(t, rule, actions) === 'stop') return this.finish(t);
        continue;
      }
      const frame = t.stack[t.stack.length - 1];
      if (!frame) {
        // Fell off (or RETURNed from) the base chain: its policy decides.
        if (this.base.policy === 'drop') {
          t.dropped = true;
          t.droppedBy = this.base.policyRef;
        }
        return this.finish(t);
      }
      if (++t.steps > MAX_STEPS) {
        addReason(
          t,
          `the trace took more than ${MAX_STEPS} steps in ${this.base.table} ${this.base.name} (a loop in the dump?); stopped there and assumed ACCEPT`,
        );
        return this.finish(t);
      }
      const at = frame.cand ? frame.cand[frame.pos] : frame.pos;
      frame.pos++;
      const rule = at === undefined ? undefined : frame.chain.rules[at];
      if (!rule) {
        t.stack.pop();
        continue;
      }
      const ev = evaluate(rule, t.pkt);
      if (!ev.matched) continue;
      if (ev.unknown !== null) {
        if (!rule.passive) addReason(t, `${rule.where}: ${ev.unknown}; assumed the rule does not match`);
        continue;
      }
      if (ev.probability < 1 && !this.branch(t, rule, ev.probability)) continue;
      t.rules.push(rule.ref);
      if (this.apply(t, rule, rule.actions) === 'stop') return this.finish(t);
    }
  }

  /** Splits off the not-taken branch of a probabilistic match; false when this thread does not take the rule. */
  private branch(t: Thread, rule: Rule, probability: number): boolean {
    const label = `${rule.ref.chain} rule ${rule.ref.ruleNumber}`;
    if (this.budget.outcomes < MAX_OUTCOMES) {
      this.budget.outcomes++;
      const other = fork(t);
      other.probability *= 1 - probability;
      other.branches.push(`${label}: not taken (p=${round(1 - probability)})`);
      this.work.push(other);
      t.probability *= probability;
      t.branches.push(`${label}: taken (p=${round(probability)})`);
      return true;
    }
    // Too many branches: follow the likelier one and say so.
    const take = probability >= 0.5;
    addReason(t, `more than ${MAX_OUTCOMES} statistic branches; at ${label} only the ${take ? 'taken' : 'not-taken'} branch was followed`);
    return take;
  }

  private apply(t: Thread, rule: Rule, actions: readonly Action[]): Step {
    for (let k = 0; k < actions.length; k++) {
      const a = actions[k] as Action;
      if (a.kind === 'fork') {
        // The ways run as pending actions, this thread's on its next turn.
        this.forkWays(t, rule, a.ways, actions.slice(k + 1));
        return 'next';
      }
      const step = this.applyOne(t, rule, a);
      if (step === 'stop') return 'stop';
      if (step === 'jumped') return 'next';
    }
    return 'next';
  }

  /** N ways: this thread takes the first, forks take the others; each then runs its way's actions. */
  private forkWays(t: Thread, rule: Rule, ways: readonly ForkWay[], after: Action[]): void {
    const live = ways.filter((w) => w.probability > 0);
    if (live.length === 0) return;
    const label = `${rule.ref.chain} rule ${rule.ref.ruleNumber}`;
    let own = live[0] as (typeof live)[number];
    const others = live.slice(1);
    if (this.budget.outcomes + others.length > MAX_OUTCOMES) {
      own = live.reduce((a, b) => (b.probability > a.probability ? b : a));
      addReason(t, `more than ${MAX_OUTCOMES} branches; at ${label} only the likeliest way (${own.label}) was followed`);
    } else {
      this.budget.outcomes += others.length;
      for (const w of others) {
        const other = fork(t);
        other.probability *= w.probability;
        other.branches.push(`${label}: ${w.label} (p=${round(w.probability)})`);
        other.pending = { rule, actions: [...w.actions, ...after] };
        this.work.push(other);
      }
      t.probability *= own.probability;
      t.branches.push(`${label}: ${own.label} (p=${round(own.probability)})`);
    }
    t.pending = { rule, actions: [...own.actions, ...after] };
  }

  private applyOne(t: Thread, rule: Rule, a: Exclude<Action, { kind: 'fork' }>): Step | 'jumped' {
    const base = this.base;
    switch (a.kind) {
      case 'jump':
      case 'goto':
        return this.jump(t, rule, a) ? 'jumped' : 'next';
      case 'return':
        t.stack.pop();
        return 'jumped';
      case 'accept':
        return 'stop';
      case 'drop':
      case 'reject':
        t.dropped = true;
        t.droppedBy = rule.ref;
        return 'stop';
      case 'mark':
        t.pkt.mark = ((t.pkt.mark & ~a.mask) ^ a.value) >>> 0;
        return 'next';
      case 'dnat':
      case 'redirect':
        if (base.type !== 'nat' || (base.hook !== 'prerouting' && base.hook !== 'output')) {
          addReason(t, `${rule.where}: ${a.kind.toUpperCase()} is not valid in ${base.table} ${base.name}; ignored`);
          return 'next';
        }
        return this.dnat(t, rule, a);
      case 'masquerade':
      case 'snat':
        if (base.type !== 'nat' || (base.hook !== 'postrouting' && base.hook !== 'input')) {
          addReason(t, `${rule.where}: ${a.kind === 'snat' ? 'SNAT' : 'MASQUERADE'} is not valid in ${base.table} ${base.name}; ignored`);
          return 'next';
        }
        t.snatRule = rule.ref;
        t.snatTarget = a.kind === 'snat' ? 'SNAT' : 'MASQUERADE';
        if (a.kind === 'snat') {
          t.snatTo = a.to.from ? formatIp(a.to.from) : 'a port of the same address';
          if (a.to.from) t.pkt.src = a.to.from;
        } else {
          t.snatTo = `the address of the outgoing interface${t.pkt.outInterface ? ` (${t.pkt.outInterface})` : ''} (a node IP)`;
        }
        t.pkt.snatDone = true;
        return 'stop';
      case 'unknown':
        addReason(t, `${rule.where}: ${a.text}: ${a.reason}; assumed it neither changes nor stops the packet`);
        return 'next';
      case 'dispatch': {
        const picked = a.pick(t.pkt);
        if (picked === null || 'unknown' in picked) {
          // No element: the rule did nothing, so it is not among the matched rules.
          if (t.rules[t.rules.length - 1] === rule.ref) t.rules.pop();
          if (picked !== null) addReason(t, `${rule.where}: ${picked.unknown}; assumed no element matches`);
          return 'next';
        }
        const step = this.apply(t, rule, picked.actions);
        return step === 'stop' ? 'stop' : 'jumped';
      }
    }
  }

  /** Enters the chain a jump or goto names; false when it cannot (missing chain, loop). */
  private jump(t: Thread, rule: Rule, a: Extract<Action, { kind: 'jump' | 'goto' }>): boolean {
    const target = a.chain;
    if (!target) {
      addReason(
        t,
        `${rule.where}: jumps to ${a.chainName}, which the ${this.base.table} table does not define; assumed it returns without effect`,
      );
      return false;
    }
    // iptables-restore and nft refuse loops, so a loop means a corrupt dump. Jumps are caught
    // by the stack; gotos replace the frame, so also count entries per chain.
    const entries = (t.entries.get(target) ?? 0) + 1;
    t.entries.set(target, entries);
    if (t.stack.length >= MAX_DEPTH || entries > MAX_ENTRIES || t.stack.some((f) => f.chain === target)) {
      addReason(t, `${rule.where}: ${a.kind} to ${a.chainName} loops; not followed`);
      return false;
    }
    if (a.kind === 'goto') t.stack[t.stack.length - 1] = enter(target, t.pkt);
    else t.stack.push(enter(target, t.pkt));
    return true;
  }

  private dnat(t: Thread, rule: Rule, a: Extract<Action, { kind: 'dnat' | 'redirect' }>): Step {
    if (a.kind === 'dnat') {
      const to = a.to;
      if (to.from && to.from.family !== t.pkt.family) {
        addReason(t, `${rule.where}: DNAT to another address family; ignored`);
        return 'next';
      }
      if (to.from) t.pkt.dst = to.from;
      if (to.ports) t.pkt.dport = to.ports.from;
      if ((to.to && to.from && to.to.value !== to.from.value) || (to.ports && to.ports.to !== to.ports.from)) {
        addReason(t, `${rule.where}: DNAT to a range; the trace follows its first address/port`);
      }
      t.dnat = true;
    } else {
      // REDIRECT: to the node itself (127.0.0.1 from OUTPUT, the input interface's address otherwise).
      if (a.toPorts) t.pkt.dport = a.toPorts.from;
      t.redirect = true;
    }
    t.pkt.dnatDone = true;
    return 'stop';
  }
}

/** Runs one base chain for a thread; returns the threads that come out (forks included). */
export function runBaseChain(start: Thread, base: BaseChain, budget: { outcomes: number }): Thread[] {
  return new BaseChainWalk(base, budget).run(start);
}
