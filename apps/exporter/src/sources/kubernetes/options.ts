/** What the Kubernetes source can be told: where the cluster is, timings, and a transform. */
import type { KubeObject } from '@loopscope/core';
import type { Logger, LogLevel } from '@loopscope/core/node';
import type { WatchedResource } from '../types';

export type { LogLevel };
export type SourceLogger = Logger;

export interface BackoffOptions {
  /** First retry delay (before jitter). Default 1000 ms. */
  initialMs?: number;
  /** Cap on the delay (before jitter). Default 30000 ms. */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
  /** A watch that stayed up this long resets the backoff. Default 60000 ms. */
  resetAfterMs?: number;
}

export interface KubernetesSourceOptions {
  /** Kubeconfig file. Default: `KUBECONFIG`, then ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string;
  /** Kubeconfig context to use instead of its current-context. */
  context?: string;
  /** How often to GET kube-system/kube-proxy. Default 60 s. */
  configMapPollSeconds?: number;
  /** Where log lines go. Default: stderr. */
  logger?: SourceLogger;
  /** Retry timing for failed lists and watches. */
  backoff?: BackoffOptions;
  /** Items per list page (`limit`). Default 500. */
  listPageSize?: number;
  /**
   * `timeoutSeconds` asked of the server for each watch. Default: random per resource in [300, 600)
   * like client-go, so that watches of different resources do not all reconnect together.
   */
  watchTimeoutSeconds?: number;
  /** Extra wait past `watchTimeoutSeconds` before a silent watch is presumed dead. Default 30 s. */
  watchIdleGraceSeconds?: number;
  /**
   * Applied to each object before it reaches the sink (e.g. core's `slimObject`, to keep peak
   * memory low during large lists). Returning undefined delivers the object unchanged.
   */
  transform?: (object: KubeObject, resource: WatchedResource) => KubeObject | undefined;
  /**
   * Deadline of each API request, in seconds: a list page or GET from request to last byte, a watch
   * up to its response headers, and applying the kubeconfig's credentials (an exec plugin is killed
   * after it). A request past it counts as failed (so the input is reported stale). Default 60.
   */
  requestTimeoutSeconds?: number;
  /** Largest list page or GET response accepted, in bytes. Default 128 MiB. */
  maxResponseBytes?: number;
  /** Largest watch event (one line) accepted, in bytes; a longer one is skipped. Default 16 MiB. */
  maxWatchEventBytes?: number;
}

export const DEFAULT_LIMITS = {
  listPageSize: 500,
  requestTimeoutSeconds: 60,
  maxResponseBytes: 128 * 1024 * 1024,
  maxWatchEventBytes: 16 * 1024 * 1024,
} as const;
