/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that a synthetic cluster is the same for
 * the same seed on every machine and Node version. Never use Math.random or the clock in the
 * generator: both would break that.
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = normalizeSeed(seed);
    const next = (): number => {
      // splitmix32
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): max is below min`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight; entries with weight <= 0 are never picked. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of entries) if (w > 0) total += w;
    if (total <= 0) throw new RangeError('weighted() needs at least one positive weight');
    let r = this.next() * total;
    let last: T | undefined;
    for (const [value, w] of entries) {
      if (w <= 0) continue;
      last = value;
      if (r < w) return value;
      r -= w;
    }
    return last as T;
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }

  /** `length` lowercase hex digits. */
  hex(length: number): string {
    // Built from char codes in one call: a flat string, no rope of small pieces (this runs for every
    // uid and container id of a 150,000-pod cluster).
    const codes = new Array<number>(length);
    for (let i = 0; i < length; i += 8) {
      const v = this.uint32();
      for (let j = 0; j < 8 && i + j < length; j++) codes[i + j] = HEX_CODES[(v >>> (28 - 4 * j)) & 15]!;
    }
    return String.fromCharCode.apply(null, codes);
  }

  /** `length` characters drawn from `alphabet`. */
  chars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet.charAt(Math.floor(this.next() * alphabet.length));
    return out;
  }

  /** An RFC 4122 version-4 UUID, as Kubernetes writes `metadata.uid`. */
  uuid(): string {
    const h = this.hex(32);
    const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** An independent stream derived from this one (so adding draws in one place does not shift another). */
  fork(): SeededRandom {
    return new SeededRandom(this.uint32());
  }
}

function normalizeSeed(seed: number): number {
  if (!Number.isFinite(seed)) return 0;
  const whole = Math.trunc(seed);
  // Fold seeds above 2^32 so that every integer seed is distinct modulo 2^32 and large ones still count.
  return (whole % 4294967296) ^ Math.floor(whole / 4294967296);
}

const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** The alphabet Kubernetes uses for generated name suffixes and pod-template hashes (no vowels). */
export const KUBE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
