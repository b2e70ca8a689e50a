/**
 * The live-cluster source: lists and watches nodes, pods, services and EndpointSlices with
 * `@kubernetes/client-node` informers, and polls the kube-proxy ConfigMap in kube-system.
 *
 * What client-node 1.4's informer (`ListWatch`, dist/cache.js + dist/watch.js) does by itself, and
 * what this module adds:
 *
 * - It lists, then watches from the list's resourceVersion. When a watch ends cleanly (the server's
 *   timeout, a graceful close) it reconnects at once from the last resourceVersion. On 410 Gone
 *   (HTTP 410 on the watch request, or an ERROR event with code 410) it clears the resourceVersion
 *   and relists. It sends no `allowWatchBookmarks` and no `timeoutSeconds`.
 *   → We put both in the informer's path (`?allowWatchBookmarks=true&timeoutSeconds=…`), and turn
 *     every list into one `sink.replace` (the informer's own per-item add/update calls for a list
 *     are suppressed), so objects deleted while we were not watching disappear.
 * - On any other error (connection refused or reset, HTTP 5xx/403 on the list or the watch) it calls
 *   the `error` handlers and stops for good.
 *   → We report it (`health.watchError`, `health.watchRestarted`) and restart it after an
 *     exponential backoff with jitter. A watch that the server keeps ending right after it started
 *     is throttled the same way.
 * - `stop()` aborts the running watch, which calls the `error` handlers with an AbortError; a list
 *   or a watch connection still being set up is not aborted at all.
 *   → Every request carries an AbortSignal of ours (lists through a call middleware, watches
 *     through the `applyToFetchOptions` hook of the KubeConfig handed to the informer), aborted by
 *     `stop()`; errors after `stop()` are ignored.
 * - A watch whose TCP connection silently died would hang forever (client-node overrides its own
 *   30 s timeout signal).
 *   → A watchdog aborts a watch that has delivered nothing (no event, no bookmark) for longer than
 *     the `timeoutSeconds` it asked the server for plus a grace period: a live server has ended it
 *     by then.
 * - It caches every object it sees, in full. At 150,000 pods that is gigabytes.
 *   → The informer keeps only `{kind, apiVersion, metadata: {name, namespace, uid, resourceVersion}}`
 *     (what it needs to spot changes and deletions); the sink gets the full object once.
 * - Lists come back as typed model objects (Dates instead of strings, unknown fields dropped),
 *   watch events as raw JSON.
 *   → Lists are paginated (`limit`/`continue`), and each page's JSON is taken raw in a response
 *     middleware (the generated client then deserializes an empty placeholder), so the sink gets
 *     every object exactly as the API server sent it, with `kind` and `apiVersion` set.
 * - An exception thrown by an event callback is swallowed by Watch along with JSON parse errors.
 *   → Sink calls are wrapped; a throwing sink is reported as objectSkipped and logged once.
 *
 * client-node 1.x is ESM-only and this package compiles to CommonJS, where TypeScript rewrites
 * `import()` into `require()`. The module is therefore loaded with a dynamic import TypeScript
 * cannot see (`new Function('s', 'return import(s)')`) and only its types are imported statically.
 *
 * Nothing logged or reported contains credentials: errors are reduced to an HTTP status and
 * reason, or a network error code, plus the resource.
 */
import { existsSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '@loopscope/core';
import type { ClusterSource, ObjectSink, SourceHealth, WatchedResource } from './types';

export type ClientNode = typeof k8s;
export type LogLevel = 'info' | 'warn' | 'error';
export type SourceLogger = (level: LogLevel, msg: string) => void;

export interface BackoffOptions {
  /** First retry delay (before jitter). Default 1000 ms. */
  initialMs?: number;
  /** Cap on the delay (before jitter). Default 30000 ms. */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
  /** A watch that stayed up this long resets the backoff. Default 60000 ms. */
  resetAfterMs?: number;
}

export interface KubernetesSourceOptions {
  /** Kubeconfig file. Default: `KUBECONFIG`, then ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string;
  /** Kubeconfig context to use instead of its current-context. */
  context?: string;
  /** How often to GET kube-system/kube-proxy. Default 60 s. */
  configMapPollSeconds?: number;
  /** Where log lines go. Default: stderr. */
  logger?: SourceLogger;
  /** Retry timing for failed lists and watches. */
  backoff?: BackoffOptions;
  /** Items per list page (`limit`). Default 500. */
  listPageSize?: number;
  /**
   * `timeoutSeconds` asked of the server for each watch. Default: random per resource in [300, 600)
   * like client-go, so that watches of different resources do not all reconnect together.
   */
  watchTimeoutSeconds?: number;
  /** Extra wait past `watchTimeoutSeconds` before a silent watch is presumed dead. Default 30 s. */
  watchIdleGraceSeconds?: number;
  /**
   * Applied to each object before it reaches the sink (e.g. core's `slimObject`, to keep peak
   * memory low during large lists). Returning undefined delivers the object unchanged.
   */
  transform?: (object: KubeObject, resource: WatchedResource) => KubeObject | undefined;
  /** Loads `@kubernetes/client-node` (tests can hand in a stand-in). Default: a native dynamic import. */
  clientFactory?: () => Promise<ClientNode>;
}

type InformedResource = Exclude<WatchedResource, 'configmaps'>;

interface Apis {
  core: k8s.CoreV1Api;
  discovery: k8s.DiscoveryV1Api;
}

type ListParams = { limit?: number; _continue?: string };

interface ResourceSpec {
  resource: InformedResource;
  path: string;
  kind: string;
  apiVersion: string;
  listKind: string;
  list(apis: Apis, params: ListParams, options: k8s.ConfigurationOptions): Promise<unknown>;
}

const SPECS: readonly ResourceSpec[] = [
  {
    resource: 'nodes',
    path: '/api/v1/nodes',
    kind: 'Node',
    apiVersion: 'v1',
    listKind: 'NodeList',
    list: (a, p, o) => a.core.listNode(p, o),
  },
  {
    resource: 'pods',
    path: '/api/v1/pods',
    kind: 'Pod',
    apiVersion: 'v1',
    listKind: 'PodList',
    list: (a, p, o) => a.core.listPodForAllNamespaces(p, o),
  },
  {
    resource: 'services',
    path: '/api/v1/services',
    kind: 'Service',
    apiVersion: 'v1',
    listKind: 'ServiceList',
    list: (a, p, o) => a.core.listServiceForAllNamespaces(p, o),
  },
  {
    resource: 'endpointslices',
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    listKind: 'EndpointSliceList',
    list: (a, p, o) => a.discovery.listEndpointSliceForAllNamespaces(p, o),
  },
];

const KUBE_PROXY = { namespace: 'kube-system', name: 'kube-proxy' } as const;
const SERVICEACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';
/** A watch that ends sooner than this after it was opened counts as a failure for the backoff. */
const QUICK_SESSION_MS = 1000;
const UNSUPPORTED_CLIENT =
  'this @kubernetes/client-node did not pass the response through the call middleware (loopscope needs client-node ~1.4)';
/** How long `stop()` waits for aborted requests to unwind. */
const STOP_GRACE_MS = 2000;

/**
 * A real dynamic `import()`. Written as a Function body because TypeScript, compiling this package
 * to CommonJS, would otherwise turn `import()` into `require()`, which cannot load the ESM-only
 * client-node on Node < 20.19 (and `require(esm)` is still experimental there).
 */
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function loadClientNode(): Promise<ClientNode> {
  return (await nativeImport('@kubernetes/client-node')) as ClientNode;
}

// ---- errors --------------------------------------------------------------------------------------

/** An error whose message is safe to log as it is (written by this module). */
class SourceError extends Error {
  override readonly name = 'SourceError';
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed mid-response',
  ENOENT: 'a file named by the kubeconfig is missing',
  EACCES: 'a file named by the kubeconfig is not readable',
};

/** client-node configuration errors whose fixed text names the problem and nothing secret. */
const SAFE_MESSAGES =
  /^(HTTP protocol is not allowed when skipTLSVerify is not set or false|No active cluster!?|No currently active cluster|Unsupported proxy type)$/;

function statusReason(body: unknown): string | undefined {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return undefined;
    }
  }
  const reason = b && typeof b === 'object' ? (b as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && /^[A-Za-z]{1,64}$/.test(reason) ? reason : undefined;
}

/** The HTTP status of a client-node error (ApiException `code`, Watch error `statusCode`). */
export function httpStatusOf(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number' && e.code >= 100 && e.code < 600) return e.code;
  return undefined;
}

/**
 * A one-line description of an error that never includes request options, headers, URLs or
 * bodies (client-node's messages can carry them): the HTTP status and reason, or the network error
 * code, or just the error's class.
 */
export function describeError(err: unknown): string {
  if (err instanceof SourceError) return err.message;
  if (!err || typeof err !== 'object') return 'unknown error';
  const e = err as { name?: unknown; code?: unknown; errno?: unknown; type?: unknown; body?: unknown; reason?: unknown };
  const status = httpStatusOf(err);
  if (status !== undefined) return `HTTP ${status} ${statusReason(e.body) ?? STATUS_CODES[status] ?? 'error'}`;
  if (e.name === 'AbortError') return 'request aborted';
  const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : undefined;
  if (code && /^[A-Z][A-Z0-9_]{1,48}$/.test(code)) {
    if (NETWORK_CODES[code]) return `${NETWORK_CODES[code]} (${code})`;
    if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO/.test(code)) return `TLS error (${code})`;
    if (/^E[A-Z]+$|^ERR_(STREAM|SOCKET|HTTP)_/.test(code)) return `network error (${code})`;
    return `error ${code}`;
  }
  if (e.name === 'FetchError') return 'request failed';
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && SAFE_MESSAGES.test(message)) return message;
  // Not HTTP, not the network: its message may quote a credentials plugin or the request, so only
  // the class is shown.
  const name = typeof e.name === 'string' && /^[A-Za-z]{1,64}$/.test(e.name) ? e.name : 'error';
  return `unexpected ${name} before any HTTP response (credentials plugin, certificate files?)`;
}

