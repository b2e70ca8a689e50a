/**
 * A constant table looked up by words from a dump (protocol names, nft operators, field names):
 * built without a prototype, so a word such as `constructor` or `__proto__` finds nothing instead
 * of one of Object's own members.
 */
export function lookupTable<T>(entries: Record<string, T>): Readonly<Partial<Record<string, T>>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}

/** An empty record for fields named by a dump (conntrack `key=value` pairs, ipset headers). */
export function fieldRecord(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}
