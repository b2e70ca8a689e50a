/**
 * Reads the options of one iptables rule (everything after `-A CHAIN`): the
 * generic options (`-s`, `-d`, `-p`, `-i`, `-o`, `-f`, `-c`), `-m MODULE …`
 * groups and the `-j`/`-g` target. Never throws: what it cannot read becomes
 * an `unknown` match carrying the words.
 */

import type { IpFamily } from '../ruleset/cidr';
import { protocolName, parseProtocol } from '../ruleset/protocols';
import type { Word } from '../ruleset/shellWords';
import { interpretMatch, interpretTarget, matchOptionTable, type RuleMatch, type RuleTarget, targetOptionTable } from './extensions';
import { parseAddressList } from './addressList';
import { readOptions, type WordCursor } from './extensions/options';

export interface Counters {
  packets: number;
  bytes: number;
}

export interface RuleBody {
  matches: RuleMatch[];
  target: RuleTarget;
  counters: Counters | null;
  families: Set<IpFamily>;
}

type GenericOption = 'source' | 'destination' | 'protocol' | 'in' | 'out' | 'fragment' | 'match' | 'jump' | 'goto' | 'counters' | 'family';

const GENERIC = new Map<string, GenericOption>(
  Object.entries({
    '-s': 'source',
    '--source': 'source',
    '--src': 'source',
    '-d': 'destination',
    '--destination': 'destination',
    '--dst': 'destination',
    '-p': 'protocol',
    '--protocol': 'protocol',
    '-i': 'in',
    '--in-interface': 'in',
    '-o': 'out',
    '--out-interface': 'out',
    '-f': 'fragment',
    '--fragment': 'fragment',
    '-m': 'match',
    '--match': 'match',
    '-j': 'jump',
    '--jump': 'jump',
    '-g': 'goto',
    '--goto': 'goto',
    '-c': 'counters',
    '--set-counters': 'counters',
    '-4': 'family',
    '--ipv4': 'family',
    '-6': 'family',
    '--ipv6': 'family',
  } satisfies Record<string, GenericOption>),
);

function isGeneric(w: Word | undefined): boolean {
  return !!w && !w.quoted && GENERIC.has(w.text);
}

/** The reader's state over one rule's words. */
class RuleReader implements WordCursor {
  readonly words: Word[];
  i: number;
  /** A pending `!` for the next option. */
  negate = false;
  /** `-p tcp` makes `--dport` readable without `-m tcp` (iptables loads the module implicitly). */
  implicitProtocol: string | null = null;
  readonly body: RuleBody = { matches: [], target: { kind: 'none', text: '' }, counters: null, families: new Set() };

  constructor(words: Word[], start: number) {
    this.words = words;
    this.i = start;
  }

  isGeneric(w: Word | undefined): boolean {
    return isGeneric(w);
  }

  bad(reason: string, from: number, to: number): void {
    const text = this.words
      .slice(from, Math.max(to, from + 1))
      .map((w) => w.text)
      .join(' ');
    this.body.matches.push({ kind: 'unknown', module: '?', reason, text });
  }

  /** The value after a generic option, with old-style `-s ! 10.0.0.0/8` negation; null when missing. */
  takeValue(): string | null {
    const v = this.words[this.i + 1];
    if (!v || (!v.quoted && isGeneric(v))) {
      this.i++; // `-s` at the end of a line, or `-s -j X`: no value
      return null;
    }
    if (!v.quoted && v.text === '!' && this.words[this.i + 2]) {
      this.negate = !this.negate;
      this.i += 3;
      return (this.words[this.i - 1] as Word).text;
    }
    this.i += 2;
    return v.text;
  }

  prefix(): string {
    return this.negate ? '! ' : '';
  }
}

type Handler = (r: RuleReader, option: Word, from: number) => void;

