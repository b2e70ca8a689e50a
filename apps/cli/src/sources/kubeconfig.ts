/**
 * Which cluster the CLI reads, found the way kubectl finds it: `--kubeconfig`, else $KUBECONFIG
 * (a list of files), else ~/.kube/config; the kubeconfig's current context unless `--context`.
 * Messages name the files and the context, never their contents (kubeconfigs hold credentials).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { describeKubeconfigLoadError, safeServer } from '@loopscope/core/node';
import { UsageError } from '../io';

export interface KubeTarget {
  kubeconfig?: string;
  context?: string;
}

export const NO_CLUSTER_FLAGS = 'use --kubeconfig FILE and --context NAME, --snapshot FILE|DIR, or --demo for the bundled demo cluster';

export interface LoadedKubeConfig {
  kc: KubeConfig;
  /** "kubeconfig /path, context NAME" for messages. */
  where: string;
  /** The API server URL without credentials or query. */
  server: string;
}

/** The kubeconfig files kubectl would read, or undefined when there are none. */
function kubeconfigFiles(target: KubeTarget): { files: string[]; label: string } | undefined {
  if (target.kubeconfig) return { files: [target.kubeconfig], label: target.kubeconfig };
  const env = process.env.KUBECONFIG;
  if (env) {
    const files = env.split(delimiter).filter(Boolean);
    if (files.length) return { files, label: `${files.join(delimiter)} (KUBECONFIG)` };
  }
  const file = join(process.env.HOME || homedir(), '.kube', 'config');
  return existsSync(file) ? { files: [file], label: file } : undefined;
}

export async function loadKubeConfig(target: KubeTarget): Promise<LoadedKubeConfig> {
  const found = kubeconfigFiles(target);
  if (!found) {
    throw new UsageError(
      `no cluster to read: no kubeconfig (no --kubeconfig, KUBECONFIG unset, no ${join(process.env.HOME || homedir(), '.kube', 'config')}); ${NO_CLUSTER_FLAGS}`,
    );
  }
  if (target.kubeconfig && !existsSync(target.kubeconfig))
    throw new UsageError(`--kubeconfig ${target.kubeconfig}: no such file; ${NO_CLUSTER_FLAGS}`);
  // client-node loads lazily: snapshot and demo runs never pay for it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    // Several KUBECONFIG files merge, the first file's current-context winning (as kubectl does).
    if (found.files.length === 1) kc.loadFromFile(found.files[0]!);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`kubeconfig ${found.label}: ${describeKubeconfigLoadError(err) ?? 'cannot be loaded'}; ${NO_CLUSTER_FLAGS}`);
  }
  if (target.context) {
    if (!kc.getContextObject(target.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UsageError(
        `kubeconfig ${found.label} has no context "${target.context}" (contexts: ${known.length ? known.join(', ') : 'none'})`,
      );
    }
    kc.setCurrentContext(target.context);
  }
  const context = kc.getCurrentContext();
  const where = `kubeconfig ${found.label}, context ${context ? `"${context}"` : '(none)'}`;
  if (!context) throw new UsageError(`${where}: no current context; ${NO_CLUSTER_FLAGS}`);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UsageError(`${where}: the context names no cluster; ${NO_CLUSTER_FLAGS}`);
  if (!URL.canParse(cluster.server)) throw new UsageError(`${where}: the cluster's server is not a URL`);
  return { kc, where, server: safeServer(cluster.server) };
}
