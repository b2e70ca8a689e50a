import type { ClusterAnalysis } from '../analysis/analyze';
import { analyzeCluster, type ClusterAnalysisOptions } from '../load/load';
import { analyzeService, refreshOutcome, type ServiceAnalysis } from '../analysis/service';
import { buildClusterState, isDatapathPod, normalizePod, rebuildService } from '../cluster/build';
import type { ClusterModel, ClusterPod } from '../cluster/model';
import type { WorkloadRegistry } from '../cluster/workloads';
import type { KubeObject } from '../kube/objects';
import type { InputProblem } from '../kube/problems';
import { slimObject } from '../kube/slim';
import type { SourcedObject } from '../kube/snapshot';
import { LABEL } from '../kube/vocabulary';

export type RecomputeMode = 'none' | 'full' | 'incremental';

export interface RecomputeResult {
  mode: RecomputeMode;
  /** Services analysed again (all of them on a full rebuild). */
  servicesAnalysed: number;
  /** Pod changes applied incrementally. */
  podChanges: number;
  durationMs: number;
}

const SERVICE_NAME_LABEL = LABEL.serviceName;

/**
 * The cluster as a watcher sees it: objects arrive one at a time, and the analysis is brought up to
 * date by re-analysing only what a change can move.
 *
 * - Nodes, kube-proxy / cilium pods, ConfigMaps, DaemonSets, ReplicaSets, Jobs, a Service appearing
 *   or disappearing, a relist: a full rebuild (they change the profile or the indices).
 * - A Service or EndpointSlice change: that Service is rebuilt and analysed again.
 * - A client pod change: the client counts of its node(s) move; the Services that can loop on those
 *   nodes (or whose endpoints it is) are analysed again, and every other figure is rescaled to the
 *   new number of client pods.
 *
 * Objects are kept slim (`slimObject`); an update that changes nothing the model reads is ignored
 * (most pod and node status updates). The cluster model is owned and mutated here: read the
 * analysis right after `recompute()`, not across calls.
 */
export class LiveCluster {
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private full = true;
  private readonly dirtyServices = new Set<string>();
  private readonly dirtyPods = new Set<string>();
  private state?: {
    cluster: ClusterModel;
    registry: WorkloadRegistry;
    analysis: ClusterAnalysis;
    podSlot: Map<string, number>;
    freeSlots: number[];
    serviceIndex: Map<string, number>;
    /** node → Services that may loop (or be unknown, or have no eligible backend) there */
    servicesByNode?: Map<number, Set<number>>;
    /** endpoint IP → Services it backs (a pod backend calling its own Service) */
    servicesByEndpointIp?: Map<string, number[]>;
  };

  constructor(private readonly options: Omit<ClusterAnalysisOptions, 'profile' | 'evidence'> = {}) {}

  /** New node dumps (a node agent's fresh evidence, or none for a stale one): a full rebuild. */
  setNodeDumps(dumps: ClusterAnalysisOptions['nodeDumps']): void {
    this.options.nodeDumps = dumps;
    this.full = true;
  }

  /**
   * A complete list of one kind (first sync, relist): replaces all objects of that kind. Returns
   * what could not be read at all (skipped, the rest kept), one line per object.
   */
  replace(kind: string, objects: KubeObject[]): string[] {
    const m = new Map<string, KubeObject>();
    const skipped: string[] = [];
    objects.forEach((o, i) => {
      try {
        const slim = slimObject({ ...o, kind });
        if (slim) m.set(keyOf(slim), slim);
      } catch (err) {
        skipped.push(`${kind} ${keyOf(o ?? {})} (item ${i}): ${(err as Error).message}`);
      }
    });
    this.store.set(kind, m);
    this.full = true;
    return skipped;
  }

  /** Returns whether the model's inputs changed. */
  upsert(object: KubeObject): boolean {
    const slim = slimObject(object);
    if (!slim || !slim.kind) return false;
    let m = this.store.get(slim.kind);
    if (!m) this.store.set(slim.kind, (m = new Map()));
    const key = keyOf(slim);
    const old = m.get(key);
    if (old && JSON.stringify(old) === JSON.stringify(slim)) return false;
    m.set(key, slim);
    this.classify(slim.kind, key, old, slim);
    return true;
  }

  remove(object: KubeObject): boolean {
    const kind = object.kind;
    if (!kind) return false;
    const m = this.store.get(kind);
    const key = keyOf(object);
    const old = m?.get(key);
    if (!old) return false;
    m!.delete(key);
    this.classify(kind, key, old, undefined);
    return true;
  }

  get pending(): boolean {
    return this.full || this.dirtyServices.size > 0 || this.dirtyPods.size > 0;
  }

  get analysis(): ClusterAnalysis | undefined {
    return this.state?.analysis;
  }

  get objectCount(): number {
    let n = 0;
    for (const m of this.store.values()) n += m.size;
    return n;
  }

