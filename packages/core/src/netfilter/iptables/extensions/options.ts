/**
 * Reading the `[!] --option values…` groups of a `-m MODULE` or `-j TARGET`
 * with the extension's own option table: each option takes exactly the values
 * it declares (`--tcp-flags` two, `--syn` none, `--comment` the rest of its
 * text). An option no table lists takes the words up to the next option —
 * a guess, and the extension then refuses it, so it is only ever "unknown".
 */

import { quoteWord, type Word } from '../../ruleset/shellWords';
import type { Arity, ExtensionOption } from './types';

/** The rule's words and the reader's position; `isGeneric` tells `-s`, `-j`… apart from values. */
export interface WordCursor {
  words: Word[];
  i: number;
  isGeneric(w: Word | undefined): boolean;
}

function isOptionStart(c: WordCursor, w: Word | undefined): boolean {
  return !!w && !w.quoted && (w.text.startsWith('--') || c.isGeneric(w));
}

function isBang(w: Word | undefined): boolean {
  return !!w && !w.quoted && w.text === '!';
}

function takeValues(c: WordCursor, opt: ExtensionOption, arity: Arity | undefined): void {
  const n = c.words.length;
  const limit = typeof arity === 'number' ? arity : Infinity;
  while (c.i < n && opt.values.length < limit) {
    const v = c.words[c.i] as Word;
    if (isBang(v)) {
      const next = c.words[c.i + 1];
      // Old syntax `--dport ! 80` negates this option; `! --next` belongs to the next one.
      if (opt.values.length === 0 && next && !isOptionStart(c, next) && (next.quoted || !next.text.startsWith('-'))) {
        opt.negated = !opt.negated;
        c.i++;
        continue;
      }
      break;
    }
    if (isOptionStart(c, v)) break;
    opt.values.push(v.text);
    c.i++;
  }
}

/**
 * Reads options from `c.i` until the next generic option or a word that is no
 * option (left for the caller to report). A dangling `!` is left unread.
 */
export function readOptions(c: WordCursor, table: Readonly<Record<string, Arity>>): ExtensionOption[] {
  const opts: ExtensionOption[] = [];
  let neg = false;
  const n = c.words.length;
  while (c.i < n) {
    const w = c.words[c.i] as Word;
    if (isBang(w)) {
      if (c.isGeneric(c.words[c.i + 1])) break;
      neg = true;
      c.i++;
      continue;
    }
    if (c.isGeneric(w) || w.quoted || !w.text.startsWith('--')) break;
    const name = w.text.slice(2);
    const opt: ExtensionOption = { name, negated: neg, values: [] };
    neg = false;
    c.i++;
    takeValues(c, opt, Object.hasOwn(table, name) ? table[name] : undefined);
    opts.push(opt);
  }
  if (neg) c.i--; // a dangling `!` is left for the caller to report
  return opts;
}

/** The group as text again, quoting what needs it: `-m set --match-set KUBE-X dst,dst`. */
export function optionsText(prefix: string, options: readonly ExtensionOption[]): string {
  const parts = [prefix];
  for (const o of options) {
    if (o.negated) parts.push('!');
    parts.push('--' + o.name, ...o.values.map(quoteWord));
  }
  return parts.join(' ');
}
