/**
 * Text that reaches a terminal with names from outside (cluster objects, dumps, questions) must not
 * carry escape sequences: ESC/CSI move the cursor, rewrite earlier lines or set the window title,
 * and bidirectional overrides reorder what is shown. Each such character becomes its visible
 * `\uXXXX` form, which is also what JSON would write, so JSON output stays valid and equal.
 */
// C0 except tab and newline, DEL, C1, line/paragraph separators, bidi embeddings/overrides/isolates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
