/**
 * Response bodies kept for the analysis they were built from: the bot, the panel and every
 * dashboard viewer ask the same few questions between two analyses. A new analysis drops them all
 * (no stale body keeps an old analysis alive), and the number of distinct queries kept is bounded
 * (a client varying its query string cannot grow it).
 */
export class BodyCache {
  private generation = -1;
  private readonly bodies = new Map<string, string>();

  constructor(private readonly maxEntries = 64) {}

  /** The body kept for `key` of this analysis, if any. */
  peek(generation: number, key: string): string | undefined {
    return generation === this.generation ? this.bodies.get(key) : undefined;
  }

  /**
   * Like `get`, in two turns of the event loop (built, then serialized), so that a probe waiting
   * meanwhile is answered between them. A body built for an analysis replaced meanwhile is
   * returned but not kept.
   */
  async getInTurns(
    generation: number | (() => number),
    key: string,
    build: () => unknown,
    yieldTurn: () => Promise<void>,
  ): Promise<string> {
    const at = typeof generation === 'function' ? generation() : generation;
    const kept = this.peek(at, key);
    if (kept !== undefined) return kept;
    const value = build();
    await yieldTurn();
    const body = JSON.stringify(value);
    const now = typeof generation === 'function' ? generation() : generation;
    return now === at ? this.get(at, key, () => undefined, body) : body;
  }

  /** `generation` names the analysis (Engine.generation): the cache never holds the analysis itself. */
  get(generation: number, key: string, build: () => unknown, serialized?: string): string {
    if (generation !== this.generation) {
      this.bodies.clear();
      this.generation = generation;
    }
    let body = this.bodies.get(key);
    if (body === undefined) {
      body = serialized ?? JSON.stringify(build());
      if (this.bodies.size >= this.maxEntries) this.bodies.delete(this.bodies.keys().next().value!);
      this.bodies.set(key, body);
    }
    return body;
  }
}
