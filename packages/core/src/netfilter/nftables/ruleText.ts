/**
 * One nftables rule, as `nft list ruleset` prints it, into statements:
 * `ip daddr . meta l4proto . th dport vmap @service-ips`,
 * `ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
 * `numgen random mod 2 vmap { 0 : goto a, 1 : goto b }`, `meta l4proto tcp dnat to 10.180.0.1:80`…
 * What it cannot read becomes one `unknown` statement holding the rest of the rule.
 */

import type { NftElement, NftExpr, NftOperand, NftStatement, NftValue, NftVerdict } from './model';
import type { Token } from './tokens';
import { lookupTable } from '../ruleset/lookupTable';

/** Payload and meta fields, by the protocol word that starts them. */
const FIELDS = lookupTable<string[]>({
  ip: ['saddr', 'daddr', 'protocol', 'version', 'length', 'ttl', 'dscp', 'id', 'hdrlength', 'checksum', 'frag-off'],
  ip6: ['saddr', 'daddr', 'nexthdr', 'version', 'hoplimit', 'length', 'flowlabel', 'dscp'],
  tcp: ['sport', 'dport', 'flags', 'sequence', 'window'],
  udp: ['sport', 'dport', 'length'],
  sctp: ['sport', 'dport'],
  dccp: ['sport', 'dport'],
  udplite: ['sport', 'dport'],
  th: ['sport', 'dport'],
  meta: [
    'l4proto',
    'mark',
    'iifname',
    'oifname',
    'iif',
    'oif',
    'nfproto',
    'protocol',
    'pkttype',
    'skuid',
    'skgid',
    'iiftype',
    'oiftype',
    'length',
    'priority',
    'cpu',
    'cgroup',
    'nftrace',
  ],
  ct: ['state', 'status', 'mark', 'direction', 'zone', 'expiration', 'helper', 'original', 'reply', 'count'],
});

/** Meta keys nft prints without `meta`. */
const BARE_META = new Set([
  'mark',
  'iifname',
  'oifname',
  'iif',
  'oif',
  'l4proto',
  'nfproto',
  'skuid',
  'skgid',
  'pkttype',
  'cpu',
  'cgroup',
  'priority',
]);

const OPS = lookupTable<'==' | '!=' | '<' | '>' | '<=' | '>='>({
  '==': '==',
  eq: '==',
  '!=': '!=',
  ne: '!=',
  '<': '<',
  lt: '<',
  '>': '>',
  gt: '>',
  '<=': '<=',
  le: '<=',
  '>=': '>=',
  ge: '>=',
});

const BINOPS = lookupTable<'and' | 'or' | 'xor'>({ and: 'and', '&': 'and', or: 'or', '|': 'or', xor: 'xor', '^': 'xor' });

/** Words that start a statement, so a comparison's value list stops before them. */
const STATEMENT_WORDS = new Set([
  'counter',
  'comment',
  'jump',
  'goto',
  'accept',
  'drop',
  'return',
  'continue',
  'reject',
  'dnat',
  'snat',
  'masquerade',
  'redirect',
  'log',
  'vmap',
  'notrack',
  'limit',
  'quota',
  'queue',
  'update',
  'add',
  'set',
]);

class Cursor {
  i = 0;
  /** Inside `{ … }`, commas separate elements. */
  inBraces = false;
  constructor(readonly t: Token[]) {}
  peek(k = 0): string | undefined {
    return this.t[this.i + k]?.text;
  }
  next(): string | undefined {
    return this.t[this.i++]?.text;
  }
  done(): boolean {
    return this.i >= this.t.length;
  }
  rest(from: number): string {
    return this.t
      .slice(from)
      .map((x) => (x.quoted ? JSON.stringify(x.text) : x.text))
      .join(' ');
  }
}

class Refused extends Error {}

function fail(reason: string): never {
  throw new Refused(reason);
}

function isNumber(s: string | undefined): boolean {
  return !!s && /^(0x[0-9a-fA-F]+|\d+)$/.test(s);
}

