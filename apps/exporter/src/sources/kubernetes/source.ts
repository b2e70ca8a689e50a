/**
 * The live-cluster source: one ResourceWatch per informed resource and the kube-proxy ConfigMap
 * poll, started together; `start()` resolves once each has delivered its first complete list.
 */
import type * as k8s from '@kubernetes/client-node';
import type { ClusterSource, ObjectSink, SourceHealth } from '../types';
import { seconds } from './duration';
import { describeError } from './errors';
import { KubeProxyConfigMap } from './kubeProxyConfigMap';
import { loadKubeConfig, locateKubeConfig } from './kubeconfig';
import type { ClientNode, KubernetesSourceOptions, LogLevel, SourceLogger } from './options';
import { ResourceWatch } from './resourceWatch';
import { KUBE_PROXY, SPECS } from './resources';
import type { Shared } from './shared';

/**
 * A real dynamic `import()`. Written as a Function body because TypeScript, compiling this package
 * to CommonJS, would otherwise turn `import()` into `require()`, which cannot load the ESM-only
 * client-node on Node < 20.19 (and `require(esm)` is still experimental there).
 */
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function loadClientNode(): Promise<ClientNode> {
  return (await nativeImport('@kubernetes/client-node')) as ClientNode;
}

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
    let kc: k8s.KubeConfig;
    try {
      ({ kc, server: this.server } = loadKubeConfig(client, this.options, this.where, this.log));
    } catch (err) {
      this.phase = 'stopped';
      throw err;
    }

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
}