const HANDLERS: Record<GenericOption, Handler> = {
  source: readAddress,
  destination: readAddress,
  protocol(r, w, from) {
    const v = r.takeValue();
    const protocol = v === null ? null : parseProtocol(v);
    if (protocol === null) return r.bad(`unknown protocol "${v ?? ''}"`, from, r.i);
    r.body.matches.push({ kind: 'protocol', negated: r.negate, protocol, text: `${r.prefix()}-p ${v}` });
    if (!r.negate && typeof protocol === 'number') r.implicitProtocol = protocolName(protocol);
  },
  in: readInterface,
  out: readInterface,
  fragment(r) {
    r.body.matches.push({ kind: 'fragment', negated: r.negate, text: `${r.prefix()}-f` });
    r.i++;
  },
  family(r) {
    r.i++;
  },
  counters(r, _w, from) {
    const p = r.words[r.i + 1]?.text ?? '';
    const b = r.words[r.i + 2]?.text ?? '';
    if (/^\d+$/.test(p) && /^\d+$/.test(b)) r.body.counters = { packets: Number(p), bytes: Number(b) };
    else r.bad('-c needs packets and bytes', from, r.i + 3);
    r.i += 3;
  },
  match(r, _w, from) {
    const module = r.words[r.i + 1];
    r.i += 2;
    if (!module || module.quoted) return r.bad('-m needs a module name', from, r.i);
    if (r.negate) r.bad('"!" before -m is not valid', from, r.i);
    const opts = readOptions(r, matchOptionTable(module.text));
    r.body.matches.push(...interpretMatch(module.text, opts));
  },
  jump: readTarget,
  goto: readTarget,
};

function readAddress(r: RuleReader, w: Word, from: number): void {
  const v = r.takeValue();
  const cidrs = v === null ? null : parseAddressList(v);
  if (!cidrs) return r.bad(`cannot read address "${v ?? ''}"`, from, r.i);
  for (const c of cidrs) r.body.families.add(c.family);
  const kind = GENERIC.get(w.text) === 'source' ? 'source' : 'destination';
  r.body.matches.push({ kind, negated: r.negate, cidrs, text: `${r.prefix()}${w.text} ${v}` });
}

function readInterface(r: RuleReader, w: Word, from: number): void {
  const v = r.takeValue();
  if (v === null) return r.bad(`${w.text} needs an interface`, from, r.i);
  const kind = GENERIC.get(w.text) === 'in' ? 'inInterface' : 'outInterface';
  r.body.matches.push({ kind, negated: r.negate, name: v, text: `${r.prefix()}${w.text} ${v}` });
}

function readTarget(r: RuleReader, w: Word, from: number): void {
  const name = r.words[r.i + 1];
  r.i += 2;
  if (!name) return r.bad(`${w.text} needs a target`, from, r.i);
  const goto = GENERIC.get(w.text) === 'goto';
  const opts = readOptions(r, goto ? {} : targetOptionTable(name.text));
  r.body.target = interpretTarget(name.text, goto, opts);
}

/** `--dport 80` after `-p tcp` without `-m tcp`, or a stray word. */
function readStray(r: RuleReader, w: Word): void {
  if (!w.quoted && w.text.startsWith('--') && r.implicitProtocol) {
    const from = r.i;
    const opts = readOptions(r, matchOptionTable(r.implicitProtocol));
    if (r.negate && opts[0]) opts[0].negated = !opts[0].negated;
    r.negate = false;
    if (opts.length === 0) {
      r.bad(`cannot read "${w.text}"`, from, from + 1);
      r.i = from + 1;
    } else r.body.matches.push(...interpretMatch(r.implicitProtocol, opts));
    return;
  }
  r.bad(`unexpected word "${w.text}"`, r.i, r.i + 1);
  r.i++;
  r.negate = false;
}

/** Reads the options of one rule, from word `start` on. */
export function parseRuleOptions(words: Word[], start: number): RuleBody {
  const r = new RuleReader(words, start);
  let lastStart = -1;
  while (r.i < words.length) {
    // Every pass must consume a word; if one did not, skip a word rather than spin.
    if (r.i === lastStart) r.i++;
    lastStart = r.i;
    if (r.i >= words.length) break;
    const w = words[r.i] as Word;
    if (!w.quoted && w.text === '!') {
      r.negate = !r.negate;
      r.i++;
      continue;
    }
    const kind = w.quoted ? undefined : GENERIC.get(w.text);
    if (kind === undefined) {
      readStray(r, w);
      continue;
    }
    HANDLERS[kind](r, w, r.i);
    // A `!` before -j/-g applies to nothing; before anything else it was used.
    if (kind !== 'jump' && kind !== 'goto') r.negate = false;
  }
  if (r.negate) r.bad('dangling "!" at the end of the rule', words.length - 1, words.length);
  return r.body;
}