/** A key or comparison's left side: fields joined by ` . `, with `and|or|xor N`. */
function parseExpr(c: Cursor): NftExpr {
  const parts: NftExpr[] = [parsePrimary(c)];
  while (c.peek() === '.') {
    c.next();
    parts.push(parsePrimary(c));
  }
  return parts.length === 1 ? (parts[0] as NftExpr) : { kind: 'concat', parts };
}

function parsePrimary(c: Cursor): NftExpr {
  const w = c.next();
  if (w === undefined) fail('the rule ends where an expression should be');
  let expr: NftExpr;
  if (w === 'numgen') {
    const mode = c.next() ?? '';
    if (c.next() !== 'mod' || !isNumber(c.peek())) fail('cannot read numgen');
    const mod = Number(c.next());
    let offset = 0;
    if (c.peek() === 'offset') {
      c.next();
      offset = Number(c.next());
    }
    expr = { kind: 'numgen', mode, mod, offset };
  } else if (w === 'fib') {
    const flags: string[] = [c.next() ?? ''];
    while (c.peek() === '.') {
      c.next();
      flags.push(c.next() ?? '');
    }
    const result = c.next() ?? '';
    expr = { kind: 'field', name: `fib ${flags.join(' . ')} ${result}` };
  } else if (FIELDS[w] && FIELDS[w]?.includes(c.peek() ?? '')) {
    expr = { kind: 'field', name: `${w} ${c.next()}` };
  } else if (BARE_META.has(w)) {
    expr = { kind: 'field', name: `meta ${w}` };
  } else {
    fail(`"${w}" is not an expression loopscope reads`);
  }
  const op = BINOPS[c.peek() ?? ''];
  if (op && isNumber(c.peek(1))) {
    c.next();
    expr = { kind: 'binop', op, left: expr, right: Number(c.next()) };
  }
  return expr;
}

/** One value: `10.0.0.0/8`, `1.2.3.4-1.2.3.9`, `tcp`, `new,established`, `a . b . c`. */
function parseValue(c: Cursor): NftValue {
  const parts: NftValue[] = [parseAtom(c)];
  while (c.peek() === '.') {
    c.next();
    parts.push(parseAtom(c));
  }
  return parts.length === 1 ? (parts[0] as NftValue) : { kind: 'concat', parts };
}

function parseAtom(c: Cursor): NftValue {
  const tok = c.t[c.i];
  if (!tok || (!tok.quoted && ['{', '}', ',', ':', ';'].includes(tok.text))) fail('a value is missing');
  c.i++;
  let text = tok.text;
  // `new,established` (ct state): commas between words with no spaces are one value.
  while (
    !tok.quoted &&
    c.peek() === ',' &&
    c.t[c.i]?.line === tok.line &&
    !c.inBraces &&
    /^[a-z]+$/.test(c.peek(1) ?? '') &&
    !STATEMENT_WORDS.has(c.peek(1) ?? '')
  ) {
    c.next();
    text += ',' + c.next();
  }
  const dash = !tok.quoted && !text.includes(':') ? text.indexOf('-', 1) : -1;
  if (dash > 0 && /^[\d.]+$|^0x/.test(text.slice(0, dash))) return { kind: 'range', from: text.slice(0, dash), to: text.slice(dash + 1) };
  if (!tok.quoted && text.includes('-') && text.includes(':') && !text.includes('/')) {
    // IPv6 range `fd00::1-fd00::9`
    const [a = '', b = ''] = text.split('-');
    if (a.includes(':') && b.includes(':')) return { kind: 'range', from: a, to: b };
  }
  return { kind: 'word', text };
}

function parseVerdict(c: Cursor): NftVerdict {
  const w = c.next();
  switch (w) {
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
      return { kind: w };
    case 'jump':
    case 'goto': {
      const target = c.next();
      if (!target) fail(`${w} needs a chain`);
      return { kind: w, target };
    }
    case 'reject': {
      let withText: string | null = null;
      if (c.peek() === 'with') {
        c.next();
        const words: string[] = [];
        while (!c.done() && !STATEMENT_WORDS.has(c.peek() ?? '') && c.peek() !== ',' && c.peek() !== '}') words.push(c.next() as string);
        withText = words.join(' ');
      }
      return { kind: 'reject', with: withText };
    }
    default:
      return fail(`"${w ?? ''}" is not a verdict`);
  }
}

