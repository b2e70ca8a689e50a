import type { Workload, WorkloadKind } from './model';

type OwnerRef = { kind?: string; name?: string; controller?: boolean };

/** Owners of ReplicaSets and Jobs when the snapshot includes them: namespace → name → owner. */
export interface OwnerIndex {
  replicaSets: NamespacedMap<OwnerRef>;
  jobs: NamespacedMap<OwnerRef>;
}

/**
 * namespace → name → value. Nested maps instead of "ns/name" keys: at 150,000 pods the string
 * concatenations (and their garbage) cost more than the lookups.
 */
export class NamespacedMap<T> {
  private readonly byNamespace = new Map<string, Map<string, T>>();

  get(namespace: string, name: string): T | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  has(namespace: string, name: string): boolean {
    return this.byNamespace.get(namespace)?.has(name) ?? false;
  }

  set(namespace: string, name: string, value: T): void {
    let m = this.byNamespace.get(namespace);
    if (!m) this.byNamespace.set(namespace, (m = new Map()));
    m.set(name, value);
  }
}

/** Interns workloads by namespace/kind/name and resolves a pod to its top owner (docs/model.md). */
export class WorkloadRegistry {
  readonly workloads: Workload[] = [];
  private readonly byKind = new Map<string, NamespacedMap<number>>();
  /** ReplicaSets (with their objects in the input) → their top owner's workload. */
  private readonly byReplicaSet = new NamespacedMap<number>();

  constructor(private readonly owners: OwnerIndex) {}

  intern(namespace: string, kind: WorkloadKind, name: string): number {
    let byName = this.byKind.get(kind);
    if (!byName) this.byKind.set(kind, (byName = new NamespacedMap()));
    let index = byName.get(namespace, name);
    if (index === undefined) {
      index = this.workloads.length;
      this.workloads.push({ index, namespace, kind, name });
      byName.set(namespace, name, index);
    }
    return index;
  }

  /** Pod → ReplicaSet → Deployment, Pod → Job → CronJob, else the controller or the bare pod. */
  resolvePod(namespace: string, podName: string, ownerRefs: OwnerRef[] | undefined, labels: Record<string, string> | undefined): number {
    const owner = controllerOf(ownerRefs);
    if (!owner?.kind || !owner.name) return this.intern(namespace, 'Pod', podName);
    if (owner.kind === 'ReplicaSet') {
      // Replicas share their ReplicaSet: its top owner is looked up once.
      const known = this.byReplicaSet.get(namespace, owner.name);
      if (known !== undefined) return known;
      const rsOwner = this.owners.replicaSets.get(namespace, owner.name);
      if (rsOwner?.kind && rsOwner.name) {
        const index = this.intern(namespace, rsOwner.kind, rsOwner.name);
        this.byReplicaSet.set(namespace, owner.name, index);
        return index;
      }
      // Without the ReplicaSet object: a Deployment's ReplicaSet is "<deployment>-<pod-template-hash>".
      const hash = labels?.['pod-template-hash'];
      if (hash && owner.name.endsWith(`-${hash}`)) {
        return this.intern(namespace, 'Deployment', owner.name.slice(0, -hash.length - 1));
      }
      return this.intern(namespace, 'ReplicaSet', owner.name);
    }
    if (owner.kind === 'Job') {
      const jobOwner = this.owners.jobs.get(namespace, owner.name);
      if (jobOwner?.kind && jobOwner.name) return this.intern(namespace, jobOwner.kind, jobOwner.name);
      // Without the Job object: a CronJob names its Jobs "<cronjob>-<scheduled time in minutes>".
      const cron = /^(.+)-\d{8,10}$/.exec(owner.name);
      if (cron?.[1] && !this.owners.jobs.has(namespace, owner.name)) return this.intern(namespace, 'CronJob', cron[1]);
      return this.intern(namespace, 'Job', owner.name);
    }
    return this.intern(namespace, owner.kind, owner.name);
  }
}

export function controllerOf(refs: OwnerRef[] | undefined): OwnerRef | undefined {
  if (!Array.isArray(refs) || refs.length === 0) return undefined;
  // Only references with a string kind and name: a numeric owner name must not reach string methods.
  // One pass and no array: this runs for every pod.
  let first: OwnerRef | undefined;
  for (const r of refs as unknown[]) {
    if (r === null || typeof r !== 'object') continue;
    const ref = r as OwnerRef;
    if (typeof ref.kind !== 'string' || typeof ref.name !== 'string') continue;
    if (ref.controller) return ref;
    first ??= ref;
  }
  return first;
}

export function workloadLabel(w: Workload): string {
  return `${w.namespace}/${w.kind.toLowerCase()}/${w.name}`;
}
