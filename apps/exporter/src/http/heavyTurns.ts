/**
 * Heavy answers (a report, the links, an explanation, a what-if, a scrape) take their turn one at a
 * time, each after a yield to the event loop. Node runs a request's synchronous work to the end; a
 * dashboard asking for the report, the Services and the links at once would otherwise run them
 * back to back while `/healthz` — already read from its socket — waited behind all three. With a
 * yield before each turn, the probe is answered between them, so it waits for one build at most.
 */
export class HeavyTurns {
  private last: Promise<unknown> = Promise.resolve();

  /** Runs `work` once every earlier turn has finished and the event loop has had a turn. */
  run<T>(work: () => T | Promise<T>): Promise<T> {
    const turn = this.last.then(
      () => yieldToEventLoop().then(work),
      () => yieldToEventLoop().then(work),
    );
    this.last = turn.catch(() => undefined);
    return turn;
  }
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
