/**
 * The attack suite runs in two forms: a quick one under `npm test`, and a longer one under
 * `npm run fuzz` (which sets LOOPSCOPE_ATTACK=long; npm's lifecycle name says so too).
 */
export const LONG_ATTACK = process.env.LOOPSCOPE_ATTACK === 'long' || process.env.npm_lifecycle_event === 'fuzz';

/** The quick figure under `npm test`, the long one under `npm run fuzz`. */
export function attackScale<T>(quick: T, long: T): T {
  return LONG_ATTACK ? long : quick;
}

/** A stack trace in a process's output: "at fn (file:line:col)" or "at file:line:col", on its own line or escaped into one. */
export const STACK_TRACE = /(?:^|\\n|\n)\s*at (?:async )?(?:\S+ \()?(?:node:|file:|\/)\S*:\d+:\d+\)?/m;

/** A small seeded generator (Park–Miller), so a fuzz failure can be replayed from its seed. */
export class SeededFuzz {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state * 48271) % 2147483647;
    return this.state / 2147483647;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}
