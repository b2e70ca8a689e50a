/** Words of `nft list ruleset` text: quoted strings, `{ } ; ,` and newlines as their own tokens. */

export interface Token {
  text: string;
  quoted: boolean;
  line: number;
}

export const NL = '\n';

/** Splits nft text into tokens; `# handle N` comments are kept per line. Never throws. */
export function tokenize(text: string): { tokens: Token[]; handles: Map<number, number> } {
  const tokens: Token[] = [];
  const handles = new Map<number, number>();
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === '\n') {
      tokens.push({ text: NL, quoted: false, line });
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      const end = text.indexOf('\n', i);
      const comment = text.slice(i, end < 0 ? n : end);
      const h = /^#\s*handle\s+(\d+)/.exec(comment);
      if (h) handles.set(line, Number(h[1]));
      i = end < 0 ? n : end;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < n && text[j] !== '"' && text[j] !== '\n') {
        if (text[j] === '\\' && j + 1 < n) j++;
        s += text[j];
        j++;
      }
      tokens.push({ text: s, quoted: true, line });
      i = j < n && text[j] === '"' ? j + 1 : j;
      continue;
    }
    if (c === '{' || c === '}' || c === ';' || c === ',') {
      tokens.push({ text: c, quoted: false, line });
      i++;
      continue;
    }
    let j = i;
    while (j < n && !' \t\r\n{};,"#'.includes(text[j] as string)) j++;
    tokens.push({ text: text.slice(i, j), quoted: false, line });
    i = j;
  }
  return { tokens, handles };
}
