/**
 * Splits one line of an `iptables-save` / `ipset save` dump into words the way
 * iptables-restore and ipset restore do: whitespace separates words, double or
 * single quotes group them, and inside double quotes a backslash escapes the
 * next character (iptables-save writes `--comment "say \"hi\""`).
 */

export interface Word {
  text: string;
  /** True when the word was quoted: a quoted `-j` is a value, never an option. */
  quoted: boolean;
}

export type SplitResult = { words: Word[]; error: null } | { words: Word[]; error: string };

export function splitWords(line: string): SplitResult {
  // Fast path: most rule lines have no quotes at all.
  if (line.indexOf('"') < 0 && line.indexOf("'") < 0) {
    const words: Word[] = [];
    for (const text of line.split(/[ \t]+/)) if (text !== '') words.push({ text, quoted: false });
    return { words, error: null };
  }
  // A character scanner, not a regex: a 10 MB quoted comment must not overflow the regex stack.
  const words: Word[] = [];
  const n = line.length;
  let text = '';
  let quoted = false;
  let open = false; // a word is being built
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12) {
      if (open) words.push({ text, quoted });
      text = '';
      quoted = false;
      open = false;
      i++;
      continue;
    }
    open = true;
    if (c === 34 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < n && line.charCodeAt(j) !== 34) {
        if (line.charCodeAt(j) === 92 /* \ */ && j + 1 < n) {
          escaped = true;
          j += 2;
        } else j++;
      }
      if (j >= n) {
        // A quote that never closes: keep what follows as the word, and say so.
        words.push({ text: text + line.slice(i + 1), quoted: true });
        return { words, error: 'unterminated double quote' };
      }
      text += escaped ? unescaped(line, i + 1, j) : line.slice(i + 1, j);
      quoted = true;
      i = j + 1;
    } else if (c === 39 /* ' */) {
      const j = line.indexOf("'", i + 1);
      if (j < 0) {
        words.push({ text: text + line.slice(i + 1), quoted: true });
        return { words, error: 'unterminated single quote' };
      }
      text += line.slice(i + 1, j);
      quoted = true;
      i = j + 1;
    } else {
      let j = i + 1;
      while (j < n) {
        const d = line.charCodeAt(j);
        if (d === 32 || d === 9 || d === 10 || d === 13 || d === 11 || d === 12 || d === 34 || d === 39) break;
        j++;
      }
      text += line.slice(i, j);
      i = j;
    }
  }
  if (open) words.push({ text, quoted });
  return { words, error: null };
}

const UTF16 = new TextDecoder('utf-16le');

/** `line[from, to)` with each backslash dropped and the character after it kept: one pass, one string. */
function unescaped(line: string, from: number, to: number): string {
  // Short words (every real comment): the pattern is quickest. Long ones: not the pattern, which
  // takes V8 4 s over a 10 MB comment with 5M escapes.
  if (to - from < 4096) return line.slice(from, to).replace(/\\(.)/g, '$1');
  const out = new Uint16Array(to - from);
  let n = 0;
  for (let k = from; k < to; k++) {
    let c = line.charCodeAt(k);
    if (c === 92 && k + 1 < to) c = line.charCodeAt(++k);
    out[n++] = c;
  }
  return UTF16.decode(out.subarray(0, n));
}

/** Quotes a value for display the way iptables-save does, only when needed. */
export function quoteWord(text: string): string {
  if (text !== '' && !/[\s"'\\]/.test(text)) return text;
  if (text.length < 4096) return '"' + text.replace(/["\\]/g, (m) => '\\' + m) + '"';
  // Long values (a 10 MB comment): one pass into one buffer; a replace callback per quote took 6 s.
  const out = new Uint16Array(text.length * 2 + 2);
  let n = 0;
  out[n++] = 34;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === 34 || c === 92) out[n++] = 92;
    out[n++] = c;
  }
  out[n++] = 34;
  return UTF16.decode(out.subarray(0, n));
}
