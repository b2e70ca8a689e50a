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
      // One pass over the quoted part (a fixed-width pattern: linear), not a piece per escape.
      const part = line.slice(i + 1, j);
      text += escaped ? part.replace(/\\(.)/g, '$1') : part;
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

/** Quotes a value for display the way iptables-save does, only when needed. */
export function quoteWord(text: string): string {
  if (text !== '' && !/[\s"'\\]/.test(text)) return text;
  return '"' + text.replace(/["\\]/g, (m) => '\\' + m) + '"';
}
