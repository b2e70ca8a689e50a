import type { ClusterModel, ClusterService } from '../cluster/model';

export type ServiceLookup = { ok: true; service: ClusterService; message?: undefined } | { ok: false; service?: undefined; message: string };

/** Finds a Service by `namespace/name` or a `name` unique across namespaces. */
export function findService(cluster: ClusterModel, ref: string): ServiceLookup {
  const slash = ref.indexOf('/');
  const matches =
    slash >= 0
      ? cluster.services.filter((s) => s.namespace === ref.slice(0, slash) && s.name === ref.slice(slash + 1))
      : cluster.services.filter((s) => s.name === ref);
  if (matches.length === 1) return { ok: true, service: matches[0]! };
  if (matches.length > 1) {
    return { ok: false, message: `Service "${ref}" is ambiguous: ${matches.map((s) => `${s.namespace}/${s.name}`).join(', ')}; name it as namespace/name` };
  }
  return { ok: false, message: `no Service "${ref}" in the snapshot` };
}
