/**
 * `nft -j list ruleset` (libnftables-json(5)) into an `NftDump`. Never
 * throws: objects it cannot read are reported and skipped; expressions it
 * does not know become an `unknown` statement with their JSON.
 */

import type { DumpProblem, ParsedDump } from '../ruleset/problems';
import { formatStatements } from './format';
import type {
  NftChain,
  NftDump,
  NftElement,
  NftExpr,
  NftOperand,
  NftRule,
  NftSet,
  NftStatement,
  NftTable,
  NftValue,
  NftVerdict,
} from './model';
import { lookupTable } from '../ruleset/lookupTable';

type Json = unknown;

class Refused extends Error {}

function fail(reason: string): never {
  throw new Refused(reason);
}

function obj(x: Json): Record<string, Json> | null {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, Json>) : null;
}

/** The one key of `{ "payload": {…} }`. */
function only(x: Json): [string, Json] | null {
  const o = obj(x);
  if (!o) return null;
  const keys = Object.keys(o);
  return keys.length === 1 ? [keys[0] as string, o[keys[0] as string]] : null;
}

function str(x: Json): string {
  return typeof x === 'string'
    ? x
    : typeof x === 'number'
      ? String(x)
      : fail(`expected a string, found ${JSON.stringify(x)?.slice(0, 40)}`);
}

/** Field expressions are few and repeated on every rule: one object each. */
const FIELD_CACHE = new Map<string, NftExpr>();
function field(proto: string, name: string): NftExpr {
  const key = `${proto} ${name}`;
  let e = FIELD_CACHE.get(key);
  if (!e) {
    e = { kind: 'field', name: key };
    if (FIELD_CACHE.size < 1000) FIELD_CACHE.set(key, e);
  }
  return e;
}

const BINOPS = lookupTable<'and' | 'or' | 'xor'>({ '&': 'and', '|': 'or', '^': 'xor' });

function expr(x: Json): NftExpr {
  const kv = only(x);
  if (!kv) fail(`cannot read expression ${JSON.stringify(x)?.slice(0, 60)}`);
  const [k, v] = kv;
  const o = obj(v);
  switch (k) {
    case 'payload':
      return field(str(o?.protocol), str(o?.field));
    case 'meta':
      return field('meta', str(o?.key));
    case 'ct':
      return field('ct', str(o?.key));
    case 'fib': {
      const flags = Array.isArray(o?.flags) ? (o?.flags as Json[]).map(str) : [str(o?.flags)];
      return { kind: 'field', name: `fib ${flags.join(' . ')} ${str(o?.result)}` };
    }
    case 'numgen':
      return { kind: 'numgen', mode: str(o?.mode), mod: Number(o?.mod), offset: Number(o?.offset ?? 0) };
    case 'concat':
      if (!Array.isArray(v)) fail('concat without a list');
      return { kind: 'concat', parts: v.map(expr) };
    case '&':
    case '|':
    case '^': {
      if (!Array.isArray(v) || v.length !== 2 || typeof v[1] !== 'number') fail(`cannot read "${k}"`);
      return { kind: 'binop', op: BINOPS[k] as 'and', left: expr(v[0]), right: v[1] as number };
    }
    default:
      return fail(`expression "${k}" is not read by loopscope`);
  }
}

function value(x: Json): NftValue {
  if (typeof x === 'string' || typeof x === 'number') return { kind: 'word', text: String(x) };
  if (Array.isArray(x)) return { kind: 'word', text: x.map(str).join(',') }; // ct state ["new","established"]
  const kv = only(x);
  if (!kv) fail(`cannot read value ${JSON.stringify(x)?.slice(0, 60)}`);
  const [k, v] = kv;
  const o = obj(v);
  switch (k) {
    case 'prefix':
      return { kind: 'word', text: `${str(o?.addr)}/${str(o?.len)}` };
    case 'range':
      if (!Array.isArray(v) || v.length !== 2) fail('range without two ends');
      return { kind: 'range', from: str(v[0]), to: str(v[1]) };
    case 'concat':
      if (!Array.isArray(v)) fail('concat without a list');
      return { kind: 'concat', parts: v.map(value) };
    case 'elem':
      return value(o?.val);
    default:
      return fail(`value "${k}" is not read by loopscope`);
  }
}

function verdict(x: Json, known?: [string, Json]): NftVerdict | null {
  const kv = known ?? only(x);
  if (!kv) return null;
  const [k, v] = kv;
  switch (k) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return { kind: k };
    case 'jump':
    case 'goto':
      return { kind: k, target: str(obj(v)?.target) };
    case 'reject': {
      const o = obj(v);
      return {
        kind: 'reject',
        with: o
          ? [o.type, o.expr]
              .filter((p) => p !== undefined)
              .map(str)
              .join(' ')
          : null,
      };
    }
    default:
      return null;
  }
}

