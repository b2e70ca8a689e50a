/** A parser's finding about one line of a dump. Parsers never throw on bad input: they report. */
export interface DumpProblem {
  /** The file name the caller gave the parser (e.g. `node-1/iptables-save.txt`). */
  file: string;
  /** 1-based line number; 0 when the problem concerns the whole file. */
  line: number;
  message: string;
  /** `error`: the line was skipped or could not be understood; `warning`: kept, but read with care. */
  severity: 'error' | 'warning';
}

/** What every parser returns: all good lines in `value`, and what went wrong with the others. */
export interface ParsedDump<T> {
  value: T;
  problems: DumpProblem[];
}

/** `file:line: message`, the way compilers print it, for logs and CLI output. */
export function formatDumpProblem(p: DumpProblem): string {
  return `${p.file}${p.line > 0 ? `:${p.line}` : ''}: ${p.severity}: ${p.message}`;
}

/** Splits text into lines, accepting \n and \r\n endings. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}