function hintFor(status: number | undefined, resource: WatchedResource): string {
  if (status === 401) return ' (the credentials were rejected: check the kubeconfig or the service account token)';
  if (status === 403) {
    return resource === 'configmaps'
      ? ''
      : ` (the exporter's identity needs list and watch on ${resource}: see deploy/kubernetes/clusterrole.yaml)`;
  }
  return '';
}

/** A kubeconfig loading error, without file contents (js-yaml quotes the offending lines). */
function describeLoadError(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; name?: unknown; reason?: unknown; mark?: { line?: unknown } };
  if (e.code === 'ENOENT') return 'file not found';
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory';
  if (e.name === 'YAMLException') {
    const line = typeof e.mark?.line === 'number' ? ` at line ${e.mark.line + 1}` : '';
    return `not valid YAML${line}${typeof e.reason === 'string' && e.reason.length < 120 ? ` (${e.reason})` : ''}`;
  }
  return describeError(err);
}

function safeServer(server: string): string {
  try {
    const u = new URL(server);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable server URL)';
  }
}

function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

// ---- small helpers ---------------------------------------------------------------------------------

/** Exponential backoff: delay n is uniform in [b/2, b] with b = min(max, initial·factorⁿ). */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly factor: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(this.attempt, 60));
    this.attempt++;
    return Math.max(1, Math.round(base * (0.5 + 0.5 * this.random())));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
  settled: boolean;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const d: Deferred = {
    promise: new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    }),
    resolve: () => {
      d.settled = true;
      resolve();
    },
    reject: (err) => {
      d.settled = true;
      reject(err);
    },
    settled: false,
  };
  d.promise.catch(() => undefined); // rejections are seen by start(); never unhandled
  return d;
}

type Raw = Record<string, unknown>;

function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Call options for one generated-client request: our abort signal in, the raw JSON body out. */
function rawCall(client: ClientNode, signal: AbortSignal): { options: k8s.ConfigurationOptions; body(): unknown } {
  let captured: unknown;
  // What the generated client deserializes instead of the real body (we use the raw one).
  const placeholder = '{"metadata":{},"items":[]}';
  const middleware: k8s.ObservableMiddleware = {
    pre: (ctx) => {
      ctx.setSignal(signal);
      return new client.Observable(Promise.resolve(ctx));
    },
    post: (rsp) =>
      new client.Observable(
        (async (): Promise<k8s.ResponseContext> => {
          if (rsp.httpStatusCode < 200 || rsp.httpStatusCode > 299) return rsp;
          captured = JSON.parse(await rsp.body.text()) as unknown;
          return new client.ResponseContext(rsp.httpStatusCode, rsp.headers, {
            text: async () => placeholder,
            binary: async () => Buffer.from(placeholder),
          });
        })(),
      ),
  };
  return { options: { middleware: [middleware], middlewareMergeStrategy: 'append' }, body: () => captured };
}

// ---- context shared by the watchers ----------------------------------------------------------------

interface Shared {
  client: ClientNode;
  kc: k8s.KubeConfig;
  apis: Apis;
  sink: ObjectSink;
  health: SourceHealth;
  log: SourceLogger;
  options: Required<Pick<KubernetesSourceOptions, 'listPageSize' | 'watchIdleGraceSeconds' | 'configMapPollSeconds'>> &
    KubernetesSourceOptions;
  backoff: Required<BackoffOptions>;
  /** Reports an unusable object: counted every time, logged once per resource and reason. */
  skipped(resource: WatchedResource, reason: string): void;
  /** Runs a sink call; a throwing sink is reported, not propagated (true if it went through). */
  deliver(resource: WatchedResource, what: string, call: () => void): boolean;
}

/** A watch connection as opened by the informer. */
interface Session {
  controller: AbortController;
  startedAt: number;
  /** Aborted by the watchdog (not by stop()). */
  idle: boolean;
  /** Preparing the request failed (credentials plugin, token file); the abort stands for this error. */
  failure?: unknown;
}

