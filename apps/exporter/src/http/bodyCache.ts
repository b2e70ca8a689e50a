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

  /** `generation` names the analysis (Engine.generation): the cache never holds the analysis itself. */
  get(generation: number, key: string, build: () => unknown): string {
    if (generation !== this.generation) {
      this.bodies.clear();
      this.generation = generation;
    }
    let body = this.bodies.get(key);
    if (body === undefined) {
      body = JSON.stringify(build());
      if (this.bodies.size >= this.maxEntries) this.bodies.delete(this.bodies.keys().next().value!);
      this.bodies.set(key, body);
    }
    return body;
  }
}
