/** The kube-proxy ConfigMap in kube-system, read by a periodic GET (it is one object: no watch). */
import type { KubeObject } from '@loopscope/core';
import { Backoff } from './backoff';
import { deferred } from './deferred';
import { seconds } from './duration';
import { describeError, hintFor, httpStatusOf, SourceError } from './errors';
import { KUBE_PROXY } from './resources';
import type { Shared } from './shared';
import { isRecord } from './watchEvents';

/** GETs kube-system/kube-proxy periodically; 403 and 404 mean "absent" (logged once). */
export class KubeProxyConfigMap {
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
      const path = `/api/v1/namespaces/${encodeURIComponent(KUBE_PROXY.namespace)}/configmaps/${encodeURIComponent(KUBE_PROXY.name)}`;
      const body = await this.shared.api.getJson(path, this.stopController.signal);
      if (!isRecord(body) || !isRecord(body.metadata))
        throw new SourceError(`GET of the ConfigMap ${where} returned something that is not a ConfigMap`);
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
