import type { Workload, WorkloadKind } from './model';

type OwnerRef = { kind?: string; name?: string; controller?: boolean };

/** Owners of ReplicaSets and Jobs when the snapshot includes them ("ns/name" → owner). */
export interface OwnerIndex {
  replicaSets: Map<string, OwnerRef>;
  jobs: Map<string, OwnerRef>;
}

/** Interns workloads by namespace/kind/name and resolves a pod to its top owner (§4). */
export class WorkloadRegistry {
  readonly workloads: Workload[] = [];
  private readonly byKey = new Map<string, number>();

  constructor(private readonly owners: OwnerIndex) {}

  intern(namespace: string, kind: WorkloadKind, name: string): number {
    const key = `${namespace}/${kind}/${name}`;
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = this.workloads.length;
      this.workloads.push({ index, namespace, kind, name });
      this.byKey.set(key, index);
    }
    return index;
  }

  /** Pod → ReplicaSet → Deployment, Pod → Job → CronJob, else the controller or the bare pod. */
  resolvePod(namespace: string, podName: string, ownerRefs: OwnerRef[] | undefined, labels: Record<string, string> | undefined): number {
    const owner = controllerOf(ownerRefs);
    if (!owner?.kind || !owner.name) return this.intern(namespace, 'Pod', podName);
    if (owner.kind === 'ReplicaSet') {
      const rsOwner = controllerOf(this.ownerList(this.owners.replicaSets.get(`${namespace}/${owner.name}`)));
      if (rsOwner?.kind && rsOwner.name) return this.intern(namespace, rsOwner.kind, rsOwner.name);
      // Without the ReplicaSet object: a Deployment's ReplicaSet is "<deployment>-<pod-template-hash>".
      const hash = labels?.['pod-template-hash'];
      if (hash && owner.name.endsWith(`-${hash}`)) {
        return this.intern(namespace, 'Deployment', owner.name.slice(0, -hash.length - 1));
      }
      return this.intern(namespace, 'ReplicaSet', owner.name);
    }
    if (owner.kind === 'Job') {
      const jobOwner = controllerOf(this.ownerList(this.owners.jobs.get(`${namespace}/${owner.name}`)));
      if (jobOwner?.kind && jobOwner.name) return this.intern(namespace, jobOwner.kind, jobOwner.name);
      // Without the Job object: a CronJob names its Jobs "<cronjob>-<scheduled time in minutes>".
      const cron = /^(.+)-\d{8,10}$/.exec(owner.name);
      if (cron?.[1] && !this.owners.jobs.has(`${namespace}/${owner.name}`)) return this.intern(namespace, 'CronJob', cron[1]);
      return this.intern(namespace, 'Job', owner.name);
    }
    return this.intern(namespace, owner.kind, owner.name);
  }

  private ownerList(ref: OwnerRef | undefined): OwnerRef[] | undefined {
    return ref ? [ref] : undefined;
  }
}

function controllerOf(refs: OwnerRef[] | undefined): OwnerRef | undefined {
  if (!Array.isArray(refs) || refs.length === 0) return undefined;
  return refs.find((r) => r && r.controller) ?? refs[0];
}

export function workloadLabel(w: Workload): string {
  return `${w.namespace}/${w.kind.toLowerCase()}/${w.name}`;
}
