/**
 * Events API deliveries already seen, by `event_id`. Slack redelivers an event it thinks was not
 * acknowledged (with `X-Slack-Retry-Num`); the same question must be answered once. Bounded: the
 * oldest ids are forgotten first (Slack retries within minutes, three times at most).
 */
export class SeenDeliveries {
  private readonly ids = new Set<string>();

  constructor(private readonly max = 10_000) {}

  /** True the first time an id is offered; false for a redelivery. */
  firstTime(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }
}
