/**
 * Progress on stderr for a person watching a terminal: one line, rewritten in place. Quiet when
 * stderr is not a terminal (CI logs, pipes), so scripts read only warnings and errors there.
 */
export interface Progress {
  update(message: string): void;
  /** Clears the line (before the result is printed). */
  done(): void;
}

export const QUIET: Progress = { update: () => {}, done: () => {} };

export function terminalProgress(write: (text: string) => void, columns = 100): Progress {
  let shown = false;
  return {
    update(message) {
      shown = true;
      write(`\r\x1b[2K${message.length > columns - 1 ? message.slice(0, columns - 2) + '…' : message}`);
    },
    done() {
      if (shown) write('\r\x1b[2K');
      shown = false;
    },
  };
}
