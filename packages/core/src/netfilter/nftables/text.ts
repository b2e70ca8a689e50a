/**
 * `nft list ruleset` text (with or without `-a` handles) into an `NftDump`.
 * Never throws: every block or line it cannot read is reported with its line
 * and skipped; rules it cannot fully read are kept with an `unknown` part.
 */

import type { DumpProblem, ParsedDump } from '../ruleset/problems';
import type { NftChain, NftDump, NftSet, NftTable } from './model';
import { Cursor, parseElements, parseRuleTokens } from './ruleText';
import { NL, type Token, tokenize } from './tokens';
import { parsePriority } from './priority';

const TABLE_FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);

/** The tokens of one line (a `{ … }` spanning lines stays whole), without the newline. */
function takeLine(tokens: Token[], at: { i: number }, endsAtSemicolon = false): Token[] {
  const out: Token[] = [];
  let depth = 0;
  while (at.i < tokens.length) {
    const t = tokens[at.i] as Token;
    if (!t.quoted && depth === 0 && (t.text === NL || (endsAtSemicolon && t.text === ';'))) {
      at.i++;
      break;
    }
    at.i++;
    if (!t.quoted && t.text === '{') depth++;
    if (!t.quoted && t.text === '}') {
      if (depth === 0) {
        at.i--; // the enclosing block's end
        break;
      }
      depth--;
    }
    out.push(t);
  }
  return out;
}

/** `table ip x {`, `chain c {`, `set s {`: the header words, the `{` consumed; null (nothing consumed) when the line is no block. */
function takeBlockHeader(tokens: Token[], at: { i: number }, keywords: readonly string[]): Token[] | null {
  while (tokens[at.i]?.text === NL && !tokens[at.i]?.quoted) at.i++;
  const first = tokens[at.i];
  if (!first || first.quoted || !keywords.includes(first.text)) return null;
  const out: Token[] = [];
  for (let j = at.i; j < tokens.length; j++) {
    const t = tokens[j] as Token;
    if (t.quoted) {
      out.push(t);
      continue;
    }
    if (t.text === NL || t.text === '}' || t.text === ';') return null;
    if (t.text === '{') {
      at.i = j + 1;
      return out;
    }
    out.push(t);
  }
  return null;
}

/** Skips a `{ … }` block whose `{` is at `at.i - 1`. */
function skipBlock(tokens: Token[], at: { i: number }): void {
  let depth = 1;
  while (at.i < tokens.length && depth > 0) {
    const t = tokens[at.i++] as Token;
    if (t.quoted) continue;
    if (t.text === '{') depth++;
    else if (t.text === '}') depth--;
  }
}

export function parseNftText(text: string, file: string): ParsedDump<NftDump> {
  const problems: DumpProblem[] = [];
  const dump: NftDump = { file, format: 'text', tables: [] };
  const report = (line: number, message: string, severity: DumpProblem['severity'] = 'error') =>
    problems.push({ file, line, message, severity });
  if (typeof text !== 'string') {
    report(0, 'not text');
    return { value: dump, problems };
  }
  const { tokens, handles } = tokenize(text);
  const at = { i: 0 };
  while (at.i < tokens.length) {
    const header = takeBlockHeader(tokens, at, ['table']);
    if (header) {
      const family = header[1]?.text ?? '';
      const name = header[2]?.text ?? '';
      const lineNo = header[0]?.line ?? 0;
      if (!name) report(lineNo, 'a table without a family and name');
      if (!TABLE_FAMILIES.has(family)) report(lineNo, `table family "${family}" is not one nft knows`, 'warning');
      const table: NftTable = { family, name, line: lineNo, chains: new Map(), sets: new Map(), problems: [] };
      dump.tables.push(table);
      parseTableBody(tokens, at, table, file, handles, report);
      continue;
    }
    const line = takeLine(tokens, at);
    if (line.length === 0) {
      if (tokens[at.i]?.text === '}') {
        report(tokens[at.i]?.line ?? 0, 'a "}" closes nothing');
        at.i++;
      }
      continue;
    }
    report(line[0]?.line ?? 0, `expected "table FAMILY NAME {", found "${lineText(line).slice(0, 60)}"; skipped`);
  }
  for (const t of dump.tables) {
    const warn = (line: number, message: string) => {
      const p: DumpProblem = { file, line, message, severity: 'warning' };
      t.problems.push(p);
      problems.push(p);
    };
    for (const c of t.chains.values()) {
      for (const r of c.rules) {
        for (const s of r.statements) {
          if (s.kind === 'unknown') warn(r.line, `${s.reason}; kept as a part loopscope cannot evaluate`);
          if (s.kind === 'verdict' && (s.verdict.kind === 'jump' || s.verdict.kind === 'goto') && !t.chains.has(s.verdict.target))
            warn(r.line, `rule ${s.verdict.kind}s to chain ${s.verdict.target}, which table ${t.family} ${t.name} does not define`);
        }
      }
    }
  }
  return { value: dump, problems };
}

type Report = (line: number, message: string, severity?: DumpProblem['severity']) => void;

