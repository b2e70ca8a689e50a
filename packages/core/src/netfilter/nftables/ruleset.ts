/**
 * An nftables dump as a `Ruleset` per address family: the base chains of
 * every `ip`/`inet` (IPv4) or `ip6`/`inet` (IPv6) table by hook and
 * priority (kube-proxy's filter-prerouting-pre-dnat at -110 before
 * nat-prerouting at -100, and any iptables-nft tables beside them), each rule
 * compiled once into matchers and actions.
 */

import { type IpFamily, parseIp } from '../ruleset/cidr';
import type { MatchContext, Matcher, Unknown } from '../ruleset/match';
import { parsePortRange } from '../ruleset/ports';
import type { Action, BaseChain, Chain, ChainType, ForkWay, Hook, MatchedRule, NatRange, Rule, Ruleset } from '../ruleset/ruleset';
import { indexChain, sortByPriority } from '../ruleset/ruleset';
import { fieldReader, parsePattern, type Pattern, patternMatches } from './fields';
import { compileLookup, type Lookup } from './lookup';
import type { NftChain, NftDump, NftElement, NftOperand, NftRule, NftStatement, NftTable, NftVerdict } from './model';

const HOOKS = new Set<Hook>(['prerouting', 'input', 'forward', 'output', 'postrouting']);
const CHAIN_TYPES = new Set<ChainType>(['nat', 'filter', 'route']);

function familyTables(dump: NftDump, family: IpFamily): NftTable[] {
  return dump.tables.filter((t) => t.family === 'inet' || t.family === (family === 4 ? 'ip' : 'ip6'));
}

class TableCompiler {
  readonly chains = new Map<string, Chain>();
  private readonly lookups = new Map<string, Lookup | { refused: string }>();

  constructor(
    readonly table: NftTable,
    readonly ctx: MatchContext,
  ) {}

  private namedLookup(stmtKey: import('./model').NftExpr, name: string): Lookup | { refused: string } {
    const set = this.table.sets.get(name);
    if (!set) return { refused: `set @${name} is not in table ${this.table.family} ${this.table.name}` };
    const cacheKey = `${name}\u0000${JSON.stringify(stmtKey)}`;
    let l = this.lookups.get(cacheKey);
    if (!l) {
      l = compileLookup(stmtKey, set.elements, this.ctx, `@${name}`);
      this.lookups.set(cacheKey, l);
    }
    return l;
  }

  private lookupFor(key: import('./model').NftExpr, operand: NftOperand): Lookup | { refused: string } {
    if (operand.kind === 'setRef') return this.namedLookup(key, operand.name);
    if (operand.kind === 'set') return compileLookup(key, operand.elements, this.ctx, 'the anonymous set');
    return compileLookup(key, [{ key: operand.value, verdict: null, data: null }], this.ctx, 'the value');
  }

  verdictActions(v: NftVerdict): Action[] {
    switch (v.kind) {
      case 'continue':
        return [];
      case 'jump':
      case 'goto':
        return [{ kind: v.kind, chainName: v.target, chain: this.chains.get(v.target) ?? null }];
      case 'reject':
        return [{ kind: 'reject', rejectWith: v.with }];
      default:
        return [{ kind: v.kind }];
    }
  }

  matcher(s: Extract<NftStatement, { kind: 'match' }>, rule: NftRule): Matcher {
    const unknown = (reason: string): Matcher => {
      const u: Unknown = { unknown: `${rule.text}: ${reason}` };
      return () => u;
    };
    const neg = s.op === '!=';
    if (s.op !== '==' && s.op !== '!=') {
      const r = fieldReader(s.left, this.ctx);
      const bound = s.right.kind === 'value' && s.right.value.kind === 'word' ? Number(s.right.value.text) : NaN;
      if (!r || r.kind !== 'number' || Number.isNaN(bound)) return unknown(`the comparison ${s.op} is not evaluated by loopscope`);
      const op = s.op;
      return (p) => {
        const v = r.read(p);
        if (v === 'absent') return false;
        if (typeof v !== 'number') return typeof v === 'object' && 'unknown' in v ? v : false;
        return op === '<' ? v < bound : op === '>' ? v > bound : op === '<=' ? v <= bound : v >= bound;
      };
    }
    // Single values of one-part keys: test the pattern directly (`ip saddr != 10.0.0.0/8`).
    if (s.right.kind === 'value' && s.left.kind !== 'concat') {
      const r = fieldReader(s.left, this.ctx);
      if (!r) return unknown(`${s.left.kind === 'field' ? s.left.name : s.left.kind} is not evaluated by loopscope`);
      const pat: Pattern | null = parsePattern(r.kind, s.right.value);
      if (!pat) return unknown('cannot read the value');
      return (p) => {
        const v = r.read(p);
        if (v === 'absent') return false;
        if (typeof v === 'object' && 'unknown' in v) return v;
        return patternMatches(pat, v) !== neg;
      };
    }
    const l = this.lookupFor(s.left, s.right);
    if ('refused' in l) return unknown(l.refused);
    return (p) => {
      const hit = l.find(p);
      if (hit !== null && 'unknown' in hit) return hit;
      return (hit !== null) !== neg;
    };
  }