  private classify(kind: string, key: string, before: KubeObject | undefined, after: KubeObject | undefined): void {
    if (this.full) return;
    switch (kind) {
      case 'Pod': {
        // A pod on a node the model does not hold yet gets a placeholder node: a full rebuild.
        const nodeName = (after?.spec as { nodeName?: unknown } | undefined)?.nodeName;
        const unknownNode =
          typeof nodeName === 'string' && nodeName !== '' && this.state !== undefined && !this.state.cluster.nodeByName.has(nodeName);
        if ((before && isDatapathPod(before)) || (after && isDatapathPod(after)) || unknownNode) this.full = true;
        else this.dirtyPods.add(key);
        return;
      }
      case 'Service':
        if (!before || !after)
          this.full = true; // indices shift
        else this.dirtyServices.add(key);
        return;
      case 'Endpoints':
        this.dirtyServices.add(key);
        return;
      case 'EndpointSlice':
        for (const o of [before, after]) {
          const svc = o?.metadata?.labels?.[SERVICE_NAME_LABEL];
          if (svc) this.dirtyServices.add(`${o!.metadata?.namespace ?? ''}/${svc}`);
        }
        return;
      default:
        this.full = true;
    }
  }

  /** Brings the analysis up to date with every change since the last call. */
  recompute(): RecomputeResult {
    const start = process.hrtime.bigint();
    const done = (mode: RecomputeMode, servicesAnalysed: number, podChanges: number): RecomputeResult => ({
      mode,
      servicesAnalysed,
      podChanges,
      durationMs: Number(process.hrtime.bigint() - start) / 1e6,
    });
    if (this.full || !this.state) {
      this.rebuild();
      return done('full', this.state!.cluster.services.length, 0);
    }
    if (!this.pending) return done('none', 0, 0);
    const s = this.state;
    const cluster = s.cluster;
    const reanalyse = new Set<number>();
    const podChanges = this.dirtyPods.size;
    const clientsBefore = cluster.clientPodCount;
    const touchedNodes = new Set<number>();
    const touchedIps = new Set<string>();
    for (const key of this.dirtyPods) this.applyPod(key, touchedNodes, touchedIps);
    this.dirtyPods.clear();
    for (const key of this.dirtyServices) {
      const index = s.serviceIndex.get(key);
      if (index === undefined) continue; // a slice of a Service we do not have
      reanalyse.add(index);
    }
    this.dirtyServices.clear();
    if (reanalyse.size > 0) {
      cluster.services = cluster.services.slice(); // new array: lookups cached per array start afresh
      for (const index of reanalyse) {
        const svc = cluster.services[index]!;
        const key = `${svc.namespace}/${svc.name}`;
        const v1 = this.sourced('Endpoints', key);
        cluster.services[index] = rebuildService(
          cluster,
          index,
          this.sourced('Service', key)!,
          this.slicesOf(svc.namespace, svc.name),
          v1 ? [v1] : [],
        );
      }
    }
    if (reanalyse.size > 0) s.servicesByEndpointIp = undefined;
    // Pods that are endpoints of a Service (a pod backend calling its own Service) move its corrections.
    const byIp = this.servicesByEndpointIp();
    for (const ip of touchedIps) for (const index of byIp.get(ip) ?? []) reanalyse.add(index);
    const byNode = this.servicesByNode();
    for (const n of touchedNodes) for (const index of byNode.get(n) ?? []) reanalyse.add(index);

    // In place: the analysis belongs to this model (a new wrapper object marks the change).
    const services = s.analysis.services;
    const context = s.analysis.context;
    for (const index of reanalyse) {
      const old = services[index]!;
      const fresh = analyzeService(context, cluster.services[index]!);
      if (old.observed) fresh.observed = old.observed;
      services[index] = fresh;
      this.indexByNode(services[index]!);
    }
    // Every other figure follows the new number of client pods by itself (it is derived); only a
    // cluster gaining its first client pods or losing its last can change their verdicts.
    if (podChanges > 0 && (clientsBefore === 0) !== (cluster.clientPodCount === 0)) {
      for (const sa of services) if (!reanalyse.has(sa.service.index)) refreshOutcome(context, sa);
    }
    s.analysis = { ...s.analysis, services };
    return done('incremental', reanalyse.size, podChanges);
  }

  private rebuild(): void {
    const objects: SourcedObject[] = [];
    for (const [kind, m] of this.store) {
      let i = 0;
      for (const object of m.values()) objects.push({ object, source: `watch:${kind}`, index: i++ });
    }
    // A kind listed (even empty) was read completely: its absence is not missing input.
    const { cluster, registry } = buildClusterState(objects, [], { presentKinds: this.store.keys() });
    const analysis = analyzeCluster(cluster, this.options);
    const podSlot = new Map<string, number>();
    cluster.pods.forEach((p, i) => podSlot.set(`${p.namespace}/${p.name}`, i));
    const serviceIndex = new Map(cluster.services.map((svc) => [`${svc.namespace}/${svc.name}`, svc.index]));
    this.state = { cluster, registry, analysis, podSlot, freeSlots: [], serviceIndex };
    this.full = false;
    this.dirtyPods.clear();
    this.dirtyServices.clear();
  }

