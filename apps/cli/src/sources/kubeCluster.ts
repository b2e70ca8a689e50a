/**
 * Reads a live cluster: read-only, paged GET lists of the objects the model reads, with the
 * kubeconfig's credentials and TLS settings applied by client-node's `KubeConfig`. The lists are
 * the same JSON `kubectl get -o json` prints, slimmed page by page, so a live read and a snapshot of
 * the same objects give the same report.
 */
import http from 'node:http';
import https from 'node:https';
import type { InputProblem, SourcedObject } from '@loopscope/core';
import { UsageError, type CliIO } from '../io';
import type { Progress } from '../progress';
import { loadKubeConfig, NO_CLUSTER_FLAGS, type KubeTarget, type LoadedKubeConfig } from './kubeconfig';
import { slimmed } from './slimmed';

interface ListSpec {
  path: string;
  kind: string;
  apiVersion: string;
  /** Without it the model still works (less precisely): a 403/404 is a note, not a failure. */
  optional?: string;
}

const LISTS: readonly ListSpec[] = [
  { path: '/api/v1/nodes', kind: 'Node', apiVersion: 'v1' },
  { path: '/api/v1/pods', kind: 'Pod', apiVersion: 'v1' },
  { path: '/api/v1/services', kind: 'Service', apiVersion: 'v1' },
  { path: '/apis/discovery.k8s.io/v1/endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' },
  {
    path: '/apis/apps/v1/namespaces/kube-system/daemonsets',
    kind: 'DaemonSet',
    apiVersion: 'apps/v1',
    optional: 'the kube-proxy mode is read from its pods only',
  },
  { path: '/apis/apps/v1/replicasets', kind: 'ReplicaSet', apiVersion: 'apps/v1', optional: 'Deployments are named from their pods' },
  { path: '/apis/batch/v1/jobs', kind: 'Job', apiVersion: 'batch/v1', optional: 'CronJobs are named from their pods' },
];

const KUBE_PROXY_CONFIGMAP = '/api/v1/namespaces/kube-system/configmaps/kube-proxy';

/** A page of 500 objects, as kubectl asks for. */
const PAGE = 500;
const REQUEST_TIMEOUT_MS = 60_000;
const CREDENTIALS_TIMEOUT_MS = 30_000;
/** One page of 500 pods is well under this; a larger answer is not a Kubernetes list page. */
const MAX_PAGE_BYTES = 256 * 1024 * 1024;

class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`HTTP ${status}${reason ? ` ${reason}` : ''}`);
  }
}

export async function readKubeCluster(
  target: KubeTarget,
  io: CliIO,
  progress: Progress,
): Promise<{ objects: SourcedObject[]; problems: InputProblem[]; names: string[] }> {
  const config = await loadKubeConfig(target);
  const objects: SourcedObject[] = [];
  const problems: InputProblem[] = [];
  const source = `${config.where} (${config.server})`;
  const agent = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  try {
    for (const spec of LISTS) {
      let cont: string | undefined;
      let index = 0;
      do {
        progress.update(`listing ${spec.kind}s from ${config.server}: ${index} so far, ${objects.length} objects in all`);
        const query = new URLSearchParams({ limit: String(PAGE), ...(cont ? { continue: cont } : {}) });
        let page: { items?: unknown; metadata?: { continue?: unknown } };
        try {
          page = (await getJson(config, agent, `${spec.path}?${query}`)) as typeof page;
        } catch (err) {
          if (spec.optional && err instanceof HttpStatus && (err.status === 403 || err.status === 404)) {
            if (err.status === 403) io.stderr(`note: ${config.where}: cannot list ${spec.kind}s (${err.message}); ${spec.optional}\n`);
            break;
          }
          throw failure(config, `listing ${spec.kind}s`, err);
        }
        const items = Array.isArray(page.items) ? page.items : [];
        for (const item of items) {
          // The API server leaves kind and apiVersion off list items; kubectl puts them back.
          const object = item && typeof item === 'object' ? { kind: spec.kind, apiVersion: spec.apiVersion, ...(item as object) } : item;
          objects.push(slimmed({ object: object as SourcedObject['object'], source, index: index++ }));
        }
        cont = typeof page.metadata?.continue === 'string' && page.metadata.continue ? page.metadata.continue : undefined;
      } while (cont);
    }
    try {
      const cm = (await getJson(config, agent, KUBE_PROXY_CONFIGMAP)) as object;
      objects.push(slimmed({ object: { kind: 'ConfigMap', apiVersion: 'v1', ...cm }, source, index: 0 }));
    } catch (err) {
      if (!(err instanceof HttpStatus && (err.status === 403 || err.status === 404)))
        throw failure(config, 'reading ConfigMap kube-system/kube-proxy', err);
    }
  } finally {
    agent.http.destroy();
    agent.https.destroy();
  }
  return { objects, problems, names: [source] };
}

