/** What every watch and the ConfigMap poll share: the client, the sink and health, the options. */
import type * as k8s from '@kubernetes/client-node';
import type { ObjectSink, SourceHealth, WatchedResource } from '../types';
import type { BackoffOptions, ClientNode, KubernetesSourceOptions, SourceLogger } from './options';
import type { Apis } from './resources';

export interface Shared {
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

