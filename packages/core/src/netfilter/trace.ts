/**
 * The packet trace: follows the first packet of a connection through the nat
 * table the way the kernel does (PREROUTING or OUTPUT, the routing decision,
 * then POSTROUTING or INPUT), and says whether the node captures it (DNAT,
 * or an address bound on the node such as kube-ipvs0) and whether it leaves
 * SNATed. `-m statistic` rules are explored on both branches, each outcome
 * with its probability.
 *
 * What the trace cannot decide (unknown match or target, missing ipset,
 * unknown node addresses…) makes the answer `uncertain`, with the reason and
 * the assumption made: it never guesses silently.
 */

import { LoopscopeError } from '../error/loopscopeError';
import type { AddressBook } from './addr';
import { type Cidr, type IpAddress, type IpFamily, formatEndpoint, formatIp, ipKey, parseIp } from './cidr';
import { parseProtocol, protocolName, type RuleTarget } from './extensions';
import type { IptablesChain, IptablesDump, IptablesRule } from './iptablesSave';
import { type Chance, compileMatch, type MatchContext, type Matcher, type PacketState, type Unknown } from './match';

/** A rule that matched during the trace, as an SRE would look it up. */
export interface MatchedRule {
  table: string;
  chain: string;
  /** 1-based within its chain (`iptables -t nat -L CHAIN --line-numbers`). */
  ruleNumber: number;
  text: string;
  file: string;
  line: number;
}

export type TraceHook = 'PREROUTING' | 'OUTPUT';

export interface TracePacket {
  src: string;
  dst: string;
  dport: number;
  /** tcp (default), udp, sctp, or a protocol number. */
  proto?: string | number;
  /** PREROUTING (default) for pod traffic, OUTPUT for host processes. Case-insensitive. */
  hook?: TraceHook | 'prerouting' | 'output';
  /** The client's source port; rules testing it are uncertain without it. */
  sport?: number;
  /** Packet mark when it reaches nat (default 0). */
  mark?: number;
  /** Interface the packet enters by (e.g. the pod's veth), for `-i` rules. */
  inInterface?: string;
  /** Interface the packet leaves by (e.g. eth0), for `-o` rules in POSTROUTING. */
  outInterface?: string;
  /**
   * Also walk the filter table (FORWARD, or OUTPUT/INPUT) so that drops there
   * show (kube-proxy's KUBE-PROXY-FIREWALL for loadBalancerSourceRanges).
   * Off by default: NAT decisions are made in nat alone.
   */
  filter?: boolean;
}

/** How the node captured the packet. */
export type CaptureHow = 'dnat' | 'redirect' | 'bound-address' | 'none';

export interface TraceOutcome {
  probability: number;
  captured: boolean;
  how: CaptureHow;
  /** For `bound-address`: the interface holding the address (kube-ipvs0, eth0, …). */
  boundInterface: string | null;
  /** `ip:port` the packet was DNATed to, or null. */
  dnat: string | null;
  /** local: delivered to the node; forward: routed out; dropped: a rule or policy dropped it. */
  delivery: 'local' | 'forward' | 'dropped';
  snat: boolean;
  /** The rule that MASQUERADEd or SNATed the packet. */
  snatRule: MatchedRule | null;
  snatTarget: 'MASQUERADE' | 'SNAT' | null;
  /** What the source becomes: an address for SNAT, a phrase for MASQUERADE. */
  snatTo: string | null;
  droppedBy: MatchedRule | null;
  /** Destination after NAT, `ip:port`. */
  finalDestination: string;
  /** Packet mark at the end of the trace. */
  mark: number;
  rules: MatchedRule[];
  /** The statistic decisions that lead to this outcome. */
  branches: string[];
}

/** The most likely outcome's fields (the first one on a tie), then every outcome in `outcomes`. */
export interface TraceResult extends Omit<TraceOutcome, 'probability' | 'branches'> {
  packet: { src: string; dst: string; dport: number; proto: string; hook: TraceHook; sport: number | null };
  /** Every distinct path, with probabilities summing to 1. */
  outcomes: TraceOutcome[];
  captureProbability: number;
  snatProbability: number;
  uncertain: boolean;
  /** Why the answer is uncertain, each with the assumption the trace made. */
  reasons: string[];
  /** Context that does not make the answer uncertain. */
  notes: string[];
}

