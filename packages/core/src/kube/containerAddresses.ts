/**
 * Addresses a pod's containers name in their `env` values, `args` and `command`: the declared side
 * of "known callers" (docs/model.md#callers). Extracted once when a pod is read, so the model keeps
 * a few short strings per pod instead of its containers (≤ 1 KiB retained per pod at 150,000 pods).
 */

/** One address a container names, with where it was found (`env PAYMENTS_API_URL`). */
export interface DeclaredAddress {
  /** An IP literal (IPv6 without brackets) or a hostname, lower case. */
  host: string;
  port?: number;
  where: string;
}

interface ContainerLike {
  name?: unknown;
  env?: unknown;
  args?: unknown;
  command?: unknown;
}

/** Bounds for outside data: a value longer than this is read up to it; a pod names at most this many addresses. */
const MAX_VALUE_CHARS = 4096;
const MAX_ADDRESSES = 8;

// An IPv4 literal not inside a longer dotted run; a bracketed IPv6 literal; a hostname with at least
// two dots (LB hostnames such as internal-x.elb.amazonaws.com; one-dot words are mostly file names).
const ADDRESS =
  /(?<![\w.-])(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-f:.]{2,45})\]|([a-z0-9](?:[a-z0-9-]{0,62})?(?:\.[a-z0-9](?:[a-z0-9-]{0,62})?){2,}))(?::(\d{1,5}))?(?![\w.-]*[\w-])/gi;
// A whole value that is a bare IPv6 literal (`10.0.3.15` style but v6: `fd00::15`).
const BARE_IPV6 = /^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}$/i;
// Names that resolve inside the cluster: not an LB address.
const CLUSTER_LOCAL = /\.(?:svc|cluster\.local|local)$/i;

const NONE: ReadonlyArray<{ host: string; port?: number }> = Object.freeze([]);
// Replicas repeat the same values: each distinct short value is scanned once.
const scanned = new Map<string, ReadonlyArray<{ host: string; port?: number }>>();
const MAX_SCANNED = 100_000;
const MAX_MEMO_CHARS = 512;

/** The addresses in one string (a URL, `host:port`, a flag value), in order. */
export function addressesIn(value: string): ReadonlyArray<{ host: string; port?: number }> {
  // Every address has a dot or a colon: most values (names, levels, numbers) are skipped at once.
  if (value.indexOf('.') < 0 && value.indexOf(':') < 0) return NONE;
  if (value.length > MAX_MEMO_CHARS) return scan(value);
  let hit = scanned.get(value);
  if (!hit) {
    if (scanned.size >= MAX_SCANNED) scanned.clear();
    hit = scan(value);
    scanned.set(value, hit.length === 0 ? NONE : Object.freeze(hit));
  }
  return hit;
}

function scan(value: string): Array<{ host: string; port?: number }> {
  const text = value.length > MAX_VALUE_CHARS ? value.slice(0, MAX_VALUE_CHARS) : value;
  if (BARE_IPV6.test(text) && text.includes('::')) return [{ host: text.toLowerCase() }];
  const out: Array<{ host: string; port?: number }> = [];
  for (const m of text.matchAll(ADDRESS)) {
    let host: string;
    if (m[1] !== undefined) {
      if (m[1].split('.').some((octet) => Number(octet) > 255)) continue;
      host = m[1];
    } else if (m[2] !== undefined) {
      if (!m[2].includes(':')) continue;
      host = m[2].toLowerCase();
    } else {
      host = m[3]!.toLowerCase();
      // The last label of a hostname has a letter (a version like 1.2.3 is not a host).
      if (!/[a-z]/.test(host.slice(host.lastIndexOf('.') + 1)) || CLUSTER_LOCAL.test(host) || host.length > 253) continue;
    }
    const port = m[4] !== undefined ? Number(m[4]) : undefined;
    out.push(port !== undefined && port > 0 && port < 65536 ? { host, port } : { host });
  }
  return out;
}

/** Whether a string names any address (the slim objects keep only such values). */
export function namesAddress(value: unknown): boolean {
  return typeof value === 'string' && addressesIn(value).length > 0;
}

const interned = new Map<string, readonly DeclaredAddress[]>();
const MAX_INTERNED = 50_000;

/**
 * The addresses a pod's containers name, or undefined when none. Pods of one workload share their
 * template, so equal lists are shared (one array for all replicas).
 */
export function declaredAddresses(containers: unknown): readonly DeclaredAddress[] | undefined {
  if (!Array.isArray(containers)) return undefined;
  let out: DeclaredAddress[] | undefined;
  // `where` ("env NAME", "args of container NAME") is built only for a value that names an address.
  const add = (value: unknown, field: 'env' | 'command' | 'args', name: unknown): void => {
    if (typeof value !== 'string' || (out !== undefined && out.length >= MAX_ADDRESSES)) return;
    const found = addressesIn(value);
    if (found.length === 0) return;
    const label = typeof name === 'string' ? name.slice(0, field === 'env' ? 128 : 63) : '?';
    const where = field === 'env' ? `env ${label}` : `${field} of container ${label}`;
    for (const a of found) {
      if ((out ??= []).length >= MAX_ADDRESSES) return;
      out.push(a.port !== undefined ? { host: a.host, port: a.port, where } : { host: a.host, where });
    }
  };
  for (const raw of containers) {
    if (!raw || typeof raw !== 'object') continue;
    const c = raw as ContainerLike;
    if (Array.isArray(c.env)) {
      for (const e of c.env) {
        if (e && typeof e === 'object' && typeof (e as { name?: unknown }).name === 'string')
          add((e as { value?: unknown }).value, 'env', (e as { name: string }).name);
      }
    }
    if (Array.isArray(c.command)) for (const a of c.command) add(a, 'command', c.name);
    if (Array.isArray(c.args)) for (const a of c.args) add(a, 'args', c.name);
  }
  if (out === undefined) return undefined;
  let key = '';
  for (const a of out) key += `${a.host}|${a.port ?? ''}|${a.where}\n`;
  const hit = interned.get(key);
  if (hit) return hit;
  if (interned.size >= MAX_INTERNED) interned.clear();
  const frozen = Object.freeze(out.map((a) => Object.freeze(a)));
  interned.set(key, frozen);
  return frozen;
}

/**
 * A pod's containers cut down to what `declaredAddresses` reads and finds an address in: the live
 * model's slim objects keep only this, and give the same addresses as the full object.
 */
export function slimContainersForCallers(containers: unknown): Array<Record<string, unknown>> | undefined {
  if (!Array.isArray(containers)) return undefined;
  const out: Array<Record<string, unknown>> = [];
  for (const raw of containers) {
    if (!raw || typeof raw !== 'object') continue;
    const c = raw as ContainerLike;
    const env = Array.isArray(c.env)
      ? c.env
          .filter((e) => e && typeof e === 'object' && typeof e.name === 'string' && namesAddress(e.value))
          .map((e) => ({ name: e.name, value: e.value }))
      : [];
    const command = Array.isArray(c.command) ? c.command.filter(namesAddress) : [];
    const args = Array.isArray(c.args) ? c.args.filter(namesAddress) : [];
    if (env.length + command.length + args.length === 0) continue;
    out.push({ name: c.name, ...(env.length ? { env } : {}), ...(command.length ? { command } : {}), ...(args.length ? { args } : {}) });
  }
  return out.length > 0 ? out : undefined;
}
