/**
 * A small in-memory Kubernetes API server for tests: it speaks the list/watch protocol the way
 * kube-apiserver does (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes)
 * for the four resources the exporter watches, plus GET of ConfigMaps, so the real
 * `@kubernetes/client-node` can run against it over HTTP.
 *
 * What it reproduces:
 * - list: `{kind: "PodList", apiVersion: "v1", metadata: {resourceVersion}, items}`; items carry no
 *   `kind`/`apiVersion` (as the real server sends them); `limit`/`continue` pagination over a
 *   consistent snapshot; an expired continue token answers 410 Expired.
 * - watch (`?watch=true&resourceVersion=…`): HTTP 200, chunked, one `{"type","object"}` JSON per
 *   line; events after the requested resourceVersion are replayed from history, then live ones;
 *   `allowWatchBookmarks=true` gets BOOKMARK events; `timeoutSeconds` ends the stream cleanly.
 * - one resourceVersion counter shared by every resource (like etcd's revision), increasing.
 * - a watch from a resourceVersion older than the kept history gets 410 Gone: by default as the real
 *   server does it, a 200 response with an ERROR event carrying a Status (code 410, reason Expired,
 *   "too old resource version: X (Y)"); with `goneMode: 'http'` as an HTTP 410 response instead.
 * - bearer-token authentication: any other token gets 401.
 *
 * Failure injection: `dropWatches()` (connections reset, or ended cleanly), `failNext(n, status)`,
 * `hangNext(n)`, `sendRaw()` and `streamFiller()` (malformed or endless watch lines), `padLists()`
 * (list pages too large),
 * `expireHistory()`, `stop()` (the server goes away: listener closed, every connection destroyed)
 * and `restart()` (back on the same port, with the same objects, like an API server restart).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type TestResource = 'nodes' | 'pods' | 'services' | 'endpointslices' | 'configmaps';

/** What the server knows about each resource. */
const RESOURCES: Record<TestResource, { path: string; kind: string; listKind: string; apiVersion: string; namespaced: boolean }> = {
  nodes: { path: '/api/v1/nodes', kind: 'Node', listKind: 'NodeList', apiVersion: 'v1', namespaced: false },
  pods: { path: '/api/v1/pods', kind: 'Pod', listKind: 'PodList', apiVersion: 'v1', namespaced: true },
  services: { path: '/api/v1/services', kind: 'Service', listKind: 'ServiceList', apiVersion: 'v1', namespaced: true },
  endpointslices: {
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    kind: 'EndpointSlice',
    listKind: 'EndpointSliceList',
    apiVersion: 'discovery.k8s.io/v1',
    namespaced: true,
  },
  configmaps: { path: '/api/v1/configmaps', kind: 'ConfigMap', listKind: 'ConfigMapList', apiVersion: 'v1', namespaced: true },
};

const CONFIGMAP_GET = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/;

/** A Kubernetes object as tests write it: plain JSON, kind optional (the server sets it). */
export type TestObject = { metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  watch: boolean;
  /** The answer: 200, or the status of an injected/auth/410 failure. */
  status: number;
}

export interface KubeApiServerOptions {
  /** The bearer token clients must send. */
  token?: string;
  /** How a watch from a too-old resourceVersion learns about it: 'event' (real server) or 'http'. */
  goneMode?: 'event' | 'http';
  /** Send a BOOKMARK to every watch that asked for them this often (0: only when `bookmark()` is called). */
  bookmarkIntervalMs?: number;
  /** End watches after their `timeoutSeconds` (true, like the real server); false to simulate a dead connection. */
  honorWatchTimeout?: boolean;
}

interface Stored {
  object: TestObject;
}

interface HistoryEntry {
  rv: number;
  resource: TestResource;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: TestObject;
}

interface Watcher {
  resource: TestResource;
  res: http.ServerResponse;
  socket: Socket;
  bookmarks: boolean;
  timer?: NodeJS.Timeout;
}

interface Failure {
  remaining: number;
  /** An HTTP status, or 'hang': accept the request and never answer. */
  status: number | 'hang';
  resource?: TestResource;
  /** Only lists (and GETs), or only watches; both when unset. */
  only?: 'list' | 'watch';
}

