/**
 * One resource, listed then watched, in the way client-go's reflector does it
 * (k8s.io/client-go/tools/cache/reflector.go): list every page, hand the whole list to the sink as
 * one `replace` (so objects deleted while nobody watched disappear), then watch from the list's
 * resourceVersion with `allowWatchBookmarks` and a `timeoutSeconds`; resume from the last
 * resourceVersion when a watch ends, relist on 410 Gone, and retry failures after an exponential
 * backoff with jitter. The source keeps no cache of its own: the sink holds the objects.
 *
 * What it adds for a hostile or broken API server:
 * - each watch line is capped and checked (./watchEvents.ts); a bad one is counted and skipped;
 * - a watch that delivers nothing for longer than the `timeoutSeconds` it asked for plus a grace
 *   period is presumed dead (a silently dropped TCP path) and reopened;
 * - every request has a deadline (./kubeApi.ts), so a hanging list is a failure, reported as one;
 * - a watch that reopens after failures reports the resource current again once it has stayed up
 *   (or delivered an event), even if no object changed meanwhile.
 */
import type { KubeObject } from '@loopscope/core';
import { Backoff, sleep } from './backoff';
import { deferred } from './deferred';
import { seconds } from './duration';
import { describeError, hintFor, httpStatusOf, SourceError } from './errors';
import { type ApiResponse, ApiStatusError } from './kubeApi';
import { listPages } from './listPages';
import type { InformedResource, ResourceSpec } from './resources';
import type { Shared } from './shared';
import { isRecord, metadataProblem, parseWatchEvent, type Raw, type WatchStatus, WatchLines } from './watchEvents';

/** A watch that ends sooner than this after it was opened counts as a failure for the backoff. */
const QUICK_SESSION_MS = 1000;
/** How long `stop()` waits for aborted requests to unwind. */
const STOP_GRACE_MS = 2000;

/** How one watch connection ended. */
type WatchEnd =
  | { kind: 'ended'; livedMs: number } // the server closed it cleanly
  | { kind: 'gone'; livedMs: number } // 410: the resourceVersion is too old
  | { kind: 'failed'; livedMs: number; err: unknown } // a request or stream error, or a non-410 ERROR event
  | { kind: 'idle'; livedMs: number; silentMs: number }; // the watchdog gave up on it

