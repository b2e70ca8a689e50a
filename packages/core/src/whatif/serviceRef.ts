import type { ClusterModel, ClusterService } from '../cluster/model';

export type ServiceLookup = { ok: true; service: ClusterService; message?: undefined } | { ok: false; service?: undefined; message: string };

const indexCache = new WeakMap<ClusterModel['services'], Map<string, ClusterService[]>>();

/** Services by name, built once per Service list (explain and what-if look names up often). */
function servicesByName(cluster: ClusterModel): Map<string, ClusterService[]> {
  let index = indexCache.get(cluster.services);
  if (!index) {
    index = new Map();
    for (const s of cluster.services) {
      const list = index.get(s.name);
      if (list) list.push(s);
      else index.set(s.name, [s]);
    }
    indexCache.set(cluster.services, index);
  }
  return index;
}

/** Every Service with this name, in any namespace. */
export function servicesNamed(cluster: ClusterModel, name: string): ClusterService[] {
  return servicesByName(cluster).get(name) ?? [];
}

/** Finds a Service by `namespace/name` or a `name` unique across namespaces. */
export function findService(cluster: ClusterModel, ref: string): ServiceLookup {
  const slash = ref.indexOf('/');
  const byName = servicesByName(cluster).get(slash >= 0 ? ref.slice(slash + 1) : ref) ?? [];
  const matches = slash >= 0 ? byName.filter((s) => s.namespace === ref.slice(0, slash)) : byName;
  if (matches.length === 1) return { ok: true, service: matches[0]! };
  if (matches.length > 1) {
    return { ok: false, message: `Service "${ref}" is ambiguous: ${matches.map((s) => `${s.namespace}/${s.name}`).join(', ')}; name it as namespace/name` };
  }
  return { ok: false, message: `no Service "${ref}" in the snapshot` };
}
