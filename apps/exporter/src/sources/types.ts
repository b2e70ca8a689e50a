import type { KubeObject } from '@loopscope/core';

/** The resources the exporter reads. Each maps to one informer (or, for the ConfigMap, a periodic get). */
export type WatchedResource = 'nodes' | 'pods' | 'services' | 'endpointslices' | 'configmaps';

export const WATCHED_RESOURCES: readonly WatchedResource[] = ['nodes', 'pods', 'services', 'endpointslices', 'configmaps'];

/**
 * Where a source delivers objects. Objects arrive as the API server sends them (full objects with
 * `kind` set); the sink slims and stores them.
 */
export interface ObjectSink {
  /** A complete list of one resource (first sync, or a relist after 410 Gone): replaces all of it. */
  replace(resource: WatchedResource, objects: KubeObject[]): void;
  upsert(resource: WatchedResource, object: KubeObject): void;
  remove(resource: WatchedResource, object: KubeObject): void;
}

/** A watched resource, or `snapshot` for the snapshot file source. */
export type HealthResource = WatchedResource | 'snapshot';

/** What a source reports about itself; the exporter turns these into its health metrics. */
export interface SourceHealth {
  /** A watch ended (dropped connection, error, 410) and is being restarted. */
  watchRestarted(resource: HealthResource, reason: string): void;
  /** A list or watch failed (API server unreachable, 5xx, 403). Never includes credentials. */
  watchError(resource: HealthResource, message: string): void;
  /** An object the source could not use at all (not JSON, no metadata); counted and logged once. */
  objectSkipped(resource: HealthResource, reason: string): void;
  /**
   * A watch event the source could not use (not JSON, wrong shape, over the size cap): skipped,
   * counted every time (each is a distinct event), never fatal.
   */
  eventSkipped(resource: HealthResource, reason: string): void;
  /** The resource is current: listed (first time, or again after a relist), or its watch recovered. */
  synced(resource: HealthResource): void;
}

export interface ClusterSource {
  /** Human-readable description for logs ("kubeconfig /root/.kube/config, context prod"). Never a token. */
  readonly description: string;
  /** Starts delivering; resolves once every resource has been listed once (rejects if that cannot happen). */
  start(sink: ObjectSink, health: SourceHealth): Promise<void>;
  /** Stops every watch and timer; resolves when nothing is left running. */
  stop(): Promise<void>;
}