  vmapAction(s: Extract<NftStatement, { kind: 'vmap' }>, rule: NftRule): Action {
    if (s.key.kind === 'numgen') return this.forkAction(s.key, s.map, rule);
    const l = this.lookupFor(s.key, s.map);
    if ('refused' in l) return { kind: 'unknown', reason: l.refused, text: rule.text };
    return {
      kind: 'dispatch',
      pick: (p) => {
        const hit = l.find(p);
        if (hit === null) return null;
        if ('unknown' in hit) return hit;
        if (!hit.verdict) return { unknown: 'the map element has no verdict' };
        return { actions: this.verdictActions(hit.verdict), label: '' };
      },
    };
  }

  /** `numgen random mod N vmap { 0 : goto a, 1 : goto b }`: each element gets its share of the N values. */
  forkAction(key: Extract<import('./model').NftExpr, { kind: 'numgen' }>, map: NftOperand, rule: NftRule): Action {
    if (key.mode !== 'random') return { kind: 'unknown', reason: `numgen ${key.mode} is not evaluated by loopscope`, text: rule.text };
    if (!(key.mod >= 1 && key.mod <= 65536))
      return { kind: 'unknown', reason: `numgen mod ${key.mod} is not evaluated by loopscope`, text: rule.text };
    const elements: NftElement[] =
      map.kind === 'set' ? map.elements : map.kind === 'setRef' ? (this.table.sets.get(map.name)?.elements ?? []) : [];
    const ways: ForkWay[] = [];
    let covered = 0;
    for (const el of elements) {
      const pat = parsePattern('number', el.key);
      if (!pat || !el.verdict) return { kind: 'unknown', reason: 'cannot read the numgen map', text: rule.text };
      let count = 0;
      for (let n = key.offset; n < key.offset + key.mod; n++) if (patternMatches(pat, n)) count++;
      if (count === 0) continue;
      covered += count;
      const label = el.key.kind === 'word' ? el.key.text : el.key.kind === 'range' ? `${el.key.from}-${el.key.to}` : '?';
      ways.push({
        probability: count / key.mod,
        label: `${label} : ${el.verdict.kind === 'jump' || el.verdict.kind === 'goto' ? `${el.verdict.kind} ${el.verdict.target}` : el.verdict.kind}`,
        actions: this.verdictActions(el.verdict),
      });
    }
    if (covered < key.mod) ways.push({ probability: (key.mod - covered) / key.mod, label: 'no element', actions: [] });
    return { kind: 'fork', ways };
  }

  compileRule(r: NftRule): Rule {
    const matchers: Matcher[] = [];
    const actions: Action[] = [];
    for (const s of r.statements) {
      switch (s.kind) {
        case 'match':
          matchers.push(this.matcher(s, r));
          break;
        case 'unknown': {
          // Unread parts are taken as conditions: the rule is assumed not to match, and the trace says so.
          const u: Unknown = { unknown: `${s.text}: ${s.reason}` };
          matchers.push(() => u);
          break;
        }
        case 'verdict':
          actions.push(...this.verdictActions(s.verdict));
          break;
        case 'vmap':
          actions.push(this.vmapAction(s, r));
          break;
        case 'nat': {
          const to = natRange(s.addr, s.port);
          actions.push(
            to
              ? { kind: s.type, to }
              : { kind: 'unknown', reason: `cannot read ${s.type} to ${s.addr ?? ''}:${s.port ?? ''}`, text: r.text },
          );
          break;
        }
        case 'masquerade':
          actions.push({ kind: 'masquerade', randomFully: s.fullyRandom });
          break;
        case 'redirect':
          actions.push({ kind: 'redirect', toPorts: s.port === null ? null : parsePortRange(s.port, '-') });
          break;
        case 'markSet':
          actions.push(markAction(s.value, r));
          break;
        case 'passive':
          break;
      }
    }
    // An unread part may hide the verdict, so such a rule is never taken as passive.
    const passive = actions.length === 0 && !r.statements.some((s) => s.kind === 'unknown');
    return new CompiledNftRule(r, matchers, actions, passive);
  }
}

/**
 * How the trace cites an nftables rule. Its text and the label used in reasons are read from the
 * rule when first needed: building them for every rule of a 50,000-rule ruleset would dominate
 * the load.
 */
