import type { RateLimitConfig } from './config';

export type RateDecision =
  | { allowed: true }
  /** `tell`: the first refusal in this window gets a reply; later ones are dropped quietly, so a flood gets one answer, not a flood back. */
  | { allowed: false; retryAfterSeconds: number; tell: boolean };

/**
 * A per-user sliding window: at most `questions` in any `perSeconds`. Each question costs the
 * exporters work and a message in the channel, so one person (or a loop in a workflow) cannot
 * drown everyone else's.
 */
export class UserRateLimit {
  private readonly asked = new Map<string, number[]>();
  private readonly told = new Map<string, number>();

  constructor(
    private readonly config: RateLimitConfig,
    private readonly now: () => number = Date.now,
  ) {}

  check(user: string): RateDecision {
    const now = this.now();
    const windowMs = this.config.perSeconds * 1000;
    const times = (this.asked.get(user) ?? []).filter((t) => now - t < windowMs);
    if (times.length < this.config.questions) {
      times.push(now);
      this.asked.set(user, times);
      this.told.delete(user);
      if (this.asked.size > 10_000) this.prune(now, windowMs);
      return { allowed: true };
    }
    this.asked.set(user, times);
    const retryAfterSeconds = Math.max(1, Math.ceil((times[0]! + windowMs - now) / 1000));
    const toldAt = this.told.get(user);
    const tell = toldAt === undefined || now - toldAt >= windowMs;
    if (tell) this.told.set(user, now);
    return { allowed: false, retryAfterSeconds, tell };
  }

  describe(): string {
    return `${this.config.questions} question${this.config.questions === 1 ? '' : 's'} every ${this.config.perSeconds === 60 ? 'minute' : `${this.config.perSeconds} s`}`;
  }

  private prune(now: number, windowMs: number): void {
    for (const [user, times] of this.asked) if (times.every((t) => now - t >= windowMs)) this.asked.delete(user);
    for (const [user, t] of this.told) if (now - t >= windowMs) this.told.delete(user);
  }
}