/** `{ a, b . c : goto x, … }`: elements of an anonymous set or map, and of a named set's `elements =`. */
export function parseElements(c: Cursor): NftElement[] {
  if (c.next() !== '{') fail('expected "{"');
  c.inBraces = true;
  const out: NftElement[] = [];
  try {
    for (;;) {
      while (c.peek() === '\n' || c.peek() === ',') c.next();
      if (c.peek() === '}') {
        c.next();
        return out;
      }
      if (c.done()) fail('a "{" is not closed');
      const key = parseValue(c);
      let verdict: NftVerdict | null = null;
      let data: string | null = null;
      // Element attributes nft prints: comment, timeout, expires, counter.
      for (;;) {
        const a = c.peek();
        if (a === 'comment') {
          c.next();
          c.next();
        } else if (a === 'timeout' || a === 'expires') {
          c.next();
          c.next();
        } else if (a === 'counter') {
          c.next();
          while (c.peek() === 'packets' || c.peek() === 'bytes') {
            c.next();
            c.next();
          }
        } else break;
      }
      if (c.peek() === ':') {
        c.next();
        const v = c.peek();
        if (v === 'accept' || v === 'drop' || v === 'return' || v === 'continue' || v === 'jump' || v === 'goto' || v === 'reject')
          verdict = parseVerdict(c);
        else {
          const words: string[] = [];
          while (!c.done() && c.peek() !== ',' && c.peek() !== '}' && c.peek() !== '\n') words.push(c.next() as string);
          data = words.join(' ');
        }
      }
      out.push({ key, verdict, data });
      const sep = c.peek();
      if (sep !== ',' && sep !== '}' && sep !== '\n') fail(`unexpected "${sep ?? 'end of rule'}" in a set`);
    }
  } finally {
    c.inBraces = false;
  }
}

function parseOperand(c: Cursor): NftOperand {
  const w = c.peek();
  if (w?.startsWith('@')) {
    c.next();
    return { kind: 'setRef', name: w.slice(1) };
  }
  if (w === '{') return { kind: 'set', elements: parseElements(c) };
  return { kind: 'value', value: parseValue(c) };
}

/** `dnat to 10.180.0.1:80`, `dnat ip to [fd00::1]:80`, `snat to 1.2.3.4`. */
function parseNat(c: Cursor, type: 'dnat' | 'snat'): NftStatement {
  if (c.peek() === 'ip' || c.peek() === 'ip6') c.next();
  if (c.next() !== 'to') fail(`${type} without "to"`);
  const target = c.next() ?? '';
  if (target === '' || FIELDS[target] || target === 'numgen') fail(`${type} to a map or an expression is not evaluated by loopscope`);
  // nft prints flags after the address: `dnat to 10.0.0.1:80 fully-random`.
  while (['random', 'fully-random', 'persistent'].includes(c.peek() ?? '')) c.next();
  let addr: string | null = target;
  let port: string | null = null;
  const v6 = /^\[([^\]]+)\](?::(.+))?$/.exec(target);
  if (v6) {
    addr = v6[1] as string;
    port = v6[2] ?? null;
  } else if (target.startsWith(':')) {
    addr = null;
    port = target.slice(1);
  } else if ((target.match(/:/g) ?? []).length === 1) {
    [addr, port] = target.split(':') as [string, string];
  }
  return { kind: 'nat', type, addr, port };
}

function parseMasquerade(c: Cursor, kind: 'masquerade' | 'redirect'): NftStatement {
  let port: string | null = null;
  let fullyRandom = false;
  if (c.peek() === 'to') {
    c.next();
    port = (c.next() ?? '').replace(/^:/, '');
  }
  while (!c.done()) {
    const w = c.peek() as string;
    const flags = w.split(',');
    if (!flags.every((f) => ['random', 'fully-random', 'persistent'].includes(f))) break;
    if (flags.includes('fully-random')) fullyRandom = true;
    c.next();
  }
  return kind === 'masquerade' ? { kind: 'masquerade', fullyRandom, port } : { kind: 'redirect', port };
}