/** Bad trace input (the packet's fields): a LoopscopeError with code INPUT_INVALID. */
export class TraceInputError extends LoopscopeError {
  constructor(message: string) {
    super('INPUT_INVALID', message);
  }
}

// ---------------------------------------------------------------------------
// Index: the nat table compiled once per node and family.

interface CompiledRule {
  ref: MatchedRule;
  matchers: Matcher[];
  target: RuleTarget;
  jump: CompiledChain | null;
  /** The target changes nothing the trace follows, so unknown matches do not matter. */
  passive: boolean;
  where: string;
  /** ipKey of the one destination host the rule requires (`-d X/32`), else null. */
  dstKey: string | null;
}

export interface CompiledChain {
  name: string;
  builtin: boolean;
  policy: string | null;
  rules: CompiledRule[];
  /**
   * For long chains (KUBE-SERVICES has two rules per Service port): the rule
   * positions by exact destination (`-d X/32`), and those that test no exact
   * destination. A packet only needs its own destination's rules plus those.
   */
  index: { wild: number[]; byDst: Map<string, number[]> } | null;
}

/** Chains shorter than this are scanned rule by rule. */
const INDEX_MIN_RULES = 16;

function indexChain(chain: CompiledChain): void {
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

/** A dump's tables compiled for tracing: table name → chain name → chain. */
export interface CompiledRuleset {
  family: IpFamily;
  file: string;
  tables: Map<string, Map<string, CompiledChain>>;
  /** Facts about the dump worth telling with every trace (mangle marks…). */
  notes: string[];
}

function refOf(rule: IptablesRule): MatchedRule {
  return { table: rule.table, chain: rule.chain, ruleNumber: rule.ruleNumber, text: rule.text, file: rule.file, line: rule.line };
}

/** Compiles the nat and filter tables of a dump, once. */
export function compileRuleset(dump: IptablesDump, family: IpFamily, ctx: MatchContext): CompiledRuleset {
  const tables = new Map<string, Map<string, CompiledChain>>();
  for (const name of ['nat', 'filter']) {
    const table = dump.tables.get(name);
    if (!table) continue;
    const chains = new Map<string, CompiledChain>();
    for (const c of table.chains.values()) chains.set(c.name, { name: c.name, builtin: c.builtin, policy: c.policy, rules: [], index: null });
    for (const c of table.chains.values()) {
      const compiled = chains.get(c.name) as CompiledChain;
      compiled.rules = c.rules.map((r) => compileRule(r, chains, ctx));
      indexChain(compiled);
    }
    tables.set(name, chains);
  }
  const notes: string[] = [];
  const mangle = dump.tables.get('mangle');
  if (mangle) {
    const markRules = [...mangle.chains.values()].flatMap((c: IptablesChain) => c.rules).filter((r) => r.target.kind === 'mark' || (r.target.kind === 'unknown' && r.target.name === 'CONNMARK'));
    if (markRules.length > 0) {
      notes.push(`the mangle table has ${markRules.length} rule(s) that set packet marks (first: ${dump.file}:${markRules[0]?.line}); the trace follows nat only and starts from the given mark`);
    }
  }
  return { family, file: dump.file, tables, notes };
}

function compileRule(rule: IptablesRule, chains: Map<string, CompiledChain>, ctx: MatchContext): CompiledRule {
  const matchers: Matcher[] = [];
  for (const m of rule.matches) {
    const fn = compileMatch(m, ctx);
    if (fn) matchers.push(fn);
  }
  const t = rule.target;
  let dstKey: string | null = null;
  for (const m of rule.matches) {
    if (m.kind !== 'destination' || m.negated || m.cidrs.length !== 1) continue;
    const c = m.cidrs[0] as Cidr;
    if (c.prefix === (c.family === 4 ? 32 : 128)) dstKey = ipKey(c.family === 4 ? { family: 4, value: c.network } : { family: 6, value: c.network });
  }
  return {
    dstKey,
    ref: refOf(rule),
    matchers,
    target: t,
    jump: t.kind === 'chain' ? (chains.get(t.chain) ?? null) : null,
    passive: t.kind === 'none' || t.kind === 'passive',
    where: `${rule.table} ${rule.chain} rule ${rule.ruleNumber} (${rule.file}:${rule.line})`,
  };
}

// ---------------------------------------------------------------------------
// Walk

const MAX_OUTCOMES = 512;
const MAX_STEPS = 200000;
const MAX_DEPTH = 64;
/** Entries into one chain during one hook; kube-proxy's deepest real paths enter a chain a few times. */
const MAX_ENTRIES = 64;

interface Frame {
  chain: CompiledChain;
  pos: number;
  /** Rule positions to visit (indexed chains), else null: every rule in order. */
  cand: number[] | null;
}

/** A frame entering `chain` for this packet (its destination picks the candidate rules). */
function enter(chain: CompiledChain, pkt: PacketState): Frame {
  const idx = chain.index;
  if (!idx) return { chain, pos: 0, cand: null };
  const mine = idx.byDst.get(ipKey(pkt.dst));
  return { chain, pos: 0, cand: mine ? mergeSorted(idx.wild, mine) : idx.wild };
}

interface Thread {
  probability: number;
  pkt: PacketState;
  stack: Frame[];
  rules: MatchedRule[];
  branches: string[];
  reasons: string[];
  dnat: boolean;
  redirect: boolean;
  snatRule: MatchedRule | null;
  snatTarget: 'MASQUERADE' | 'SNAT' | null;
  snatTo: string | null;
  droppedBy: MatchedRule | null;
  dropped: boolean;
  steps: number;
  /** How often each chain was entered in the current hook (loop guard). */
  entries: Map<CompiledChain, number>;
}

function fork(t: Thread): Thread {
  return {
    ...t,
    pkt: { ...t.pkt },
    stack: t.stack.map((f) => ({ chain: f.chain, pos: f.pos, cand: f.cand })),
    rules: t.rules.slice(),
    branches: t.branches.slice(),
    reasons: t.reasons.slice(),
    entries: new Map(t.entries),
  };
}

function addReason(t: Thread, reason: string): void {
  if (!t.reasons.includes(reason)) t.reasons.push(reason);
}

type HookName = 'PREROUTING' | 'OUTPUT' | 'POSTROUTING' | 'INPUT' | 'FORWARD';

type TableName = 'nat' | 'filter';

/** Runs one hook of one table for a thread; returns the threads that come out (forks included). */
function runHook(start: Thread, rs: CompiledRuleset, table: TableName, hook: HookName, budget: { outcomes: number }): Thread[] {
  const base = rs.tables.get(table)?.get(hook);
  if (!base) return [start];
  const done: Thread[] = [];
  start.stack = [enter(base, start.pkt)];
  start.entries = new Map();
  start.steps = 0;
  const work: Thread[] = [start];
  while (work.length > 0) {
    const t = work.pop() as Thread;
    for (;;) {
      const frame = t.stack[t.stack.length - 1];
      if (!frame) {
        // Fell off (or RETURNed from) the built-in chain: its policy decides.
        if (base.policy === 'DROP') {
          t.dropped = true;
          t.droppedBy = { table, chain: hook, ruleNumber: 0, text: `:${hook} DROP (chain policy)`, file: rs.file, line: 0 };
        }
        done.push(t);
        break;
      }
      if (++t.steps > MAX_STEPS) {
        addReason(t, `the trace took more than ${MAX_STEPS} steps in ${table} ${hook} (a loop in the dump?); stopped there and assumed ACCEPT`);
        done.push(t);
        break;
      }
      const at = frame.cand ? frame.cand[frame.pos] : frame.pos;
      frame.pos++;
      const cr = at === undefined ? undefined : frame.chain.rules[at];
      if (!cr) {
        t.stack.pop();
        continue;
      }
      let matched = true;
      let probability = 1;
      let unknown: string | null = null;
      for (const m of cr.matchers) {
        const r = m(t.pkt);
        if (r === true) continue;
        if (r === false) {
          matched = false;
          break;
        }
        if ((r as Unknown).unknown !== undefined) unknown ??= (r as Unknown).unknown;
        else probability *= (r as Chance).probability;
      }
      if (!matched) continue;
      if (unknown !== null) {
        if (!cr.passive) addReason(t, `${cr.where}: ${unknown}; assumed the rule does not match`);
        continue;
      }
      if (probability < 1) {
        const label = `${cr.ref.chain} rule ${cr.ref.ruleNumber}`;
        if (budget.outcomes < MAX_OUTCOMES) {
          budget.outcomes++;
          const other = fork(t);
          other.probability *= 1 - probability;
          other.branches.push(`${label}: not taken (p=${round(1 - probability)})`);
          work.push(other);
          t.probability *= probability;
          t.branches.push(`${label}: taken (p=${round(probability)})`);
        } else {
          // Too many branches: follow the likelier one and say so.
          const take = probability >= 0.5;
          addReason(t, `more than ${MAX_OUTCOMES} statistic branches; at ${label} only the ${take ? 'taken' : 'not-taken'} branch was followed`);
          if (!take) continue;
        }
      }
      t.rules.push(cr.ref);
      const target = cr.target;
      switch (target.kind) {
        case 'none':
        case 'passive':
          continue;
        case 'chain': {
          if (!cr.jump) {
            addReason(t, `${cr.where}: jumps to ${target.chain}, which the ${table} table does not define; assumed it returns without effect`);
            continue;
          }
          // iptables-restore refuses loops, so a loop means a corrupt dump. Jumps are caught
          // by the stack; gotos replace the frame, so also count entries per chain.
          const entries = (t.entries.get(cr.jump) ?? 0) + 1;
          t.entries.set(cr.jump, entries);
          if (t.stack.length >= MAX_DEPTH || entries > MAX_ENTRIES || t.stack.some((f) => f.chain === cr.jump)) {
            addReason(t, `${cr.where}: ${target.goto ? 'goto' : 'jump'} to ${target.chain} loops; not followed`);
            continue;
          }
          if (target.goto) t.stack[t.stack.length - 1] = enter(cr.jump, t.pkt);
          else t.stack.push(enter(cr.jump, t.pkt));
          continue;
        }
        case 'return':
          t.stack.pop();
          continue;
        case 'accept':
          done.push(t);
          break;
        case 'drop':
        case 'reject':
          t.dropped = true;
          t.droppedBy = cr.ref;
          done.push(t);
          break;
        case 'mark':
          t.pkt.mark = ((t.pkt.mark & ~target.mask) ^ target.value) >>> 0;
          continue;
        case 'dnat':
        case 'redirect': {
          if (table !== 'nat' || (hook !== 'PREROUTING' && hook !== 'OUTPUT')) {
            addReason(t, `${cr.where}: ${target.kind.toUpperCase()} is not valid in ${table} ${hook}; ignored`);
            continue;
          }
          if (target.kind === 'dnat') {
            const to = target.to;
            if (to.from && to.from.family !== t.pkt.family) {
              addReason(t, `${cr.where}: DNAT to another address family; ignored`);
              continue;
            }
            if (to.from) t.pkt.dst = to.from;
            if (to.ports) t.pkt.dport = to.ports.from;
            if ((to.to && to.from && to.to.value !== to.from.value) || (to.ports && to.ports.to !== to.ports.from)) {
              addReason(t, `${cr.where}: DNAT to a range; the trace follows its first address/port`);
            }
            t.dnat = true;
          } else {
            // REDIRECT: to the node itself (127.0.0.1 from OUTPUT, the input interface's address otherwise).
            if (target.toPorts) t.pkt.dport = target.toPorts.from;
            t.redirect = true;
          }
          t.pkt.dnatDone = true;
          done.push(t);
          break;
        }
        case 'masquerade':
        case 'snat': {
          if (table !== 'nat' || (hook !== 'POSTROUTING' && hook !== 'INPUT')) {
            addReason(t, `${cr.where}: ${target.kind === 'snat' ? 'SNAT' : 'MASQUERADE'} is not valid in ${table} ${hook}; ignored`);
            continue;
          }
          t.snatRule = cr.ref;
          t.snatTarget = target.kind === 'snat' ? 'SNAT' : 'MASQUERADE';
          if (target.kind === 'snat') {
            t.snatTo = target.to.from ? formatIp(target.to.from) : 'a port of the same address';
            if (target.to.from) t.pkt.src = target.to.from;
          } else {
            t.snatTo = `the address of the outgoing interface${t.pkt.outInterface ? ` (${t.pkt.outInterface})` : ''} (a node IP)`;
          }
          t.pkt.snatDone = true;
          done.push(t);
          break;
        }
        case 'unknown':
          addReason(t, `${cr.where}: ${target.text}: ${target.reason}; assumed it neither changes nor stops the packet`);
          continue;
      }
      break;
    }
  }
  return done;
}

function round(p: number): number {
  return Math.round(p * 1e6) / 1e6;
}

/** What a trace needs from the node: its compiled rules per family and its address book. */
export interface TraceSubject {
  ruleset(family: IpFamily): CompiledRuleset | null;
  /** Why there are no nat rules for a family (no dump, no nat table), for the reason text. */
  natMissingReason(family: IpFamily): string;
  readonly addressBook: AddressBook;
}

function parsePacket(input: TracePacket): { pkt: PacketState; hook: TraceHook; proto: string } {
  const src = parseIp(String(input.src ?? ''));
  if (!src) throw new TraceInputError(`source "${input.src}" is not an IP address`);
  const dst = parseIp(String(input.dst ?? ''));
  if (!dst) throw new TraceInputError(`destination "${input.dst}" is not an IP address`);
  if (src.family !== dst.family) throw new TraceInputError('source and destination are of different address families');
  if (!Number.isInteger(input.dport) || input.dport < 0 || input.dport > 65535) throw new TraceInputError(`destination port "${input.dport}" is not a port number`);
  if (input.sport !== undefined && (!Number.isInteger(input.sport) || input.sport < 0 || input.sport > 65535)) throw new TraceInputError(`source port "${input.sport}" is not a port number`);
  const protoRaw = input.proto ?? 'tcp';
  const protocol = parseProtocol(String(protoRaw));
  if (protocol === null || protocol === 'all') throw new TraceInputError(`protocol "${protoRaw}" is not known (tcp, udp, sctp or a number)`);
  const hookRaw = String(input.hook ?? 'PREROUTING').toUpperCase();
  if (hookRaw !== 'PREROUTING' && hookRaw !== 'OUTPUT') throw new TraceInputError(`hook "${input.hook}" must be PREROUTING (pods) or OUTPUT (host processes)`);
  const mark = input.mark ?? 0;
  if (!Number.isInteger(mark) || mark < 0 || mark > 0xffffffff) throw new TraceInputError(`mark "${input.mark}" is not a 32-bit number`);
  const hook = hookRaw as TraceHook;
  return {
    hook,
    proto: protocolName(protocol),
    pkt: {
      family: src.family,
      src,
      dst,
      protocol,
      sport: input.sport ?? null,
      dport: input.dport,
      mark: mark >>> 0,
      inInterface: hook === 'OUTPUT' ? null : (input.inInterface ?? null),
      outInterface: input.outInterface ?? null,
      dnatDone: false,
      snatDone: false,
    },
  };
}

/**
 * Traces the first packet of a connection through the node's nat table.
 * Throws TraceInputError for a malformed packet (bad address, port…); never
 * for anything in the dumps.
 */
export function traceLbPacket(node: TraceSubject, input: TracePacket): TraceResult {
  const { pkt, hook, proto } = parsePacket(input);
  const book = node.addressBook;
  const rs = node.ruleset(pkt.family);
  const origSrc = pkt.src;
  const origDst = pkt.dst;
  const notes: string[] = rs ? rs.notes.slice() : [];
  const start: Thread = {
    probability: 1,
    pkt,
    stack: [],
    rules: [],
    branches: [],
    reasons: [],
    dnat: false,
    redirect: false,
    snatRule: null,
    snatTarget: null,
    snatTo: null,
    droppedBy: null,
    dropped: false,
    steps: 0,
    entries: new Map(),
  };
  const budget = { outcomes: 1 };
  if (!rs || !rs.tables.has('nat')) addReason(start, `${node.natMissingReason(pkt.family)}; assumed the nat table has no rules`);
  const table: CompiledRuleset = rs ?? { family: pkt.family, file: '', tables: new Map(), notes: [] };
  const withFilter = input.filter === true;
  if (withFilter && !table.tables.has('filter')) notes.push('the dump has no filter table, so no filter rule was traced');

  const finished: Array<{ t: Thread; delivery: TraceOutcome['delivery'] }> = [];
  const localOf = (t: Thread, ip: IpAddress): boolean => {
    const local = book.isLocal(ip);
    if (local === null) {
      const original = !t.dnat;
      addReason(t, `the node addresses are unknown (no addr.txt): assumed ${formatIp(ip)} is not bound on the node${original ? ' (in particular not on kube-ipvs0)' : ''}`);
      return false;
    }
    return local;
  };
  // Runs the hooks in kernel order; a dropped thread stops where it was dropped.
  const pipeline = (threads: Thread[], steps: Array<[TableName, HookName]>): Thread[] => {
    let current = threads;
    for (const [tableName, hook] of steps) {
      if (tableName === 'filter' && !withFilter) continue;
      const next: Thread[] = [];
      for (const t of current) {
        if (t.dropped) next.push(t);
        else next.push(...runHook(t, table, tableName, hook, budget));
      }
      current = next;
    }
    return current;
  };
  const finish = (threads: Thread[], delivery: 'local' | 'forward') => {
    for (const t of threads) finished.push({ t, delivery: t.dropped ? 'dropped' : delivery });
  };

  const first = hook === 'OUTPUT' ? pipeline([start], [['nat', 'OUTPUT'], ['filter', 'OUTPUT']]) : pipeline([start], [['nat', 'PREROUTING']]);
  for (const t of first) {
    if (t.dropped) {
      finished.push({ t, delivery: 'dropped' });
      continue;
    }
    // REDIRECT always delivers to the node itself.
    const local = t.redirect || localOf(t, t.pkt.dst);
    if (hook === 'OUTPUT') {
      // Locally generated packets always pass POSTROUTING, even to a local address.
      const out = pipeline([t], [['nat', 'POSTROUTING']]);
      if (local) finish(pipeline(out, [['filter', 'INPUT'], ['nat', 'INPUT']]), 'local');
      else finish(out, 'forward');
    } else if (local) {
      finish(pipeline([t], [['filter', 'INPUT'], ['nat', 'INPUT']]), 'local');
    } else {
      finish(pipeline([t], [['filter', 'FORWARD'], ['nat', 'POSTROUTING']]), 'forward');
    }
  }

  const outcomes: TraceOutcome[] = finished.map(({ t, delivery }) => {
    let how: CaptureHow = 'none';
    let boundInterface: string | null = null;
    if (t.dnat) how = 'dnat';
    else if (t.redirect) how = 'redirect';
    else if (delivery === 'local') {
      how = 'bound-address';
      boundInterface = book.interfaceOf(t.pkt.dst);
    }
    return {
      probability: t.probability,
      captured: how !== 'none',
      how,
      boundInterface,
      dnat: t.dnat ? formatEndpoint(t.pkt.dst, t.pkt.dport) : null,
      delivery,
      snat: t.snatRule !== null,
      snatRule: t.snatRule,
      snatTarget: t.snatTarget,
      snatTo: t.snatTo,
      droppedBy: t.droppedBy,
      finalDestination: formatEndpoint(t.pkt.dst, t.pkt.dport),
      mark: t.pkt.mark,
      rules: t.rules,
      branches: t.branches,
    };
  });
  let best = outcomes[0] as TraceOutcome;
  for (const o of outcomes) if (o.probability > best.probability + 1e-12) best = o;
  const reasons: string[] = [];
  for (const { t } of finished) for (const r of t.reasons) if (!reasons.includes(r)) reasons.push(r);
  if (outcomes.some((o) => o.how === 'bound-address' && o.boundInterface === 'kube-ipvs0')) {
    notes.push(`${formatIp(origDst)} is bound on kube-ipvs0: the kernel delivers the packet locally and IPVS serves it; it never reaches the load balancer`);
  }
  if (!withFilter && table.tables.has('filter')) {
    // kube-proxy leaves a no-target rule saying the filter table drops what KUBE-FW did not accept.
    const hint = outcomes.flatMap((o) => o.rules).find((r) => /will be dropped by KUBE-PROXY-FIREWALL/.test(r.text));
    if (hint) notes.push(`${hint.table} ${hint.chain} rule ${hint.ruleNumber} says this traffic is dropped in the filter table (loadBalancerSourceRanges): trace with filter to confirm`);
    notes.push('the filter table was not traced (trace with filter to see drops there); it cannot change addresses');
  }
  const sum = (f: (o: TraceOutcome) => boolean) => round(outcomes.filter(f).reduce((a, o) => a + o.probability, 0));
  return {
    packet: { src: formatIp(origSrc), dst: formatIp(origDst), dport: input.dport, proto, hook, sport: input.sport ?? null },
    captured: best.captured,
    how: best.how,
    boundInterface: best.boundInterface,
    dnat: best.dnat,
    delivery: best.delivery,
    snat: best.snat,
    snatRule: best.snatRule,
    snatTarget: best.snatTarget,
    snatTo: best.snatTo,
    droppedBy: best.droppedBy,
    finalDestination: best.finalDestination,
    mark: best.mark,
    rules: best.rules,
    outcomes,
    captureProbability: sum((o) => o.captured),
    snatProbability: sum((o) => o.snat),
    uncertain: reasons.length > 0,
    reasons,
    notes,
  };
}