class NftRuleRef implements MatchedRule {
  readonly table: string;
  readonly chain: string;
  readonly ruleNumber: number;
  readonly file: string;
  readonly line: number;
  readonly family: string;
  readonly handle?: number;

  constructor(readonly rule: NftRule) {
    this.table = rule.table;
    this.chain = rule.chain;
    this.ruleNumber = rule.position;
    this.file = rule.file;
    this.line = rule.line;
    this.family = rule.family;
    if (rule.handle !== null) this.handle = rule.handle;
  }

  get text(): string {
    return this.rule.text;
  }

  /** JSON output (the CLI's --format json) carries the text like every other rule. */
  toJSON(): MatchedRule {
    const { table, chain, ruleNumber, text, file, line, family, handle } = this;
    return handle === undefined
      ? { table, chain, ruleNumber, text, file, line, family }
      : { table, chain, ruleNumber, text, file, line, family, handle };
  }
}

class CompiledNftRule implements Rule {
  readonly ref: NftRuleRef;
  readonly dstKey = null;
  private label: string | null = null;

  constructor(
    rule: NftRule,
    readonly matchers: Matcher[],
    readonly actions: Action[],
    readonly passive: boolean,
  ) {
    this.ref = new NftRuleRef(rule);
  }

  get where(): string {
    const r = this.ref.rule;
    return (this.label ??= `${r.family} ${r.table} ${r.chain} rule ${r.position}${r.handle !== null ? ` (handle ${r.handle})` : ''} (${r.file}${r.line ? ':' + r.line : ''})`);
  }
}

function natRange(addr: string | null, port: string | null): NatRange | null {
  const from = addr === null ? null : parseIp(addr.replace(/^\[|\]$/g, ''));
  if (addr !== null && !from) return null;
  const ports = port === null ? null : parsePortRange(port, '-');
  if (port !== null && !ports) return null;
  if (!from && !ports) return null;
  return { from, to: from, ports };
}

function markAction(value: import('./model').NftExpr | number, rule: NftRule): Action {
  if (typeof value === 'number') return { kind: 'mark', value: value >>> 0, mask: 0xffffffff };
  if (value.kind === 'binop' && value.left.kind === 'field' && value.left.name === 'meta mark') {
    const n = value.right >>> 0;
    if (value.op === 'or') return { kind: 'mark', value: n, mask: n };
    if (value.op === 'xor') return { kind: 'mark', value: n, mask: 0 };
    return { kind: 'mark', value: 0, mask: ~n >>> 0 };
  }
  return { kind: 'unknown', reason: 'this mark expression is not evaluated by loopscope', text: rule.text };
}

/** The base chains of the dump's tables for one family, compiled once. Null when no table applies. */
export function nftRuleset(dump: NftDump, family: IpFamily, ctx: MatchContext): Ruleset | null {
  const tables = familyTables(dump, family);
  if (tables.length === 0) return null;
  const bases: BaseChain[] = [];
  const types = new Set<ChainType>();
  const notes: string[] = [];
  for (const table of tables) {
    const tc = new TableCompiler(table, ctx);
    const pending: Array<[NftChain, Chain]> = [];
    for (const c of table.chains.values()) {
      const chain: Chain = { name: c.name, table: `${table.family} ${table.name}`, rules: [], index: null };
      const b = c.base;
      if (b && HOOKS.has(b.hook as Hook) && CHAIN_TYPES.has(b.type as ChainType)) {
        const base: BaseChain = Object.assign(chain, {
          hook: b.hook as Hook,
          type: b.type as ChainType,
          priority: b.priority,
          policy: b.policy,
          family: table.family,
          policyRef: {
            table: table.name,
            chain: c.name,
            ruleNumber: 0,
            text: `policy ${b.policy}`,
            file: dump.file,
            line: c.line,
            family: table.family,
          },
        });
        bases.push(base);
        types.add(base.type);
      } else if (b) {
        notes.push(`${table.family} ${table.name} chain ${c.name} (type ${b.type} hook ${b.hook}) is not traced`);
      }
      tc.chains.set(c.name, chain);
      pending.push([c, chain]);
    }
    for (const [c, chain] of pending) {
      chain.rules = c.rules.map((r) => tc.compileRule(r));
      indexChain(chain);
    }
  }
  const sorted = sortByPriority(bases);
  const byHook = new Map<Hook, BaseChain[]>();
  for (const b of sorted) byHook.set(b.hook, [...(byHook.get(b.hook) ?? []), b]);
  return {
    file: dump.file,
    family,
    baseChains: (h) => byHook.get(h) ?? [],
    notes,
    hasType: (t) => types.has(t),
  };
}
