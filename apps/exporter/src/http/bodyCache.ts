import { stringifyInTurns } from './jsonInTurns';

/** A response body: UTF-8 JSON in chunks, sent as they are. */
export type Body = readonly Buffer[];

/**
 * Response bodies kept for the analysis they were built from: the bot, the panel and every
 * dashboard viewer ask the same few questions between two analyses. A new analysis drops them all
 * (no stale body keeps an old analysis alive), and the number of distinct queries kept is bounded
 * (a client varying its query string cannot grow it).
 */
export class BodyCache {
  private generation = -1;
  private readonly bodies = new Map<string, Body>();

  constructor(private readonly maxEntries = 64) {}

  /** The body kept for `key` of this analysis, if any. */
  peek(generation: number, key: string): Body | undefined {
    return generation === this.generation ? this.bodies.get(key) : undefined;
  }

  /**
   * The body for `key`, built over many turns of the event loop (`build` may take its own; the
   * serialization is sliced), so that a probe waiting meanwhile is answered between them.
   * `generation` names the analysis (Engine.generation; the cache never holds the analysis itself):
   * a body built for an analysis replaced meanwhile is returned but not kept.
   */
  async getInTurns(
    generation: () => number,
    key: string,
    build: () => unknown | Promise<unknown>,
    yieldTurn: () => Promise<void>,
  ): Promise<Body> {
    const at = generation();
    const kept = this.peek(at, key);
    if (kept !== undefined) return kept;
    const value = await build();
    await yieldTurn();
    const body = await stringifyInTurns(value, yieldTurn);
    if (generation() === at) this.keep(at, key, body);
    return body;
  }

  private keep(generation: number, key: string, body: Body): void {
    if (generation !== this.generation) {
      this.bodies.clear();
      this.generation = generation;
    }
    if (this.bodies.size >= this.maxEntries) this.bodies.delete(this.bodies.keys().next().value!);
    this.bodies.set(key, body);
  }
}
