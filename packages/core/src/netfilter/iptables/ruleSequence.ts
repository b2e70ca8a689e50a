/**
 * A chain's rules while a dump is read: `-A` appends, `-I [N]` inserts at a position. An array's
 * `splice` per `-I` made 100k inserts quadratic; blocks of at most BLOCK rules keep each insert
 * to a walk over the blocks plus a splice inside one block (about √n work), and `-I` at the top
 * (kube-proxy's usual form) to a push onto a reversed prefix.
 */
const BLOCK = 512;

export class RuleSequence<T> {
  /** Rules inserted at position 1, newest last (read in reverse). */
  private readonly top: T[] = [];
  private readonly blocks: T[][] = [[]];
  private count = 0;

  get length(): number {
    return this.count;
  }

  append(rule: T): void {
    let last = this.blocks[this.blocks.length - 1] as T[];
    if (last.length >= BLOCK) this.blocks.push((last = []));
    last.push(rule);
    this.count++;
  }

  /** Inserts so that the rule becomes number `position` (1-based); past the end it appends. */
  insert(position: number, rule: T): void {
    if (position <= 1) {
      this.top.push(rule);
      this.count++;
      return;
    }
    if (position > this.count) return this.append(rule);
    let at = position - 1;
    if (this.top.length > 0) this.flushTop();
    for (let b = 0; b < this.blocks.length; b++) {
      const block = this.blocks[b] as T[];
      if (at <= block.length) {
        block.splice(at, 0, rule);
        if (block.length > 2 * BLOCK) this.blocks.splice(b + 1, 0, block.splice(BLOCK));
        this.count++;
        return;
      }
      at -= block.length;
    }
    this.append(rule);
  }

  /** Moves the top-inserted rules into the first block (only when a positional insert needs indexes). */
  private flushTop(): void {
    const front = this.top.slice().reverse();
    this.top.length = 0;
    for (let k = 0; k < front.length; k += BLOCK) this.blocks.splice(k / BLOCK, 0, front.slice(k, k + BLOCK));
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let k = this.top.length - 1; k >= 0; k--) out.push(this.top[k] as T);
    for (const block of this.blocks) for (const r of block) out.push(r);
    return out;
  }
}
