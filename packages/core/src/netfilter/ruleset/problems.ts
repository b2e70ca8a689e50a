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

/** A message quotes names from the dump: a 1 MB chain name must not make a 1 MB message. */
export const MAX_PROBLEM_CHARS = 500;

function clipped(p: DumpProblem): DumpProblem {
  if (p.message.length <= MAX_PROBLEM_CHARS) return p;
  return { ...p, message: `${p.message.slice(0, MAX_PROBLEM_CHARS)}… (${p.message.length - MAX_PROBLEM_CHARS} more characters)` };
}

/** Problems kept per parsed file: past it one line says how many more there were. */
export const MAX_PROBLEMS_PER_FILE = 1000;

/**
 * Appends one parser's problems to a list, at most MAX_PROBLEMS_PER_FILE of them (a loop, not
 * `push(...many)`, which overflows the stack on 130k unreadable lines).
 */
export function appendProblems(target: DumpProblem[], found: readonly DumpProblem[]): void {
  const kept = Math.min(found.length, MAX_PROBLEMS_PER_FILE);
  for (let k = 0; k < kept; k++) target.push(clipped(found[k] as DumpProblem));
  if (found.length > kept) {
    const first = found[0] as DumpProblem;
    const errors = found.reduce((n, p) => n + (p.severity === 'error' ? 1 : 0), 0);
    target.push({
      file: first.file,
      line: 0,
      message: `… and ${found.length - kept} more problem(s) in this file (${errors} error(s) in all); only the first ${kept} are listed`,
      severity: errors > 0 ? 'error' : 'warning',
    });
  }
}