/** One line naming what was tried, why it failed, and what to do instead. */
function failure(config: LoadedKubeConfig, doing: string, err: unknown): UsageError {
  const why = describe(err);
  const hint =
    err instanceof HttpStatus && err.status === 401
      ? 'the credentials were rejected; '
      : err instanceof HttpStatus && err.status === 403
        ? 'read access to nodes, pods, services and endpointslices is needed; '
        : '';
  return new UsageError(`cannot read the cluster of ${config.where} (${config.server}): ${doing}: ${why}; ${hint}${NO_CLUSTER_FLAGS}`);
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Never the error's message: client-node's and the socket's can quote headers or credentials. */
function describe(err: unknown): string {
  if (err instanceof HttpStatus || err instanceof UsageError) return err.message;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,48}$/.test(code)) {
    if (NETWORK[code]) return `${NETWORK[code]} (${code})`;
    if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO/.test(code)) return `TLS error (${code})`;
    return `error ${code}`;
  }
  return `${(err as { name?: unknown })?.name === 'TimeoutError' ? 'timed out' : 'failed before any HTTP response'} (credentials plugin, certificate files?)`;
}

async function getJson(config: LoadedKubeConfig, agent: { http: http.Agent; https: https.Agent }, path: string): Promise<unknown> {
  const opts: https.RequestOptions = {};
  await withTimeout(config.kc.applyToHTTPSOptions(opts), CREDENTIALS_TIMEOUT_MS, 'the kubeconfig credentials were not ready in time');
  const cluster = config.kc.getCurrentCluster()!;
  let end = cluster.server.length;
  while (end > 0 && cluster.server.charCodeAt(end - 1) === 47 /* / */) end--; // not /\/+$/: quadratic on a run of slashes
  const url = new URL(cluster.server.slice(0, end) + path);
  const secure = url.protocol === 'https:';
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername, auth } = opts;
  const headers = { ...(opts.headers as Record<string, string> | undefined), Accept: 'application/json', 'User-Agent': 'loopscope-cli' };
  const send = secure ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'GET',
      headers,
      agent: cluster.proxyUrl ? opts.agent : secure ? agent.https : agent.http,
      ca,
      cert,
      key,
      pfx,
      passphrase,
      rejectUnauthorized,
      servername,
      auth,
      timeout: REQUEST_TIMEOUT_MS,
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > MAX_PAGE_BYTES) {
          res.destroy();
          reject(new UsageError(`the answer to ${url.pathname} grew past ${MAX_PAGE_BYTES / 1024 / 1024} MiB`));
          return;
        }
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) return reject(new HttpStatus(status, statusReason(text) ?? http.STATUS_CODES[status] ?? ''));
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new UsageError(`the answer to ${url.pathname} is not JSON (is ${url.origin} a Kubernetes API server?)`));
        }
      });
    });
    req.end();
  });
}

function statusReason(text: string): string | undefined {
  try {
    const reason = (JSON.parse(text) as { reason?: unknown }).reason;
    return typeof reason === 'string' && /^[A-Za-z]{1,64}$/.test(reason) ? reason : undefined;
  } catch {
    return undefined;
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new UsageError(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