function parseTableBody(
  tokens: Token[],
  at: { i: number },
  table: NftTable,
  file: string,
  handles: Map<number, number>,
  report: Report,
): void {
  for (;;) {
    if (at.i >= tokens.length) {
      report(table.line, `table ${table.family} ${table.name} is not closed (truncated dump?); what was read is kept`, 'warning');
      return;
    }
    if (tokens[at.i]?.text === '}' && !tokens[at.i]?.quoted) {
      at.i++;
      return;
    }
    const header = takeBlockHeader(tokens, at, [
      'chain',
      'set',
      'map',
      'flowtable',
      'counter',
      'quota',
      'ct',
      'limit',
      'secmark',
      'synproxy',
    ]);
    if (header) {
      const kw = header[0] as Token;
      const name = header[1]?.text ?? '';
      if (kw.text === 'chain') {
        const chain: NftChain = { name, table: table.name, family: table.family, base: null, line: kw.line, rules: [] };
        if (table.chains.has(name)) report(kw.line, `chain ${name} defined twice; the second is used`, 'warning');
        table.chains.set(name, chain);
        parseChainBody(tokens, at, table, chain, file, handles, report);
      } else if (kw.text === 'set' || kw.text === 'map') {
        const set: NftSet = { name, keyTypes: [], dataType: null, flags: [], elements: [], line: kw.line };
        table.sets.set(name, set);
        parseSetBody(tokens, at, set, report);
      } else {
        // flowtable, named counters, quotas, ct helpers…: not part of the trace.
        skipBlock(tokens, at);
      }
      continue;
    }
    const line = takeLine(tokens, at);
    if (line.length === 0) continue;
    const kw = line[0] as Token;
    if (kw.text === 'comment' || kw.text === 'flags') continue;
    report(
      kw.line,
      `unexpected "${line
        .map((t) => t.text)
        .join(' ')
        .slice(0, 60)}" in table ${table.name}; skipped`,
    );
  }
}

function parseChainBody(
  tokens: Token[],
  at: { i: number },
  table: NftTable,
  chain: NftChain,
  file: string,
  handles: Map<number, number>,
  report: Report,
): void {
  for (;;) {
    if (at.i >= tokens.length) {
      report(chain.line, `chain ${chain.name} is not closed (truncated dump?); its rules are kept`, 'warning');
      return;
    }
    if (tokens[at.i]?.text === '}' && !tokens[at.i]?.quoted) {
      at.i++;
      return;
    }
    const line = takeLine(tokens, at);
    if (line.length === 0) continue;
    const kw = line[0] as Token;
    if (kw.text === 'type' && line.some((t) => t.text === 'hook')) {
      chain.base = parseBaseSpec(line, table.family, report);
      continue;
    }
    if (kw.text === 'policy' || (kw.text === 'comment' && line.length === 2) || kw.text === 'devices') continue;
    const { statements, comment } = parseRuleTokens(line.filter((t) => t.quoted || t.text !== ';'));
    const text = lineText(line);
    chain.rules.push({
      table: table.name,
      family: table.family,
      chain: chain.name,
      position: chain.rules.length + 1,
      handle: handles.get(kw.line) ?? null,
      text,
      comment,
      file,
      line: kw.line,
      statements,
    });
  }
}

function lineText(line: Token[]): string {
  return line
    .map((t) => (t.quoted ? JSON.stringify(t.text) : t.text))
    .join(' ')
    .replace(/ ([,;])/g, '$1');
}

/** `type nat hook prerouting priority dstnat; policy accept;` (also on one line with `;`s). */
function parseBaseSpec(line: Token[], family: string, report: Report): NftChain['base'] {
  const words = line.filter((t) => t.text !== ';').map((t) => t.text);
  const get = (k: string) => {
    const i = words.indexOf(k);
    return i < 0 ? undefined : words[i + 1];
  };
  const type = get('type') ?? 'filter';
  const hook = get('hook') ?? '';
  const pi = words.indexOf('priority');
  let prioWords: string[] = [];
  if (pi >= 0) {
    prioWords = [words[pi + 1] ?? ''];
    if ((words[pi + 2] === '+' || words[pi + 2] === '-') && words[pi + 3]) prioWords.push(words[pi + 2] as string, words[pi + 3] as string);
  }
  const priority = parsePriority(prioWords.join(' '), family);
  if (priority === null) report(line[0]?.line ?? 0, `cannot read priority "${prioWords.join(' ')}"; assumed 0`, 'warning');
  const policy = get('policy') === 'drop' ? 'drop' : 'accept';
  return { type, hook, priority: priority ?? 0, policy };
}

function parseSetBody(tokens: Token[], at: { i: number }, set: NftSet, report: Report): void {
  for (;;) {
    if (at.i >= tokens.length) {
      report(set.line, `set ${set.name} is not closed (truncated dump?)`, 'warning');
      return;
    }
    if (tokens[at.i]?.text === '}' && !tokens[at.i]?.quoted) {
      at.i++;
      return;
    }
    // `set s { type ipv4_addr ; flags interval ; elements = { … } }` may be one line.
    const line = takeLine(tokens, at, true);
    if (line.length === 0) continue;
    const kw = line[0]?.text;
    const words = line.map((t) => t.text).filter((w) => w !== ';');
    if (kw === 'type' || kw === 'typeof') {
      const colon = words.indexOf(':');
      const key = words.slice(1, colon < 0 ? undefined : colon).filter((w) => w !== '.');
      set.keyTypes = kw === 'type' ? key : [];
      set.dataType = colon < 0 ? null : (words[colon + 1] ?? null);
    } else if (kw === 'flags') {
      set.flags = words.slice(1).filter((w) => w !== ',');
    } else if (kw === 'elements') {
      const c = new Cursor(line.slice(2).filter((t) => t.quoted || t.text !== NL));
      try {
        set.elements = parseElements(c);
      } catch (e) {
        report(
          line[0]?.line ?? 0,
          `cannot read the elements of ${set.name} (${e instanceof Error ? e.message : 'bad element'}); the set is taken as empty`,
        );
      }
    }
    // size, timeout, gc-interval, policy, comment, counter: not needed for a lookup.
  }
}