/** One resource: a client-node informer plus what it lacks (see the top of the file). */
class ResourceWatch {
  readonly firstSync = deferred();
  /** makeInformer returns a ListWatch (typed as Informer & ObjectCache, which lacks latestResourceVersion). */
  private readonly informer: k8s.ListWatch<k8s.KubernetesObject>;
  private readonly backoff: Backoff;
  private readonly stopController = new AbortController();
  private readonly watchTimeoutMs: number;
  private readonly idleMs: number;
  /** List items handed to the informer: its add/update callbacks for them are already covered by replace(). */
  private listed = new WeakSet<object>();
  private stopped = false;
  /** The next `connect` callback comes from our own informer.start(). */
  private ownStart = false;
  private session: Session | undefined;
  /** Backoff the informer must wait before its next request (it reconnects on its own). */
  private pendingDelayMs = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  private lastRv = '';
  private failures = 0;
  private lastListError: unknown;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly spec: ResourceSpec,
    private readonly shared: Shared,
  ) {
    const { client, kc, options } = shared;
    const b = shared.backoff;
    this.backoff = new Backoff(b.initialMs, b.maxMs, b.factor);
    const timeoutSeconds = Math.max(1, Math.round(options.watchTimeoutSeconds ?? 300 + Math.random() * 300));
    this.watchTimeoutMs = timeoutSeconds * 1000;
    this.idleMs = this.watchTimeoutMs + options.watchIdleGraceSeconds * 1000;

    // The informer's Watch asks its KubeConfig for the fetch options of every watch request; this
    // view of the KubeConfig adds our backoff and abort signal there (see prepareWatch).
    const watchConfig = Object.create(kc) as k8s.KubeConfig;
    watchConfig.applyToFetchOptions = (opts) => this.prepareWatch(opts);
    const path = `${spec.path}?allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}`;
    this.informer = client.makeInformer(watchConfig, path, () => this.list()) as k8s.ListWatch<k8s.KubernetesObject>;
    this.informer.on('add', (o) => this.onObject('upsert', o));
    this.informer.on('update', (o) => this.onObject('upsert', o));
    this.informer.on('delete', (o) => this.onObject('remove', o));
    this.informer.on('connect', () => this.onConnect());
    this.informer.on('error', (err) => this.onError(err));
  }

  get resource(): InformedResource {
    return this.spec.resource;
  }

  start(): void {
    const tick = Math.max(50, Math.min(15_000, Math.floor(this.idleMs / 4)));
    this.watchdog = setInterval(() => this.checkIdle(), tick);
    this.startInformer();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.restartTimer = this.watchdog = undefined;
    this.stopController.abort();
    this.session?.controller.abort();
    // Emits an AbortError on the error handlers for a running watch; onError ignores it.
    await this.informer.stop().catch(() => undefined);
    if (!this.firstSync.settled) this.firstSync.reject(new SourceError(`stopped before ${this.spec.resource} were listed`));
    await this.quiesce(STOP_GRACE_MS);
  }

  // -- the informer's lifecycle --------------------------------------------------------------------

  private startInformer(): void {
    if (this.stopped) return;
    this.ownStart = true;
    this.informer.start().catch((err: unknown) => this.onError(err));
    this.ownStart = false; // consumed synchronously by onConnect; reset in case it was not
  }

  /** Called before every list/watch cycle the informer begins (ours, or its own reconnects). */
  private onConnect(): void {
    const session = this.endSession();
    if (this.ownStart) {
      this.ownStart = false;
      return;
    }
    if (this.stopped) return;
    // The informer reconnects by itself: its watch ended cleanly, or the server answered 410 Gone.
    const lived = session ? Date.now() - session.startedAt : 0;
    let reason: string;
    if (this.informer.latestResourceVersion() === '') {
      reason = 'resource version too old (410 Gone), relisting';
      this.shared.log('info', `${this.spec.resource}: ${reason}`);
    } else {
      const slack = Math.min(5000, this.watchTimeoutMs * 0.1);
      if (lived >= this.watchTimeoutMs - slack) {
        this.backoff.reset();
        return; // ended at the timeoutSeconds we asked for: routine, the informer resumes from its resourceVersion
      }
      reason = `watch closed by the API server after ${seconds(lived)}`;
    }
    if (lived >= this.shared.backoff.resetAfterMs) this.backoff.reset();
    if (lived < QUICK_SESSION_MS) {
      this.pendingDelayMs = this.backoff.next();
      reason += `; reconnecting in ${seconds(this.pendingDelayMs)}`;
    }
    this.shared.health.watchRestarted(this.spec.resource, reason);
    if (!reason.startsWith('resource version too old')) this.shared.log('warn', `${this.spec.resource}: ${reason}`);
  }

  private onError(err: unknown): void {
    const session = this.endSession();
    if (this.stopped) return; // includes the AbortError informer.stop() emits
    const listFailed = err === this.lastListError;
    let what: string;
    let status: number | undefined;
    if (session?.idle) {
      what = `watch delivered nothing for ${seconds(Date.now() - this.lastActivity)} (connection presumed dead)`;
    } else {
      const cause = session?.failure ?? err;
      status = httpStatusOf(cause);
      what =
        session?.failure !== undefined
          ? `watch failed: could not apply the kubeconfig's credentials or TLS settings (${describeError(cause)})`
          : `${listFailed ? 'list' : 'watch'} failed: ${describeError(cause)}${hintFor(status, this.spec.resource)}`;
    }
    if (session && Date.now() - session.startedAt >= this.shared.backoff.resetAfterMs) this.backoff.reset();
    const delay = this.backoff.next();
    this.failures++;
    if (!session?.idle) this.shared.health.watchError(this.spec.resource, what);
    if (!listFailed) this.shared.health.watchRestarted(this.spec.resource, what);
    this.shared.log(
      status === 401 || status === 403 ? 'error' : 'warn',
      `${this.spec.resource}: ${what}; retrying in ${seconds(delay)} (failure ${this.failures})`,
    );
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.startInformer();
    }, delay);
  }

  private endSession(): Session | undefined {
    const s = this.session;
    if (s) {
      this.session = undefined;
      this.done();
    }
    return s;
  }

  // -- requests --------------------------------------------------------------------------------------

  /** The informer's list function: all pages, one sink.replace, stubs back to the informer. */
  private async list(): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> {
    this.inFlight++;
    try {
      const delay = this.pendingDelayMs;
      this.pendingDelayMs = 0;
      await sleep(delay, this.stopController.signal);
      if (this.stopped) throw new SourceError('stopped');
      const started = Date.now();
      const { resource, kind, apiVersion, listKind } = this.spec;
      const objects: KubeObject[] = [];
      const stubs: k8s.KubernetesObject[] = [];
      let resourceVersion = '';
      let cont: string | undefined;
      let pages = 0;
      do {
        const call = rawCall(this.shared.client, this.stopController.signal);
        const typed = await this.spec.list(this.shared.apis, { limit: this.shared.options.listPageSize, _continue: cont }, call.options);
        void typed; // the placeholder the generated client deserialized; the real page is call.body()
        const page = call.body();
        if (page === undefined) throw new SourceError(UNSUPPORTED_CLIENT);
        if (!isRecord(page) || !Array.isArray(page.items)) throw new SourceError(`list of ${resource} returned something that is not a ${listKind}`);
        pages++;
        page.items.forEach((item: unknown, i: number) => {
          const meta = isRecord(item) ? item.metadata : undefined;
          if (!isRecord(item) || !isRecord(meta) || typeof meta.name !== 'string' || meta.name === '') {
            this.shared.skipped(resource, `list item without metadata.name (page ${pages}, item ${i})`);
            return;
          }
          const full = { ...item, kind: typeof item.kind === 'string' ? item.kind : kind, apiVersion: typeof item.apiVersion === 'string' ? item.apiVersion : apiVersion } as KubeObject;
          objects.push(this.transform(full));
          stubs.push(stub(full));
        });
        const meta = isRecord(page.metadata) ? page.metadata : {};
        if (typeof meta.resourceVersion === 'string') resourceVersion = meta.resourceVersion;
        cont = typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined;
      } while (cont && !this.stopped);
      if (this.stopped) throw new SourceError('stopped');

      try {
        this.shared.sink.replace(resource, objects);
      } catch (err) {
        throw new SourceError(`the model rejected the list of ${resource}: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`);
      }
      this.listed = new WeakSet(stubs);
      this.backoff.reset();
      this.touch();
      this.shared.health.synced(resource);
      const took = Date.now() - started;
      if (this.failures > 0) this.shared.log('info', `${resource}: listed again after ${this.failures} failure(s)`);
      this.failures = 0;
      this.shared.log(
        'info',
        `${resource}: listed ${objects.length} object(s) at resourceVersion ${resourceVersion || '(none)'} in ${seconds(took)} (${pages} page(s))`,
      );
      if (!this.firstSync.settled) this.firstSync.resolve();
      return { apiVersion, kind: listKind, metadata: { resourceVersion }, items: stubs };
    } catch (err) {
      this.lastListError = err;
      throw err;
    } finally {
      this.done();
    }
  }

  /**
   * Stands in for KubeConfig.applyToFetchOptions on the informer's watch requests: waits out a
   * pending backoff, then hands client-node's Watch request options whose `signal` (which Watch
   * overwrites with its own) stays tied to an AbortController of ours. Never throws: a failure
   * here would escape client-node's error handling, so it aborts the request instead.
   */
  private async prepareWatch(opts: Parameters<k8s.KubeConfig['applyToFetchOptions']>[0]): ReturnType<k8s.KubeConfig['applyToFetchOptions']> {
    const controller = new AbortController();
    const session: Session = { controller, startedAt: Date.now(), idle: false };
    this.endSession(); // a session the informer ended without telling us (not expected)
    this.session = session;
    this.inFlight++;
    let init: Awaited<ReturnType<k8s.KubeConfig['applyToFetchOptions']>> = {};
    try {
      const delay = this.pendingDelayMs;
      this.pendingDelayMs = 0;
      await sleep(delay, this.stopController.signal);
      session.startedAt = Date.now();
      if (!this.stopped) init = await this.shared.kc.applyToFetchOptions(opts);
    } catch (err) {
      session.failure = err;
    }
    if (this.stopped || session.failure !== undefined) controller.abort();
    this.lastActivity = Date.now(); // the watchdog counts silence from here
    let signal: AbortSignal = controller.signal;
    Object.defineProperty(init, 'signal', {
      configurable: true,
      enumerable: true,
      get: () => signal,
      set: (s: AbortSignal | null | undefined) => {
        signal = s ? AbortSignal.any([s, controller.signal]) : controller.signal;
      },
    });
    return init;
  }

  // -- events --------------------------------------------------------------------------------------

  private onObject(op: 'upsert' | 'remove', obj: k8s.KubernetesObject): void {
    if (this.stopped || this.listed.has(obj)) return;
    this.touch();
    const o = obj as unknown as Raw;
    const meta = isRecord(o.metadata) ? o.metadata : undefined;
    if (!meta || typeof meta.name !== 'string' || meta.name === '') {
      this.shared.skipped(this.spec.resource, 'watch event object without metadata.name');
      return;
    }
    const full = { ...o, kind: typeof o.kind === 'string' ? o.kind : this.spec.kind, apiVersion: typeof o.apiVersion === 'string' ? o.apiVersion : this.spec.apiVersion } as KubeObject;
    const delivered = this.transform(full);
    this.shared.deliver(this.spec.resource, op, () => this.shared.sink[op](this.spec.resource, delivered));
    // The informer keeps `obj` in its cache: keep only what it needs there.
    if (op === 'upsert') reduceToStub(o);
  }

  private transform(obj: KubeObject): KubeObject {
    const t = this.shared.options.transform;
    if (!t) return obj;
    try {
      return t(obj, this.spec.resource) ?? obj;
    } catch (err) {
      this.shared.skipped(this.spec.resource, `transform failed: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`);
      return obj;
    }
  }

  // -- liveness ------------------------------------------------------------------------------------

  private touch(): void {
    this.lastActivity = Date.now();
    if (this.failures > 0 && this.session) {
      this.shared.log('info', `${this.spec.resource}: watch resumed after ${this.failures} failure(s)`);
      this.failures = 0;
    }
  }

  private checkIdle(): void {
    const rv = this.informer.latestResourceVersion();
    if (rv !== this.lastRv) {
      this.lastRv = rv; // bookmarks move it without any callback
      this.touch();
    }
    const s = this.session;
    if (s && !s.idle && Date.now() - this.lastActivity > this.idleMs) {
      s.idle = true;
      s.controller.abort();
    }
  }

  private done(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Waits (at most `ms`) until no list or watch request of ours is still unwinding. */
  private async quiesce(ms: number): Promise<void> {
    if (this.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    if (timer) clearTimeout(timer);
    this.idleWaiters = [];
  }
}

/** What the informer's cache needs of an object: identity and resourceVersion. */
function stub(o: KubeObject): k8s.KubernetesObject {
  const m = o.metadata ?? {};
  const r = (o.metadata ?? {}) as Raw;
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: typeof r.resourceVersion === 'string' ? r.resourceVersion : undefined,
    },
  };
}

