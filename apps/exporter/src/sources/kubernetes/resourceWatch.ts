/**
 * One resource: a client-node informer plus what it lacks (see ./index.ts for the list).
 */
import type * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '@loopscope/core';
import { Backoff, sleep } from './backoff';
import { deferred } from './deferred';
import { seconds } from './duration';
import { describeError, hintFor, httpStatusOf, SourceError } from './errors';
import { isRecord, rawCall, type Raw, UNSUPPORTED_CLIENT } from './rawCall';
import type { InformedResource, ResourceSpec } from './resources';
import type { Shared } from './shared';

/** A watch that ends sooner than this after it was opened counts as a failure for the backoff. */
const QUICK_SESSION_MS = 1000;
/** How long `stop()` waits for aborted requests to unwind. */
const STOP_GRACE_MS = 2000;

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
export class ResourceWatch {
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
