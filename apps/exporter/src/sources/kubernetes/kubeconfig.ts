/**
 * Finding and loading the kubeconfig the way kubectl and client-node do (KUBECONFIG, then
 * ~/.kube/config, then the in-cluster service account), with errors that name the file and the
 * context but never quote its contents.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describeKubeconfigLoadError, safeServer } from '@loopscope/core/node';
import { describeError } from './errors';
import type { KubernetesSourceOptions, SourceLogger } from './options';

const SERVICEACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where `loadFromDefault` will find its configuration (the same order client-node uses). */
export function locateKubeConfig(options: KubernetesSourceOptions): string {
  if (options.kubeconfig) return `kubeconfig ${options.kubeconfig}`;
  const env = process.env.KUBECONFIG;
  if (env) return `kubeconfig ${env.split(delimiter).filter(Boolean).join(', ')} (KUBECONFIG)`;
  const home = process.env.HOME || process.env.USERPROFILE || homedir();
  const file = home ? join(home, '.kube', 'config') : undefined;
  if (file && existsSync(file)) return `kubeconfig ${file}`;
  if (existsSync(SERVICEACCOUNT_TOKEN_PATH)) return 'in-cluster service account';
  return 'no kubeconfig found (KUBECONFIG unset, no ~/.kube/config, not in a cluster)';
}

/**
 * Loads the kubeconfig described by `where` and selects the context; throws an Error whose message
 * is safe to show. Returns the config and the server URL without credentials or query.
 */
export function loadKubeConfig(options: KubernetesSourceOptions, where: string, log: SourceLogger): { kc: KubeConfig; server: string } {
  const kc = new KubeConfig();
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new Error(`cannot load ${where}: ${describeKubeconfigLoadError(err) ?? describeError(err)}`);
  }
  const context = options.context;
  if (context) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new Error(`${where} has no context "${context}" (contexts: ${known.length ? known.join(', ') : 'none'})`);
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${where}: context "${kc.getCurrentContext()}" names no cluster`);
  if (!URL.canParse(cluster.server)) throw new Error(`${where}: the server of context "${kc.getCurrentContext()}" is not a URL`);
  const server = safeServer(cluster.server);
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify && !cluster.proxyUrl) {
    throw new Error(
      `${where}: the server ${server} is plain HTTP, which client-node only accepts with insecure-skip-tls-verify: true on the cluster`,
    );
  }
  if (!options.kubeconfig && where.startsWith('no kubeconfig found'))
    log('warn', `no kubeconfig found; client-node falls back to ${server}`);
  return { kc, server };
}