  /** Input problems of the last full rebuild plus those found since. */
  get problems(): InputProblem[] {
    return this.state?.cluster.problems ?? [];
  }

  private sourced(kind: string, key: string): SourcedObject | undefined {
    const object = this.store.get(kind)?.get(key);
    return object ? { object, source: `watch:${kind}`, index: 0 } : undefined;
  }

  private slicesOf(namespace: string, service: string): SourcedObject[] {
    const out: SourcedObject[] = [];
    for (const object of this.store.get('EndpointSlice')?.values() ?? []) {
      if (object.metadata?.namespace === namespace && object.metadata?.labels?.[SERVICE_NAME_LABEL] === service) {
        out.push({ object, source: 'watch:EndpointSlice', index: out.length });
      }
    }
    return out;
  }

  /** Replaces one pod in the model and moves the client counts of the nodes it left and joined. */
  private applyPod(key: string, touchedNodes: Set<number>, touchedIps: Set<string>): void {
    const s = this.state!;
    const cluster = s.cluster;
    const slot = s.podSlot.get(key);
    const before = slot !== undefined ? cluster.pods[slot] : undefined;
    const object = this.store.get('Pod')?.get(key);
    const after = object
      ? normalizePod({ object, source: 'watch:Pod', index: 0 }, cluster.nodeByName, s.registry, cluster.problems)
      : undefined;
    if (before?.role === 'client') this.count(before, -1, touchedNodes);
    if (after?.role === 'client') this.count(after, +1, touchedNodes);
    for (const p of [before, after]) if (p?.ip) touchedIps.add(p.ip);
    if (after) {
      const index = slot ?? s.freeSlots.pop() ?? cluster.pods.length;
      cluster.pods[index] = after;
      s.podSlot.set(key, index);
      if (after.role === 'client' && after.ip && (cluster.podByEndpointIp.has(after.ip) || this.isEndpointIp(after.ip)))
        cluster.podByEndpointIp.set(after.ip, index);
    } else if (slot !== undefined) {
      // A tombstone keeps every other index stable; its slot is reused by the next new pod.
      cluster.pods[slot] = { namespace: '', name: '', node: -1, role: 'notRunning', phase: 'Deleted', workload: before!.workload };
      s.podSlot.delete(key);
      s.freeSlots.push(slot);
      if (before?.ip && cluster.podByEndpointIp.get(before.ip) === slot) cluster.podByEndpointIp.delete(before.ip);
    }
  }

  private isEndpointIp(ip: string): boolean {
    return this.servicesByEndpointIp().has(ip);
  }

  private servicesByEndpointIp(): Map<string, number[]> {
    const s = this.state!;
    if (!s.servicesByEndpointIp) {
      const map = new Map<string, number[]>();
      for (const svc of s.cluster.services) {
        for (const e of svc.endpoints) {
          const list = map.get(e.ip);
          if (list) list.push(svc.index);
          else map.set(e.ip, [svc.index]);
        }
      }
      s.servicesByEndpointIp = map;
    }
    return s.servicesByEndpointIp;
  }

  private count(pod: ClusterPod, delta: number, touchedNodes: Set<number>): void {
    const cluster = this.state!.cluster;
    const node = cluster.nodes[pod.node]!;
    node.clientPods += delta;
    cluster.clientPodCount += delta;
    const entry = node.clientWorkloads.find((w) => w[0] === pod.workload);
    if (entry) {
      entry[1] += delta;
      if (entry[1] <= 0) node.clientWorkloads.splice(node.clientWorkloads.indexOf(entry), 1);
    } else if (delta > 0) node.clientWorkloads.push([pod.workload, delta]);
    touchedNodes.add(pod.node);
  }

  /**
   * node → Services whose figure a client there moves. Built once per full rebuild and only added
   * to after: a stale entry costs one needless re-analysis, never a wrong figure.
   */
  private servicesByNode(): Map<number, Set<number>> {
    const s = this.state!;
    if (!s.servicesByNode) {
      s.servicesByNode = new Map();
      for (const sa of s.analysis.services) this.indexByNode(sa);
    }
    return s.servicesByNode;
  }

  private indexByNode(sa: ServiceAnalysis): void {
    const map = this.state!.servicesByNode;
    if (!map) return;
    const add = (node: number): void => {
      let set = map.get(node);
      if (!set) map.set(node, (set = new Set()));
      set.add(sa.service.index);
    };
    // Source ranges decide pod by pod: a client anywhere can move the Service's figures.
    if (sa.service.sourceRanges.length > 0 && sa.ingresses.length > 0) {
      for (const n of this.state!.cluster.nodes) add(n.index);
      return;
    }
    for (const ing of sa.ingresses) {
      for (const r of ing.atRisk) add(r.node);
      for (const n of ing.unknownNodes) add(n);
      for (const n of ing.noEligibleNodes) add(n);
      for (const p of ing.failingPods.keys()) add(this.state!.cluster.pods[p]!.node);
    }
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export type { ServiceAnalysis };
