/**
 * The live-cluster source: one ResourceWatch per informed resource and the kube-proxy ConfigMap
 * poll, over one KubeApi (credentials, keep-alive, deadlines, size caps), started together;
 * `start()` resolves once each has delivered its first complete list.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterSource, ObjectSink, SourceHealth, WatchedResource } from '../types';
import { seconds } from './duration';
import { KubeApi } from './kubeApi';
import { KubeProxyConfigMap } from './kubeProxyConfigMap';
import { loadKubeConfig, locateKubeConfig } from './kubeconfig';
import { DEFAULT_LIMITS, type KubernetesSourceOptions, type LogLevel, type SourceLogger } from './options';
import { ResourceWatch } from './resourceWatch';
import { KUBE_PROXY, SPECS } from './resources';
import type { Shared } from './shared';

function defaultLogger(level: LogLevel, msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} kubernetes-source: ${msg}\n`);
}

/** Distinct problems logged per source; past it, problems are only counted. */
const MAX_LOGGED_SKIPS = 200;

export class KubernetesSource implements ClusterSource {
  private readonly options: KubernetesSourceOptions;
  private readonly log: SourceLogger;
  private where: string;
  private server: string | undefined;
  private phase: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private watches: ResourceWatch[] = [];
  private configMap: KubeProxyConfigMap | undefined;
  private api: KubeApi | undefined;
  private readonly loggedSkips = new Set<string>();

  constructor(options: KubernetesSourceOptions = {}) {
    this.options = options;
    this.log = options.logger ?? defaultLogger;
    this.where = locateKubeConfig(options);
  }

  /** "kubeconfig /root/.kube/config, context prod, server https://…" (never a credential). */
  get description(): string {
    return `${this.where}${this.options.context ? `, context ${this.options.context}` : ''}${this.server ? `, server ${this.server}` : ''}`;
  }

  async start(sink: ObjectSink, health: SourceHealth): Promise<void> {
    if (this.phase !== 'new') throw new Error(`KubernetesSource.start(): already ${this.phase}`);
    this.phase = 'starting';
    const started = Date.now();
    let kc: KubeConfig;
    try {
      ({ kc, server: this.server } = loadKubeConfig(this.options, this.where, this.log));
    } catch (err) {
      this.phase = 'stopped';
      throw err;
    }

    const o = this.options;
    const options: Shared['options'] = {
      ...o,
      listPageSize: o.listPageSize ?? DEFAULT_LIMITS.listPageSize,
      watchIdleGraceSeconds: o.watchIdleGraceSeconds ?? 30,
      configMapPollSeconds: o.configMapPollSeconds ?? 60,
      requestTimeoutSeconds: o.requestTimeoutSeconds ?? DEFAULT_LIMITS.requestTimeoutSeconds,
      maxResponseBytes: o.maxResponseBytes ?? DEFAULT_LIMITS.maxResponseBytes,
      maxWatchEventBytes: o.maxWatchEventBytes ?? DEFAULT_LIMITS.maxWatchEventBytes,
    };
    const timeoutMs = Math.max(1, options.requestTimeoutSeconds * 1000);
    const api = new KubeApi(kc, {
      requestTimeoutMs: timeoutMs,
      credentialTimeoutMs: timeoutMs,
      maxResponseBytes: options.maxResponseBytes,
    });
    this.api = api;
    const logOnce = (resource: WatchedResource, what: string, reason: string): void => {
      const key = `${resource}\0${what}\0${reason.replace(/\d+/g, 'N')}`;
      if (this.loggedSkips.has(key) || this.loggedSkips.size >= MAX_LOGGED_SKIPS) return;
      this.loggedSkips.add(key);
      this.log('warn', `${resource}: skipped ${what}: ${reason} (further ones are only counted)`);
    };
    const shared: Shared = {
      api,
      sink,
      health,
      log: this.log,
      options,
      backoff: {
        initialMs: o.backoff?.initialMs ?? 1000,
        maxMs: o.backoff?.maxMs ?? 30_000,
        factor: o.backoff?.factor ?? 2,
        resetAfterMs: o.backoff?.resetAfterMs ?? 60_000,
      },
      skipped: (resource, reason) => {
        health.objectSkipped(resource, reason);
        logOnce(resource, 'an object', reason);
      },
      eventSkipped: (resource, reason) => {
        health.eventSkipped(resource, reason);
        logOnce(resource, 'a watch event', reason);
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
    this.log(
      'info',
      `watching nodes, pods, services, endpointslices and ${KUBE_PROXY.namespace}/${KUBE_PROXY.name} via ${this.description}`,
    );
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
    this.api?.close();
  }
}
