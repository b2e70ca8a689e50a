/**
 * Deterministic mutation of valid input for the fuzz suites (core in-process, CLI as a process):
 * a seeded generator replaces random fields of a valid document with wrong types, prototype
 * names, huge strings and deep nesting. The seed is printed on failure so a case can be replayed.
 */

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32: fast, deterministic, good enough to pick fields.
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 0x100000000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }
}

export const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__'];

function deep(depth: number, leaf: unknown): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** A replacement value of a hostile kind. `bigString` bounds the size of huge strings. */
export function hostileValue(rng: Rng, bigString: number): unknown {
  switch (rng.int(14)) {
    case 0:
      return null;
    case 1:
      return rng.int(2) === 0 ? 12345 : -1.5e308;
    case 2:
      return rng.int(2) === 0;
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return rng.pick(PROTOTYPE_NAMES);
    case 6:
      return Object.fromEntries(PROTOTYPE_NAMES.filter((n) => n !== '__proto__').map((n) => [n, rng.pick(PROTOTYPE_NAMES)]));
    case 7:
      return 'x'.repeat(bigString);
    case 8:
      return '1'.repeat(bigString);
    case 9:
      return ' '.repeat(bigString) + '\u001b[2J\u0000';
    case 10:
      return deep(200 + rng.int(2000), 'x');
    case 11:
      return [rng.pick(PROTOTYPE_NAMES), 42, null, { constructor: 'x' }];
    case 12:
      return 'v1.'.repeat(Math.floor(bigString / 3));
    default:
      return '';
  }
}

/** Every path to a value in a JSON document, objects and arrays included. */
function paths(doc: unknown): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  const stack: Array<{ v: unknown; p: Array<string | number> }> = [{ v: doc, p: [] }];
  while (stack.length > 0) {
    const { v, p } = stack.pop()!;
    if (p.length > 0) out.push(p);
    if (Array.isArray(v)) v.forEach((c, i) => stack.push({ v: c, p: [...p, i] }));
    else if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) stack.push({ v: c, p: [...p, k] });
  }
  return out;
}

/** A deep copy of `doc` with `count` random values replaced (and sometimes a prototype-named key added). */
export function mutateJson<T>(doc: T, rng: Rng, count: number, bigString: number): T {
  const copy = JSON.parse(JSON.stringify(doc)) as T;
  const all = paths(copy);
  for (let k = 0; k < count && all.length > 0; k++) {
    const p = rng.pick(all);
    let parent: unknown = copy;
    // An earlier replacement may have removed this path: then it is skipped.
    for (const step of p.slice(0, -1))
      parent = parent !== null && typeof parent === 'object' ? (parent as Record<string | number, unknown>)[step] : undefined;
    if (parent === null || typeof parent !== 'object') continue;
    const last = p[p.length - 1] as string | number;
    if (rng.int(5) === 0 && !Array.isArray(parent))
      (parent as Record<string, unknown>)[rng.pick(PROTOTYPE_NAMES.filter((n) => n !== '__proto__'))] = hostileValue(rng, bigString);
    else (parent as Record<string | number, unknown>)[last] = hostileValue(rng, bigString);
  }
  return copy;
}

/** A copy of a text dump with random lines replaced, duplicated, cut or filled with hostile text. */
export function mutateLines(text: string, rng: Rng, count: number, bigString: number): string {
  const lines = text.split('\n');
  for (let k = 0; k < count; k++) {
    const i = rng.int(lines.length);
    const line = lines[i] ?? '';
    switch (rng.int(8)) {
      case 0:
        lines[i] = line.slice(0, rng.int(line.length + 1));
        break;
      case 1:
        lines[i] = `${line} ${rng.pick(PROTOTYPE_NAMES)}`;
        break;
      case 2:
        lines[i] = line.replace(/\S+/, rng.pick(PROTOTYPE_NAMES));
        break;
      case 3:
        lines[i] = `${line} "${'a\\"'.repeat(Math.floor(bigString / 3))}"`;
        break;
      case 4:
        lines.splice(i, 0, ...Array.from({ length: 50 }, () => line));
        break;
      case 5:
        lines[i] = `*${rng.pick(PROTOTYPE_NAMES)}`;
        break;
      case 6:
        lines[i] = line.replace(/\d+/g, '9'.repeat(1 + rng.int(40)));
        break;
      default:
        lines[i] = ' '.repeat(rng.int(bigString));
    }
  }
  return lines.join('\n');
}