function elements(list: Json): NftElement[] {
  if (!Array.isArray(list)) return [];
  return list.map((e): NftElement => {
    // Map elements are `[key, data]`; set elements are the key alone.
    if (Array.isArray(e) && e.length === 2 && !(typeof e[0] === 'string' && typeof e[1] === 'string')) {
      const v = verdict(e[1]);
      return { key: value(e[0]), verdict: v, data: v ? null : JSON.stringify(e[1]) };
    }
    return { key: value(e), verdict: null, data: null };
  });
}

function operand(x: Json): NftOperand {
  if (typeof x === 'string' && x.startsWith('@')) return { kind: 'setRef', name: x.slice(1) };
  const kv = only(x);
  if (kv && kv[0] === 'set') return { kind: 'set', elements: elements(Array.isArray(kv[1]) ? kv[1] : [kv[1]]) };
  return { kind: 'value', value: value(x) };
}

const OPS = lookupTable<'==' | '!=' | '<' | '>' | '<=' | '>='>({
  '==': '==',
  in: '==',
  '!=': '!=',
  '<': '<',
  '>': '>',
  '<=': '<=',
  '>=': '>=',
});

function port(x: Json): string | null {
  if (x === undefined) return null;
  const kv = only(x);
  if (kv && kv[0] === 'range' && Array.isArray(kv[1])) return `${str(kv[1][0])}-${str(kv[1][1])}`;
  return str(x);
}

function flagList(x: Json): string[] {
  return Array.isArray(x) ? x.map(str) : x === undefined ? [] : [str(x)];
}

function statement(x: Json): NftStatement | null {
  const kv = only(x);
  if (!kv) fail(`cannot read statement ${JSON.stringify(x)?.slice(0, 60)}`);
  const [k, v] = kv;
  const o = obj(v);
  const vd = verdict(x, kv);
  if (vd) return { kind: 'verdict', verdict: vd };
  switch (k) {
    case 'match': {
      const op = OPS[str(o?.op)];
      if (!op) fail(`match operator "${String(o?.op)}" is not read by loopscope`);
      return { kind: 'match', op, left: expr(o?.left), right: operand(o?.right) };
    }
    case 'vmap':
      return { kind: 'vmap', key: expr(o?.key), map: operand(o?.data) };
    case 'dnat':
    case 'snat':
      if (o?.addr !== undefined && typeof o.addr !== 'string') fail(`${k} to a map or an expression is not evaluated by loopscope`);
      return { kind: 'nat', type: k, addr: o?.addr === undefined ? null : str(o.addr), port: port(o?.port) };
    case 'masquerade':
      return { kind: 'masquerade', fullyRandom: flagList(o?.flags).includes('fully-random'), port: port(o?.port) };
    case 'redirect':
      return { kind: 'redirect', port: port(o?.port) };
    case 'mangle': {
      const key = expr(o?.key);
      if (key.kind === 'field' && key.name === 'ct mark') return { kind: 'passive', name: 'ct mark set' };
      if (key.kind !== 'field' || key.name !== 'meta mark')
        fail(`setting ${key.kind === 'field' ? key.name : 'an expression'} is not evaluated by loopscope`);
      return { kind: 'markSet', value: typeof o?.value === 'number' ? o.value : expr(o?.value) };
    }
    case 'counter':
    case 'log':
    case 'notrack':
    case 'set':
      return { kind: 'passive', name: k === 'set' ? `${str(o?.op)} @set` : k };
    default:
      return fail(`statement "${k}" is not evaluated by loopscope`);
  }
}

function ruleStatements(list: Json): NftStatement[] {
  const out: NftStatement[] = [];
  for (const s of Array.isArray(list) ? list : []) {
    try {
      const st = statement(s);
      if (st) out.push(st);
    } catch (e) {
      out.push({
        kind: 'unknown',
        text: JSON.stringify(s).slice(0, 200),
        reason: e instanceof Refused ? e.message : 'cannot read this statement',
      });
    }
  }
  return out;
}

/** A rule read from JSON: its nft text is formatted when first quoted (most rules of a large ruleset never are). */
class JsonRule implements NftRule {
  readonly table: string;
  readonly family: string;
  readonly chain: string;
  readonly line = 0;
  private formatted: string | null = null;

  constructor(
    t: NftTable,
    c: NftChain,
    readonly position: number,
    readonly handle: number | null,
    readonly comment: string | null,
    readonly file: string,
    readonly statements: NftStatement[],
  ) {
    // The chain's own strings: JSON.parse gives every rule its own copy of the names.
    this.table = t.name;
    this.family = t.family;
    this.chain = c.name;
  }

  get text(): string {
    return (this.formatted ??= formatStatements(this.statements, this.comment));
  }
}

/** nft's JSON nests expressions a dozen levels; the readers below recurse, so deeper is refused first. */
const MAX_JSON_DEPTH = 64;