/** `mark set mark or 0x4000`, `meta mark set 0x1`, `ct mark set …` (the connection's, passive). */
function parseSet(c: Cursor, target: string): NftStatement {
  if (target === 'ct mark') {
    parseOperandOrExpr(c);
    return { kind: 'passive', name: 'ct mark set' };
  }
  if (target !== 'meta mark') fail(`${target} set is not evaluated by loopscope`);
  if (isNumber(c.peek())) return { kind: 'markSet', value: Number(c.next()) };
  return { kind: 'markSet', value: parseExpr(c) };
}

function parseOperandOrExpr(c: Cursor): void {
  if (isNumber(c.peek())) c.next();
  else parseExpr(c);
}

function skipLog(c: Cursor): void {
  while (['prefix', 'level', 'group', 'snaplen', 'queue-threshold', 'flags'].includes(c.peek() ?? '')) {
    c.next();
    c.next();
  }
}

function parseStatement(c: Cursor): NftStatement | { comment: string } {
  const w = c.peek() as string;
  switch (w) {
    case 'counter':
      c.next();
      while (c.peek() === 'packets' || c.peek() === 'bytes') {
        c.next();
        c.next();
      }
      return { kind: 'passive', name: 'counter' };
    case 'comment':
      c.next();
      return { comment: c.next() ?? '' };
    case 'accept':
    case 'drop':
    case 'return':
    case 'continue':
    case 'jump':
    case 'goto':
    case 'reject':
      return { kind: 'verdict', verdict: parseVerdict(c) };
    case 'dnat':
    case 'snat':
      c.next();
      return parseNat(c, w);
    case 'masquerade':
    case 'redirect':
      c.next();
      return parseMasquerade(c, w);
    case 'log':
      c.next();
      skipLog(c);
      return { kind: 'passive', name: 'log' };
    case 'notrack':
      c.next();
      return { kind: 'passive', name: 'notrack' };
    case 'update':
    case 'add': {
      // `update @affinity { ip saddr }`: fills a set for later connections.
      c.next();
      if (!c.peek()?.startsWith('@')) fail(`${w} needs a set`);
      c.next();
      let depth = 0;
      do {
        const t = c.next();
        if (t === '{') depth++;
        else if (t === '}') depth--;
        else if (t === undefined) fail('a "{" is not closed');
      } while (depth > 0);
      return { kind: 'passive', name: `${w} @set` };
    }
  }
  const left = parseExpr(c);
  if (c.peek() === 'set') {
    c.next();
    if (left.kind !== 'field') fail('set on an expression');
    return parseSet(c, left.name);
  }
  if (c.peek() === 'vmap') {
    c.next();
    return { kind: 'vmap', key: left, map: parseOperand(c) };
  }
  const opWord = c.peek() ?? '';
  const op = OPS[opWord];
  if (op) c.next();
  if (c.done()) fail('a comparison without a value');
  return { kind: 'match', op: op ?? '==', left, right: parseOperand(c) };
}

/** Parses a rule's tokens. Never throws: an unreadable part becomes an `unknown` statement with the rest. */
export function parseRuleTokens(tokens: Token[]): { statements: NftStatement[]; comment: string | null } {
  const c = new Cursor(tokens);
  const statements: NftStatement[] = [];
  let comment: string | null = null;
  while (!c.done()) {
    const from = c.i;
    try {
      const s = parseStatement(c);
      if ('comment' in s) comment = s.comment;
      else statements.push(s);
      if (c.i === from) c.i++; // never spin
    } catch (e) {
      statements.push({
        kind: 'unknown',
        text: c.rest(from),
        reason: e instanceof Refused ? e.message : 'cannot read this part of the rule',
      });
      break;
    }
  }
  return { statements, comment };
}

export { Cursor };
