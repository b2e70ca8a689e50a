/** What every watch and the ConfigMap poll share: the API, the sink and health, the options. */
import type { ObjectSink, SourceHealth, WatchedResource } from '../types';
import type { KubeApi } from './kubeApi';
import type { BackoffOptions, KubernetesSourceOptions, SourceLogger } from './options';

export interface Shared {
  api: KubeApi;
  sink: ObjectSink;
  health: SourceHealth;
  log: SourceLogger;
  options: Required<
    Pick<
      KubernetesSourceOptions,
      | 'listPageSize'
      | 'watchIdleGraceSeconds'
      | 'configMapPollSeconds'
      | 'requestTimeoutSeconds'
      | 'maxResponseBytes'
      | 'maxWatchEventBytes'
    >
  > &
    KubernetesSourceOptions;
  backoff: Required<BackoffOptions>;
  /** Reports an unusable object: counted every time, logged once per resource and reason. */
  skipped(resource: WatchedResource, reason: string): void;
  /** Reports an unusable watch event (a line): counted every time, logged once per resource and reason. */
  eventSkipped(resource: WatchedResource, reason: string): void;
  /** Runs a sink call; a throwing sink is reported, not propagated (true if it went through). */
  deliver(resource: WatchedResource, what: string, call: () => void): boolean;
}