/** Measured with a loop over a stack: 20,000 nested `&` expressions must not overflow anything. */
function nestsDeeper(doc: Json, max: number): boolean {
  const stack: Array<{ v: Json; d: number }> = [{ v: doc, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop() as { v: Json; d: number };
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const c of Array.isArray(v) ? v : Object.values(v)) if (c !== null && typeof c === 'object') stack.push({ v: c, d: d + 1 });
  }
  return false;
}

export function parseNftJson(text: string, file: string): ParsedDump<NftDump> {
  const problems: DumpProblem[] = [];
  const dump: NftDump = { file, format: 'json', tables: [] };
  const report = (message: string, severity: DumpProblem['severity'] = 'error') => problems.push({ file, line: 0, message, severity });
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    report(`not JSON (${e instanceof Error ? e.message.slice(0, 80) : 'parse error'}); is this \`nft -j list ruleset\` output?`);
    return { value: dump, problems };
  }
  if (nestsDeeper(doc, MAX_JSON_DEPTH)) {
    report(`nests more than ${MAX_JSON_DEPTH} levels deep, which no \`nft -j list ruleset\` output does; not read`);
    return { value: dump, problems };
  }
  const list = obj(doc)?.nftables;
  if (!Array.isArray(list)) {
    report('no "nftables" list: is this `nft -j list ruleset` output?');
    return { value: dump, problems };
  }
  const tables = new Map<string, NftTable>();
  const tableOf = (o: Record<string, Json> | null, what: string): NftTable | null => {
    const fam = typeof o?.family === 'string' ? o.family : '';
    const name = typeof o?.table === 'string' ? o.table : '';
    const t = tables.get(`${fam} ${name}`);
    if (!t) report(`${what} of table ${fam} ${name}, which the dump does not list first; skipped`);
    return t ?? null;
  };
  const rules: Array<Record<string, Json>> = [];
  list.forEach((entry, index) => {
    const kv = only(entry);
    const o = obj(kv?.[1]);
    if (!kv || !o) return report(`entry ${index} is not an nftables object; skipped`);
    const [k] = kv;
    try {
      if (k === 'table') {
        const t: NftTable = { family: str(o.family), name: str(o.name), line: 0, chains: new Map(), sets: new Map(), problems: [] };
        tables.set(`${t.family} ${t.name}`, t);
        dump.tables.push(t);
      } else if (k === 'chain') {
        const t = tableOf(o, `chain ${String(o.name)}`);
        if (!t) return;
        const chain: NftChain = { name: str(o.name), table: t.name, family: t.family, base: null, line: 0, rules: [] };
        if (o.hook !== undefined) {
          if (typeof o.prio !== 'number') report(`chain ${chain.name} has no numeric priority; assumed 0`, 'warning');
          chain.base = {
            type: str(o.type ?? 'filter'),
            hook: str(o.hook),
            priority: typeof o.prio === 'number' ? o.prio : 0,
            policy: o.policy === 'drop' ? 'drop' : 'accept',
          };
        }
        t.chains.set(chain.name, chain);
      } else if (k === 'set' || k === 'map') {
        const t = tableOf(o, `${k} ${String(o.name)}`);
        if (!t) return;
        const set: NftSet = {
          name: str(o.name),
          keyTypes: Array.isArray(o.type) ? o.type.map(str) : o.type === undefined ? [] : [str(o.type)],
          dataType: k === 'map' ? str(o.map ?? 'verdict') : null,
          flags: flagList(o.flags),
          elements: elements(o.elem),
          line: 0,
        };
        t.sets.set(set.name, set);
      } else if (k === 'rule') {
        rules.push(o);
      }
      // metainfo, flowtable, counter, quota, ct helper, element: nothing the trace needs.
    } catch (e) {
      report(`cannot read ${k} entry ${index} (${e instanceof Error ? e.message : 'bad entry'}); skipped`);
    }
  });
  for (const o of rules) {
    const t = tableOf(o, 'a rule');
    if (!t) continue;
    const chainName = typeof o.chain === 'string' ? o.chain : '';
    const chain = t.chains.get(chainName);
    if (!chain) {
      report(`a rule of chain ${chainName}, which table ${t.family} ${t.name} does not list; skipped`);
      continue;
    }
    const statements = ruleStatements(o.expr);
    const comment = typeof o.comment === 'string' ? o.comment : null;
    const handle = typeof o.handle === 'number' ? o.handle : null;
    for (const s of statements)
      if (s.kind === 'unknown') {
        const message = `${t.family} ${t.name} ${chainName} handle ${handle ?? '?'}: ${s.reason}; kept as a part loopscope cannot evaluate`;
        const p: DumpProblem = { file, line: 0, message, severity: 'warning' };
        problems.push(p);
        t.problems.push(p);
      }
    chain.rules.push(new JsonRule(t, chain, chain.rules.length + 1, handle, comment, file, statements));
  }
  return { value: dump, problems };
}