/** Turns the informer's cached copy into a stub in place (the sink got a shallow copy of it first). */
function reduceToStub(o: Raw): void {
  const s = stub(o as KubeObject) as unknown as Raw;
  for (const key of Object.keys(o)) if (!(key in s)) delete o[key];
  Object.assign(o, s);
}

// ---- the kube-proxy ConfigMap --------------------------------------------------------------------

/** GETs kube-system/kube-proxy periodically; 403 and 404 mean "absent" (logged once). */
class KubeProxyConfigMap {
  readonly firstSync = deferred();
  private readonly backoff: Backoff;
  private readonly stopController = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  /** resourceVersion of what the sink has, 'absent', or undefined before the first answer. */
  private state: string | undefined;
  private failing = false;
  private readonly absenceLogged = new Set<number>();

  constructor(private readonly shared: Shared) {
    const b = shared.backoff;
    this.backoff = new Backoff(b.initialMs, b.maxMs, b.factor);
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopController.abort();
    if (!this.firstSync.settled) this.firstSync.reject(new SourceError('stopped before the kube-proxy ConfigMap was read'));
    await this.inFlight?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.poll().finally(() => {
        this.inFlight = undefined;
      });
    }, ms);
  }

  private async poll(): Promise<void> {
    const pollMs = Math.max(50, this.shared.options.configMapPollSeconds * 1000);
    const where = `${KUBE_PROXY.namespace}/${KUBE_PROXY.name}`;
    let next = pollMs;
    try {
      const call = rawCall(this.shared.client, this.stopController.signal);
      const typed = await this.shared.apis.core.readNamespacedConfigMap({ ...KUBE_PROXY }, call.options);
      void typed;
      const body = call.body();
      if (body === undefined) throw new SourceError(UNSUPPORTED_CLIENT);
      if (!isRecord(body) || !isRecord(body.metadata)) throw new SourceError(`GET of the ConfigMap ${where} returned something that is not a ConfigMap`);
      const cm = { ...body, kind: 'ConfigMap', apiVersion: typeof body.apiVersion === 'string' ? body.apiVersion : 'v1' } as KubeObject;
      const rv = typeof body.metadata.resourceVersion === 'string' ? body.metadata.resourceVersion : JSON.stringify(body);
      this.recovered();
      if (this.state !== `rv:${rv}`) this.publish([this.transform(cm)], `rv:${rv}`);
    } catch (err) {
      if (this.stopped) return;
      const status = httpStatusOf(err);
      if (status === 403 || status === 404) {
        this.recovered();
        if (!this.absenceLogged.has(status)) {
          this.absenceLogged.add(status);
          this.shared.log(
            'info',
            `configmaps: ${where} is ${status === 404 ? 'not present' : 'not readable (HTTP 403 Forbidden)'}; treating it as absent`,
          );
        }
        if (this.state !== 'absent') this.publish([], 'absent');
      } else {
        const what = `get ${where} failed: ${describeError(err)}${hintFor(status, 'configmaps')}`;
        this.failing = true;
        this.shared.health.watchError('configmaps', what);
        next = Math.min(pollMs, this.backoff.next());
        this.shared.log(status === 401 ? 'error' : 'warn', `configmaps: ${what}; retrying in ${seconds(next)}`);
      }
    }
    this.schedule(next);
  }

  private recovered(): void {
    this.backoff.reset();
    if (this.failing) {
      this.failing = false;
      this.shared.log('info', `configmaps: ${KUBE_PROXY.namespace}/${KUBE_PROXY.name} readable again`);
      if (this.state !== undefined) this.shared.health.synced('configmaps');
    }
  }

  private publish(objects: KubeObject[], state: string): void {
    if (!this.shared.deliver('configmaps', 'replace', () => this.shared.sink.replace('configmaps', objects))) return;
    this.state = state;
    this.shared.health.synced('configmaps');
    if (!this.firstSync.settled) this.firstSync.resolve();
  }

  private transform(obj: KubeObject): KubeObject {
    try {
      return this.shared.options.transform?.(obj, 'configmaps') ?? obj;
    } catch {
      return obj;
    }
  }
}

