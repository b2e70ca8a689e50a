/**
 * How many questions are answered at once. Each answer asks the exporters and renders a message;
 * unbounded, a burst of a thousand questions would keep the event loop so busy that Slack's
 * three-second acknowledgements come late. A few answers run, a bounded queue waits, and anything
 * past that is told the bot is busy (the caller replies; nothing is computed for it).
 */
export class AnswerSlots {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    readonly concurrent: number,
    readonly queued: number,
  ) {}

  /** Starts `work` now or when a slot frees up; false (and `work` never runs) when the queue is full. */
  offer(work: () => Promise<void>): boolean {
    if (this.active >= this.concurrent && this.queue.length >= this.queued) return false;
    const run = (): void => {
      this.active++;
      work()
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          this.queue.shift()?.();
        });
    };
    if (this.active < this.concurrent) run();
    else this.queue.push(run);
    return true;
  }

  get busy(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.queue.length };
  }
}
