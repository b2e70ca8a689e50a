/** IPv4 arithmetic for laying out synthetic VPCs, pod ranges and Service ranges. */

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`not an IPv4 address: ${ip}`);
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return `${Math.floor(n / 16777216) % 256}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/** The smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Prefix length of a block of `size` addresses (size a power of two). */
export function prefixOf(size: number): number {
  return 32 - Math.round(Math.log2(size));
}

export function alignUp(n: number, size: number): number {
  return Math.ceil(n / size) * size;
}

export function cidr(base: number, size: number): string {
  return `${intToIp(base)}/${prefixOf(size)}`;
}

/** A block of addresses, handed out in aligned sub-blocks or one address at a time. */
export class AddressBlock {
  private cursor: number;

  constructor(
    readonly base: number,
    readonly size: number,
  ) {
    this.cursor = base;
  }

  get cidr(): string {
    return cidr(this.base, this.size);
  }

  /** The next aligned sub-block of `size` addresses. */
  take(size: number): AddressBlock {
    const start = alignUp(this.cursor, size);
    if (start + size > this.base + this.size) {
      throw new RangeError(`address block ${this.cidr} is full (asked for /${prefixOf(size)})`);
    }
    this.cursor = start + size;
    return new AddressBlock(start, size);
  }

  /** The next single address. */
  next(): number {
    if (this.cursor >= this.base + this.size) throw new RangeError(`address block ${this.cidr} is full`);
    return this.cursor++;
  }

  /** Skips `count` addresses (reserved by the cloud, gateways). */
  skip(count: number): this {
    this.cursor += count;
    return this;
  }
}