export const TEST_TOKEN = 'test-token-do-not-log';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function status(code: number, message: string, reason = REASONS[code] ?? 'Unknown'): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export class KubeApiServer {
  readonly token: string;
  goneMode: 'event' | 'http';
  honorWatchTimeout: boolean;
  /** Every request answered, in order (no headers: the token is never recorded). */
  readonly requests: RequestRecord[] = [];

  private server: http.Server | undefined;
  private portNumber = 0;
  private rv = 1;
  /** Watches resuming from a resourceVersion below this get 410 Gone. */
  private oldestRv = 1;
  private readonly store = new Map<TestResource, Map<string, Stored>>();
  private history: HistoryEntry[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private failures: Failure[] = [];
  private readonly forbidden = new Set<TestResource>();
  private snapshots = new Map<string, { rv: number; items: TestObject[] }>();
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private readonly bookmarkIntervalMs: number;
  private readonly listPadding = new Map<TestResource, number>();
  /** The sorted list items of a resource as of `rv`, reused while the resource has not changed. */
  private readonly listCache = new Map<TestResource, { rv: number; items: TestObject[] }>();
  private readonly changedAt = new Map<TestResource, number>();

  constructor(options: KubeApiServerOptions = {}) {
    this.token = options.token ?? TEST_TOKEN;
    this.goneMode = options.goneMode ?? 'event';
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 0;
    this.honorWatchTimeout = options.honorWatchTimeout ?? true;
    for (const r of Object.keys(RESOURCES) as TestResource[]) this.store.set(r, new Map());
  }

  /** Starts listening on 127.0.0.1 (a random port the first time, the same port after `stop()`). */
  async start(): Promise<this> {
    if (this.server) return this;
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
    if (this.bookmarkIntervalMs > 0) this.bookmarkTimer = setInterval(() => this.bookmark(), this.bookmarkIntervalMs);
    return this;
  }

  /** The server goes away: the listener closes and every connection (watches included) is reset. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.bookmarkTimer = undefined;
    for (const w of this.watchers) this.closeWatcher(w, 'destroy');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Comes back on the same port with the same objects and history. */
  async restart(): Promise<void> {
    await this.start();
  }

  get port(): number {
    return this.portNumber;
  }

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /** The current resourceVersion (the last one handed out). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Open watch connections, optionally for one resource. */
  watchCount(resource?: TestResource): number {
    let n = 0;
    for (const w of this.watchers) if (!resource || w.resource === resource) n++;
    return n;
  }

  /** Resolves once `count` watches (optionally of one resource) are open; rejects after `ms`. */
  async waitForWatches(count: number, resource?: TestResource, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.watchCount(resource) < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `kubeApiServer: ${this.watchCount(resource)} watch(es)${resource ? ` of ${resource}` : ''} open after ${ms} ms, expected ${count}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Writes a kubeconfig pointing at this server (bearer token `token`) and returns its path.
   * client-node refuses a plain-HTTP server unless `insecure-skip-tls-verify` is set on the cluster.
   */
  kubeconfig(path: string): string {
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: loopscope-test',
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'contexts:',
      '- name: loopscope-test',
      '  context:',
      '    cluster: loopscope-test',
      '    user: loopscope-test',
      'current-context: loopscope-test',
      'users:',
      '- name: loopscope-test',
      '  user:',
      `    token: ${this.token}`,
      '',
    ].join('\n');
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  }

  // ---- objects -------------------------------------------------------------------------------

  add(resource: TestResource, obj: TestObject): TestObject {
    const key = this.key(resource, obj);
    if (this.store.get(resource)!.has(key)) throw new Error(`kubeApiServer.add: ${resource} ${key} already exists`);
    const spec = RESOURCES[resource];
    const stored = clone(obj);
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return this.commit(resource, key, stored, 'ADDED', spec);
  }

  update(resource: TestResource, obj: TestObject): TestObject {
    const key = this.key(resource, obj);
    const old = this.store.get(resource)!.get(key);
    if (!old) throw new Error(`kubeApiServer.update: ${resource} ${key} does not exist`);
    const stored = clone(obj);
    stored.metadata.uid = old.object.metadata.uid;
    stored.metadata.creationTimestamp = old.object.metadata.creationTimestamp;
    return this.commit(resource, key, stored, 'MODIFIED', RESOURCES[resource]);
  }

  remove(resource: TestResource, ref: { metadata: { name: string; namespace?: string } }): void {
    const key = this.key(resource, ref);
    const map = this.store.get(resource)!;
    const old = map.get(key);
    if (!old) throw new Error(`kubeApiServer.remove: ${resource} ${key} does not exist`);
    map.delete(key);
    const object = clone(old.object);
    object.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, resource, type: 'DELETED', object });
  }

  /** The stored object (with kind, apiVersion and resourceVersion), or undefined. */
  get(resource: TestResource, name: string, namespace?: string): TestObject | undefined {
    const s = this.store.get(resource)!.get(this.key(resource, { metadata: { name, namespace } }));
    return s ? clone(s.object) : undefined;
  }

  // ---- failure injection ---------------------------------------------------------------------

  /**
   * Ends every open watch: 'reset' destroys the TCP connections (a dropped network path, a killed
   * API server), 'clean' ends the chunked responses normally (as a server-side watch timeout does).
   */
  dropWatches(how: 'reset' | 'clean' = 'reset', resource?: TestResource): number {
    let n = 0;
    for (const w of [...this.watchers]) {
      if (resource && w.resource !== resource) continue;
      this.closeWatcher(w, how === 'reset' ? 'destroy' : 'end');
      n++;
    }
    return n;
  }

  /** The next `n` requests (optionally only those for one resource) get `status` with a Status body. */
  failNext(n: number, statusCode = 500, resource?: TestResource): void {
    this.failures.push({ remaining: n, status: statusCode, resource });
  }

  /** The next `n` requests (optionally for one resource, only lists or only watches) are accepted and never answered. */
  hangNext(n: number, resource?: TestResource, only?: 'list' | 'watch'): void {
    this.failures.push({ remaining: n, status: 'hang', resource, only });
  }

  /** Answer 403 Forbidden to every request for the resource (RBAC missing), until `allow`. */
  forbid(resource: TestResource): void {
    this.forbidden.add(resource);
  }

  allow(resource: TestResource): void {
    this.forbidden.delete(resource);
  }

  /**
   * Forgets the event history (like etcd compaction): watches that resume from any resourceVersion
   * older than the current one get 410 Gone, and open continue tokens expire. Open watches go on.
   */
  expireHistory(): void {
    this.oldestRv = this.rv;
    this.history = [];
    this.snapshots.clear();
  }

  /** Writes `text` as it is (no newline added) into every open watch, optionally of one resource. */
  sendRaw(text: string | Buffer, resource?: TestResource): number {
    let n = 0;
    for (const w of this.watchers) {
      if (resource && w.resource !== resource) continue;
      if (w.res.writableEnded || w.socket.destroyed) continue;
      w.res.write(text);
      n++;
    }
    return n;
  }

  /**
   * Streams `bytes` of filler without a newline into the open watches of `resource`, 1 MiB per
   * write with backpressure (a line that never ends); resolves when written or the watch closed.
   */
  async streamFiller(bytes: number, resource: TestResource): Promise<void> {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const targets = [...this.watchers].filter((w) => w.resource === resource);
    await Promise.all(
      targets.map(async (w) => {
        for (let sent = 0; sent < bytes && !w.res.writableEnded && !w.socket.destroyed; sent += chunk.length) {
          if (!w.res.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)))) {
            await new Promise<void>((r) => {
              const done = (): void => {
                w.res.off('drain', done);
                w.res.off('close', done);
                r();
              };
              w.res.on('drain', done);
              w.res.on('close', done);
            });
          }
        }
      }),
    );
  }

  /** Every list page of `resource` carries `bytes` of filler (0: none): a list too large to accept. */
  padLists(resource: TestResource, bytes: number): void {
    if (bytes > 0) this.listPadding.set(resource, bytes);
    else this.listPadding.delete(resource);
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const spec = RESOURCES[w.resource];
      this.send(w, 'BOOKMARK', { kind: spec.kind, apiVersion: spec.apiVersion, metadata: { resourceVersion: String(this.rv) } });
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  private key(resource: TestResource, obj: { metadata: { name: string; namespace?: string } }): string {
    if (!obj?.metadata?.name) throw new Error(`kubeApiServer: ${resource} object has no metadata.name`);
    return `${RESOURCES[resource].namespaced ? (obj.metadata.namespace ?? 'default') : ''}/${obj.metadata.name}`;
  }

  private commit(
    resource: TestResource,
    key: string,
    stored: TestObject,
    type: 'ADDED' | 'MODIFIED',
    spec: (typeof RESOURCES)[TestResource],
  ): TestObject {
    if (spec.namespaced) stored.metadata.namespace ??= 'default';
    else delete stored.metadata.namespace;
    stored.kind = spec.kind;
    stored.apiVersion = spec.apiVersion;
    stored.metadata.resourceVersion = String(++this.rv);
    this.store.get(resource)!.set(key, { object: stored });
    this.record({ rv: this.rv, resource, type, object: clone(stored) });
    return clone(stored);
  }

  private record(entry: HistoryEntry): void {
    this.changedAt.set(entry.resource, entry.rv);
    this.history.push(entry);
    for (const w of this.watchers) if (w.resource === entry.resource) this.send(w, entry.type, entry.object);
  }

  private send(w: Watcher, type: WatchEventType, object: unknown): void {
    if (w.res.writableEnded || w.socket.destroyed) return;
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private closeWatcher(w: Watcher, how: 'destroy' | 'end'): void {
    this.watchers.delete(w);
    if (w.timer) clearTimeout(w.timer);
    if (how === 'destroy') w.socket.destroy();
    else if (!w.res.writableEnded) w.res.end();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const watch = query.watch === 'true' || query.watch === '1';
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query, watch, status: 200 };
    this.requests.push(record);
    const fail = (code: number, message: string, reason?: string): void => {
      record.status = code;
      const body = JSON.stringify(status(code, message, reason));
      res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };

    if (req.headers.authorization !== `Bearer ${this.token}`) return fail(401, 'Unauthorized');
    if (req.method !== 'GET') return fail(405, `method ${req.method} not supported by the test server`, 'MethodNotAllowed');

    const cm = CONFIGMAP_GET.exec(url.pathname);
    const resource: TestResource | undefined = cm
      ? 'configmaps'
      : (Object.keys(RESOURCES) as TestResource[]).find((r) => RESOURCES[r].path === url.pathname);
    if (!resource) return fail(404, `the server could not find the requested resource (${url.pathname})`);

    const failure = this.failures.find(
      (f) => f.remaining > 0 && (!f.resource || f.resource === resource) && (!f.only || (f.only === 'watch') === watch),
    );
    if (failure) {
      failure.remaining--;
      this.failures = this.failures.filter((f) => f.remaining > 0);
      if (failure.status === 'hang') {
        record.status = 0;
        return; // stop() destroys the connection
      }
      return fail(failure.status, `injected failure ${failure.status}`);
    }
    if (this.forbidden.has(resource)) {
      const what = cm ? `configmaps "${cm[2]}" is forbidden` : `${resource} is forbidden`;
      return fail(
        403,
        `${what}: User "system:serviceaccount:loopscope:loopscope-exporter" cannot ${cm ? 'get' : watch ? 'watch' : 'list'} resource "${resource}"`,
      );
    }

    if (cm) {
      const s = this.store.get('configmaps')!.get(`${decodeURIComponent(cm[1]!)}/${decodeURIComponent(cm[2]!)}`);
      if (!s) return fail(404, `configmaps "${cm[2]}" not found`, 'NotFound');
      return this.json(res, s.object);
    }
    if (watch) return this.watch(resource, query, res, req, record, fail);
    return this.list(resource, query, res, fail);
  }

  private json(res: http.ServerResponse, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private list(
    resource: TestResource,
    query: Record<string, string>,
    res: http.ServerResponse,
    fail: (code: number, message: string, reason?: string) => void,
  ): void {
    let snapshot: { rv: number; items: TestObject[] };
    let offset = 0;
    let snapshotId: string;
    if (query.continue) {
      let token: { s?: string; o?: number } = {};
      try {
        token = JSON.parse(Buffer.from(query.continue, 'base64url').toString()) as typeof token;
      } catch {
        return fail(400, 'invalid continue token');
      }
      const found = token.s ? this.snapshots.get(token.s) : undefined;
      if (!found) {
        return fail(
          410,
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      snapshot = found;
      snapshotId = token.s!;
      offset = token.o ?? 0;
    } else {
      const cached = this.listCache.get(resource);
      const items =
        cached && cached.rv >= (this.changedAt.get(resource) ?? 0)
          ? cached.items // nothing changed since: the items are never mutated, share them
          : this.listItems(resource);
      this.listCache.set(resource, { rv: this.rv, items });
      snapshot = { rv: this.rv, items };
      snapshotId = randomUUID();
    }
    this.listPage(resource, snapshot, snapshotId, offset, query, res);
  }

  /** The stored objects of a resource in list order, as the real server sends them: no kind, no apiVersion. */
  private listItems(resource: TestResource): TestObject[] {
    return [...this.store.get(resource)!.values()]
      .map((s) => s.object)
      .sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`))
      .map((o) => {
        // As the real server sends list items: no kind, no apiVersion.
        const { kind: _kind, apiVersion: _apiVersion, ...rest } = clone(o);
        return rest as TestObject;
      });
  }

  private listPage(
    resource: TestResource,
    snapshot: { rv: number; items: TestObject[] },
    snapshotId: string,
    offset: number,
    query: Record<string, string>,
    res: http.ServerResponse,
  ): void {
    const spec = RESOURCES[resource];
    const limit = query.limit ? Number(query.limit) : 0;
    const end = limit > 0 ? Math.min(snapshot.items.length, offset + limit) : snapshot.items.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.rv) };
    if (end < snapshot.items.length) {
      this.snapshots.set(snapshotId, snapshot);
      metadata.continue = Buffer.from(JSON.stringify({ s: snapshotId, o: end })).toString('base64url');
      metadata.remainingItemCount = snapshot.items.length - end;
    } else {
      this.snapshots.delete(snapshotId);
    }
    const padding = this.listPadding.get(resource);
    if (padding) metadata.padding = 'x'.repeat(padding);
    this.json(res, { kind: spec.listKind, apiVersion: spec.apiVersion, metadata, items: snapshot.items.slice(offset, end) });
  }

  private watch(
    resource: TestResource,
    query: Record<string, string>,
    res: http.ServerResponse,
    req: http.IncomingMessage,
    record: RequestRecord,
    fail: (code: number, message: string, reason?: string) => void,
  ): void {
    const from = query.resourceVersion && query.resourceVersion !== '0' ? Number(query.resourceVersion) : undefined;
    if (from !== undefined && !Number.isFinite(from)) return fail(400, `invalid resourceVersion ${query.resourceVersion}`);
    const gone = from !== undefined && from < this.oldestRv;
    if (gone && this.goneMode === 'http') return fail(410, `too old resource version: ${from} (${this.oldestRv})`);

    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const w: Watcher = { resource, res, socket: req.socket, bookmarks: query.allowWatchBookmarks === 'true' };
    if (gone) {
      record.status = 410;
      // What kube-apiserver does: 200, then one ERROR event with a 410 Status, then the end.
      res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, `too old resource version: ${from} (${this.oldestRv})`) })}\n`);
      return;
    }
    this.watchers.add(w);
    res.on('close', () => this.closeWatcher(w, 'end'));
    if (from === undefined) {
      // resourceVersion unset or "0": synthetic ADDED events for the current state first.
      for (const s of this.store.get(resource)!.values()) this.send(w, 'ADDED', s.object);
    } else {
      for (const e of this.history) if (e.resource === resource && e.rv > from) this.send(w, e.type, e.object);
    }
    const timeout = Number(query.timeoutSeconds);
    if (timeout > 0 && this.honorWatchTimeout) w.timer = setTimeout(() => this.closeWatcher(w, 'end'), timeout * 1000);
  }
}

/** Starts a server; remember to `stop()` it. */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  return new KubeApiServer(options).start();
}
