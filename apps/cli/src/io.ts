/** Where a command writes. Injected so tests can run commands in-process as well as as a process. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads standard input fully (for `--snapshot -`). */
  readStdin(): Promise<string>;
}

/** Bad flags or bad input: the CLI prints the message (no stack trace) and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Command = (args: string[], io: CliIO) => Promise<number>;