export class ResourceWatch {
  readonly firstSync = deferred();
  private readonly backoff: Backoff;
  private readonly stopController = new AbortController();
  private readonly watchTimeoutSeconds: number;
  private readonly watchTimeoutMs: number;
  private readonly idleMs: number;
  private stopped = false;
  /** Where the next watch starts; '' means "list first". */
  private resourceVersion = '';
  private failures = 0;
  /** A failure was reported to health and the resource has not been reported current since. */
  private failing = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly spec: ResourceSpec,
    private readonly shared: Shared,
  ) {
    const b = shared.backoff;
    this.backoff = new Backoff(b.initialMs, b.maxMs, b.factor);
    this.watchTimeoutSeconds = Math.max(1, Math.round(shared.options.watchTimeoutSeconds ?? 300 + Math.random() * 300));
    this.watchTimeoutMs = this.watchTimeoutSeconds * 1000;
    this.idleMs = this.watchTimeoutMs + shared.options.watchIdleGraceSeconds * 1000;
  }

  get resource(): InformedResource {
    return this.spec.resource;
  }

  start(): void {
    this.running = this.run().catch((err: unknown) => {
      // Not expected (run handles its own errors); never an unhandled rejection.
      this.shared.log('error', `${this.spec.resource}: watch loop ended: ${describeError(err)}`);
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopController.abort();
    if (!this.firstSync.settled) this.firstSync.reject(new SourceError(`stopped before ${this.spec.resource} were listed`));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)))]);
    if (timer) clearTimeout(timer);
  }

  // -- the loop ------------------------------------------------------------------------------------

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    let delay = 0;
    while (!this.stopped) {
      await sleep(delay, signal);
      if (this.stopped) return;
      delay = 0;
      if (this.resourceVersion === '') {
        try {
          await this.list();
        } catch (err) {
          if (this.stopped) return;
          delay = this.listFailed(err);
          continue;
        }
      }
      const end = await this.watchOnce();
      if (this.stopped) return;
      delay = this.watchEnded(end);
    }
  }

  private listFailed(err: unknown): number {
    const status = httpStatusOf(err);
    const what = `list failed: ${describeError(err)}${hintFor(status, this.spec.resource)}`;
    return this.failed(what, status, { error: true, restart: false });
  }

  /** What to do after a watch connection ended: the delay before the next attempt. */
  private watchEnded(end: WatchEnd): number {
    const { resource } = this.spec;
    if (end.livedMs >= this.shared.backoff.resetAfterMs) this.backoff.reset();
    if (end.kind === 'failed') {
      const status = httpStatusOf(end.err);
      return this.failed(`watch failed: ${describeError(end.err)}${hintFor(status, resource)}`, status, { error: true, restart: true });
    }
    if (end.kind === 'idle') {
      return this.failed(`watch delivered nothing for ${seconds(end.silentMs)} (connection presumed dead)`, undefined, {
        error: false,
        restart: true,
      });
    }
    let reason: string;
    if (end.kind === 'gone') {
      this.resourceVersion = '';
      reason = 'resource version too old (410 Gone), relisting';
      this.shared.log('info', `${resource}: ${reason}`);
    } else {
      const slack = Math.min(5000, this.watchTimeoutMs * 0.1);
      if (end.livedMs >= this.watchTimeoutMs - slack) {
        this.backoff.reset();
        return 0; // ended at the timeoutSeconds we asked for: routine, resume from the resourceVersion
      }
      reason = `watch closed by the API server after ${seconds(end.livedMs)}`;
    }
    let delay = 0;
    if (end.livedMs < QUICK_SESSION_MS) {
      delay = this.backoff.next();
      reason += `; reconnecting in ${seconds(delay)}`;
    }
    this.shared.health.watchRestarted(resource, reason);
    if (end.kind !== 'gone') this.shared.log('warn', `${resource}: ${reason}`);
    return delay;
  }

  /** Reports a failure (health and one log line) and returns the backoff delay. */
  private failed(what: string, status: number | undefined, report: { error: boolean; restart: boolean }): number {
    const { resource } = this.spec;
    const delay = this.backoff.next();
    this.failures++;
    if (report.error) {
      this.failing = true;
      this.shared.health.watchError(resource, what);
    }
    if (report.restart) this.shared.health.watchRestarted(resource, what);
    this.shared.log(
      status === 401 || status === 403 ? 'error' : 'warn',
      `${resource}: ${what}; retrying in ${seconds(delay)} (failure ${this.failures})`,
    );
    return delay;
  }

  // -- list ----------------------------------------------------------------------------------------

  /** All pages, then one sink.replace; the watch starts from the list's resourceVersion. */
  private async list(): Promise<void> {
    const started = Date.now();
    const { resource, kind, apiVersion } = this.spec;
    const objects: KubeObject[] = [];
    const { resourceVersion, pages } = await listPages(
      this.shared.api,
      this.spec,
      this.shared.options.listPageSize,
      this.stopController.signal,
      (page) => {
        page.items.forEach((item, i) => {
          const meta = isRecord(item) ? item.metadata : undefined;
          if (!isRecord(item) || !isRecord(meta) || typeof meta.name !== 'string' || meta.name === '') {
            this.shared.skipped(resource, `list item without metadata.name (page ${page.number}, item ${i})`);
            return;
          }
          const problem = metadataProblem(meta);
          if (problem) {
            this.shared.skipped(resource, `list item with ${problem} (page ${page.number}, item ${i})`);
            return;
          }
          objects.push(this.transform(withKind(item, kind, apiVersion)));
        });
      },
    );
    if (this.stopped) throw new SourceError('stopped');
    try {
      this.shared.sink.replace(resource, objects);
    } catch (err) {
      throw new SourceError(`the model rejected the list of ${resource}: ${err instanceof Error ? err.message.slice(0, 200) : 'error'}`);
    }
    // A list without a resourceVersion (not a real API server) still needs somewhere to watch from.
    this.resourceVersion = resourceVersion || '0';
    this.backoff.reset();
    this.failing = false;
    this.shared.health.synced(resource);
    if (this.failures > 0) this.shared.log('info', `${resource}: listed again after ${this.failures} failure(s)`);
    this.failures = 0;
    this.shared.log(
      'info',
      `${resource}: listed ${objects.length} object(s) at resourceVersion ${resourceVersion || '(none)'} in ${seconds(Date.now() - started)} (${pages} page(s))`,
    );
    if (!this.firstSync.settled) this.firstSync.resolve();
  }

  // -- watch ---------------------------------------------------------------------------------------

  /** One watch connection, from open to end. Never throws. */
  private async watchOnce(): Promise<WatchEnd> {
    const opened = Date.now();
    const lived = (): number => Date.now() - opened;
    const query = new URLSearchParams({
      watch: 'true',
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.watchTimeoutSeconds),
    });
    let response: ApiResponse;
    try {
      response = await this.shared.api.watch(`${this.spec.path}?${query}`, this.stopController.signal);
    } catch (err) {
      if (err instanceof ApiStatusError && err.statusCode === 410) return { kind: 'gone', livedMs: lived() };
      return { kind: 'failed', livedMs: lived(), err };
    }
    const res = response.message;
    if (this.failures > 0) {
      this.shared.log('info', `${this.spec.resource}: watch resumed after ${this.failures} failure(s)`);
      this.failures = 0;
    }
    return new Promise<WatchEnd>((resolve) => {
      let finished = false;
      let lastActivity = Date.now();
      let recovery: NodeJS.Timeout | undefined;
      const finish = (end: WatchEnd): void => {
        if (finished) return;
        finished = true;
        clearInterval(watchdog);
        if (recovery) clearTimeout(recovery);
        res.destroy();
        resolve(end);
      };
      // Current again: the server took our resourceVersion and the connection stays up (or speaks).
      const recovered = (): void => {
        if (recovery) clearTimeout(recovery);
        recovery = undefined;
        if (this.failing && !finished) {
          this.failing = false;
          this.shared.health.synced(this.spec.resource);
        }
      };
      if (this.failing) recovery = setTimeout(recovered, QUICK_SESSION_MS);

      const lines = new WatchLines(
        this.shared.options.maxWatchEventBytes,
        (line) => {
          if (finished) return;
          const status = this.onLine(line);
          if (status === undefined) recovered();
          else if (status.code === 410) finish({ kind: 'gone', livedMs: lived() });
          else
            finish({
              kind: 'failed',
              livedMs: lived(),
              err: new ApiStatusError(status.code ?? 500, JSON.stringify({ reason: status.reason })),
            });
        },
        () =>
          this.shared.eventSkipped(
            this.spec.resource,
            `watch event over ${Math.round(this.shared.options.maxWatchEventBytes / 1024)} KiB (max watch event size)`,
          ),
      );
      const tick = Math.max(50, Math.min(15_000, Math.floor(this.idleMs / 4)));
      const watchdog = setInterval(() => {
        const silent = Date.now() - lastActivity;
        if (silent > this.idleMs) finish({ kind: 'idle', livedMs: lived(), silentMs: silent });
      }, tick);
      res.on('data', (chunk: Buffer) => {
        if (finished) return;
        lastActivity = Date.now();
        lines.push(chunk);
      });
      res.on('end', () => {
        lines.end();
        finish({ kind: 'ended', livedMs: lived() });
      });
      res.on('error', (err) => finish({ kind: 'failed', livedMs: lived(), err: response.cause() ?? err }));
      res.on('close', () => {
        if (!res.complete)
          finish({
            kind: 'failed',
            livedMs: lived(),
            err: response.cause() ?? Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }),
          });
        else finish({ kind: 'ended', livedMs: lived() });
      });
    });
  }

  /** One watch line: delivered, skipped, or (an ERROR event) the Status that ends the watch. */
  private onLine(line: string): WatchStatus | undefined {
    const { resource, kind, apiVersion } = this.spec;
    const event = parseWatchEvent(line, kind);
    if ('skip' in event) {
      this.shared.eventSkipped(resource, event.skip);
      return undefined;
    }
    if (event.type === 'ERROR') return event.status;
    if (event.resourceVersion) this.resourceVersion = event.resourceVersion;
    if (event.type === 'BOOKMARK') return undefined;
    const op = event.type === 'DELETED' ? 'remove' : 'upsert';
    const delivered = this.transform(withKind(event.object, kind, apiVersion));
    this.shared.deliver(resource, op, () => this.shared.sink[op](resource, delivered));
    return undefined;
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
}

/** The object with `kind` and `apiVersion` set (list items come without them). */
function withKind(o: Raw, kind: string, apiVersion: string): KubeObject {
  return {
    ...o,
    kind: typeof o.kind === 'string' ? o.kind : kind,
    apiVersion: typeof o.apiVersion === 'string' ? o.apiVersion : apiVersion,
  } as KubeObject;
}
