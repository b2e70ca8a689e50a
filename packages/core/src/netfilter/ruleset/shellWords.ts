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
  const words: Word[] = [];
  let text = '';
  let quoted = false;
  let open = false; // a word is being built
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < line.length) {
    const m = TOKEN.exec(line);
    if (!m) break;
    if (m[4] !== undefined) {
      if (open) words.push({ text, quoted });
      text = '';
      quoted = false;
      open = false;
    } else if (m[5] !== undefined) {
      // A quote that never closes: keep what follows as the word, and say so.
      text += line.slice(TOKEN.lastIndex);
      words.push({ text, quoted: true });
      return { words, error: `unterminated ${m[5] === '"' ? 'double' : 'single'} quote` };
    } else {
      open = true;
      if (m[1] !== undefined) {
        quoted = true;
        text += m[1].indexOf('\\') >= 0 ? m[1].replace(/\\(.)/g, '$1') : m[1];
      } else if (m[2] !== undefined) {
        quoted = true;
        text += m[2];
      } else text += m[3];
    }
  }
  if (open) words.push({ text, quoted });
  return { words, error: null };
}

/** "double quoted, backslash escapes" | 'single quoted' | plain | whitespace | a lone quote. */
const TOKEN = /"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"']+)|(\s+)|(["'])/y;

/** Quotes a value for display the way iptables-save does, only when needed. */
export function quoteWord(text: string): string {
  if (text !== '' && !/[\s"'\\]/.test(text)) return text;
  return '"' + text.replace(/["\\]/g, (m) => '\\' + m) + '"';
}