// ---- the source ------------------------------------------------------------------------------------

function defaultLogger(level: LogLevel, msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} kubernetes-source: ${msg}\n`);
}

export class KubernetesSource implements ClusterSource {
  private readonly options: KubernetesSourceOptions;
  private readonly log: SourceLogger;
  private where: string;
  private server: string | undefined;
  private phase: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private watches: ResourceWatch[] = [];
  private configMap: KubeProxyConfigMap | undefined;
  private readonly loggedSkips = new Set<string>();

  constructor(options: KubernetesSourceOptions = {}) {
    this.options = options;
    this.log = options.logger ?? defaultLogger;
    this.where = KubernetesSource.locate(options);
  }

  /** "kubeconfig /root/.kube/config, context prod, server https://…" (never a credential). */
  get description(): string {
    return `${this.where}${this.options.context ? `, context ${this.options.context}` : ''}${this.server ? `, server ${this.server}` : ''}`;
  }

  /** Where `loadFromDefault` will find its configuration (the same order client-node uses). */
  private static locate(options: KubernetesSourceOptions): string {
    if (options.kubeconfig) return `kubeconfig ${options.kubeconfig}`;
    const env = process.env.KUBECONFIG;
    if (env) return `kubeconfig ${env.split(delimiter).filter(Boolean).join(', ')} (KUBECONFIG)`;
    const home = process.env.HOME || process.env.USERPROFILE || homedir();
    const file = home ? join(home, '.kube', 'config') : undefined;
    if (file && existsSync(file)) return `kubeconfig ${file}`;
    if (existsSync(SERVICEACCOUNT_TOKEN_PATH)) return 'in-cluster service account';
    return 'no kubeconfig found (KUBECONFIG unset, no ~/.kube/config, not in a cluster)';
  }

  async start(sink: ObjectSink, health: SourceHealth): Promise<void> {
    if (this.phase !== 'new') throw new Error(`KubernetesSource.start(): already ${this.phase}`);
    this.phase = 'starting';
    const started = Date.now();
    let client: ClientNode;
    try {
      client = await (this.options.clientFactory ?? loadClientNode)();
    } catch (err) {
      this.phase = 'stopped';
      const code = (err as { code?: unknown } | undefined)?.code;
      const why =
        code === 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' || code === 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG'
          ? 'dynamic import() is unavailable in this VM context (under jest: NODE_OPTIONS=--experimental-vm-modules, or pass clientFactory)'
          : code === 'ERR_MODULE_NOT_FOUND'
            ? 'not installed'
            : describeError(err);
      throw new Error(`cannot load @kubernetes/client-node: ${why}`);
    }
    if (this.phase !== 'starting') throw new Error('KubernetesSource stopped before it started');
    const kc = this.loadKubeConfig(client);

    const options = {
      ...this.options,
      listPageSize: this.options.listPageSize ?? 500,
      watchIdleGraceSeconds: this.options.watchIdleGraceSeconds ?? 30,
      configMapPollSeconds: this.options.configMapPollSeconds ?? 60,
    };
    const shared: Shared = {
      client,
      kc,
      apis: { core: kc.makeApiClient(client.CoreV1Api), discovery: kc.makeApiClient(client.DiscoveryV1Api) },
      sink,
      health,
      log: this.log,
      options,
      backoff: {
        initialMs: this.options.backoff?.initialMs ?? 1000,
        maxMs: this.options.backoff?.maxMs ?? 30_000,
        factor: this.options.backoff?.factor ?? 2,
        resetAfterMs: this.options.backoff?.resetAfterMs ?? 60_000,
      },
      skipped: (resource, reason) => {
        health.objectSkipped(resource, reason);
        const key = `${resource}\0${reason.replace(/\d+/g, 'N')}`;
        if (!this.loggedSkips.has(key) && this.loggedSkips.size < 200) {
          this.loggedSkips.add(key);
          this.log('warn', `${resource}: skipped an object: ${reason} (further ones are only counted)`);
        }
      },
      deliver: (resource, what, call) => {
        try {
          call();
          return true;
        } catch (err) {
          shared.skipped(resource, `the model rejected ${what}: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`);
          return false;
        }
      },
    };

    this.watches = SPECS.map((spec) => new ResourceWatch(spec, shared));
    this.configMap = new KubeProxyConfigMap(shared);
    this.log('info', `watching nodes, pods, services, endpointslices and ${KUBE_PROXY.namespace}/${KUBE_PROXY.name} via ${this.description}`);
    for (const w of this.watches) w.start();
    this.configMap.start();

    const pending = new Set<string>([...SPECS.map((s) => s.resource), 'configmaps']);
    const waiting = setInterval(() => {
      this.log('info', `still waiting for the first list of: ${[...pending].join(', ')}`);
    }, 30_000);
    try {
      await Promise.all([
        ...this.watches.map((w) => w.firstSync.promise.then(() => pending.delete(w.resource))),
        this.configMap.firstSync.promise.then(() => pending.delete('configmaps')),
      ]);
    } finally {
      clearInterval(waiting);
    }
    if (this.phase !== 'starting') throw new Error('KubernetesSource stopped before the first sync');
    this.phase = 'running';
    this.log('info', `initial sync complete in ${seconds(Date.now() - started)}`);
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    await Promise.all([...this.watches.map((w) => w.stop()), this.configMap?.stop()]);
  }

  private loadKubeConfig(client: ClientNode): k8s.KubeConfig {
    const kc = new client.KubeConfig();
    try {
      if (this.options.kubeconfig) kc.loadFromFile(this.options.kubeconfig);
      else kc.loadFromDefault();
    } catch (err) {
      this.phase = 'stopped';
      throw new Error(`cannot load ${this.where}: ${describeLoadError(err)}`);
    }
    const context = this.options.context;
    if (context) {
      if (!kc.getContextObject(context)) {
        this.phase = 'stopped';
        const known = kc.getContexts().map((c) => c.name);
        throw new Error(`${this.where} has no context "${context}" (contexts: ${known.length ? known.join(', ') : 'none'})`);
      }
      kc.setCurrentContext(context);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) {
      this.phase = 'stopped';
      throw new Error(`${this.where}: context "${kc.getCurrentContext()}" names no cluster`);
    }
    if (!URL.canParse(cluster.server)) {
      this.phase = 'stopped';
      throw new Error(`${this.where}: the server of context "${kc.getCurrentContext()}" is not a URL`);
    }
    this.server = safeServer(cluster.server);
    if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify && !cluster.proxyUrl) {
      this.phase = 'stopped';
      throw new Error(
        `${this.where}: the server ${this.server} is plain HTTP, which client-node only accepts with insecure-skip-tls-verify: true on the cluster`,
      );
    }
    if (!this.options.kubeconfig && this.where.startsWith('no kubeconfig found')) {
      this.log('warn', `no kubeconfig found; client-node falls back to ${this.server}`);
    }
    return kc;
  }
}
