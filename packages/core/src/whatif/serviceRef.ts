import type { ClusterModel, ClusterService } from '../cluster/model';

export type ServiceLookup =
  | { ok: true; service: ClusterService; message?: undefined }
  | { ok: false; service?: undefined; code: 'NOT_FOUND' | 'AMBIGUOUS'; message: string; suggestions: string[] };

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
    const names = matches.map((s) => `${s.namespace}/${s.name}`);
    return {
      ok: false,
      code: 'AMBIGUOUS',
      message: `Service "${ref}" is ambiguous: ${names.join(', ')}; name it as namespace/name`,
      suggestions: names,
    };
  }
  return { ok: false, code: 'NOT_FOUND', message: `no Service "${ref}" in the snapshot`, suggestions: [] };
}
