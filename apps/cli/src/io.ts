import type { Progress } from './progress';

/** Where a command writes. Injected so tests can run commands in-process as well as as a process. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /**
   * Reads standard input fully (for `--snapshot -`), capped like every input
   * (LOOPSCOPE_MAX_INPUT_BYTES); `label` names it in errors (`--snapshot -`).
   */
  readStdin(label?: string): Promise<string>;
  /** Progress of long work (reading, analysing); quiet unless a person watches stderr. */
  progress?: Progress;
  /** Whether stdout is a terminal: JSON is indented for a person, compact for a pipe or a file. */
  stdoutIsTTY?: boolean;
}

/** Bad flags or bad input: the CLI prints the message (no stack trace) and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Command = (args: string[], io: CliIO) => Promise<number>;

/** JSON for stdout: compact when asked, or when stdout is not a terminal (a pipe, a file: 5× smaller at scale). */
export function jsonText(value: unknown, io: CliIO, compact: boolean | undefined): string {
  return (compact || !io.stdoutIsTTY ? JSON.stringify(value) : JSON.stringify(value, null, 2)) + '\n';
}
