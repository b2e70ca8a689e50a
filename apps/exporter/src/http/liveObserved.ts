import type { ObservedRow } from '../evidence/nodeAgents';

/** What the node agents saw for one Service on one node, as `observedLive` in the API's Service objects. */
export type LiveObservation = Omit<ObservedRow, 'namespace' | 'service'>;

/**
 * The agents' observations grouped by Service (`namespace/name`), and a short fingerprint of them:
 * the API's cached bodies are keyed by it, so a body never outlives the observations it carries.
 */
export function observationsByService(rows: ObservedRow[]): { byService: Map<string, LiveObservation[]>; fingerprint: string } {
  const byService = new Map<string, LiveObservation[]>();
  let opened = 0;
  let unreplied = 0;
  let recent = 0;
  let stale = 0;
  for (const { namespace, service, ...row } of rows) {
    const key = `${namespace}/${service}`;
    let list = byService.get(key);
    if (!list) byService.set(key, (list = []));
    list.push(row);
    opened += row.opened;
    unreplied += row.unreplied;
    recent += row.recentUnreplied;
    if (row.stale) stale++;
  }
  return { byService, fingerprint: `${rows.length}:${opened}:${unreplied}:${recent}:${stale}` };
}

/** Adds `observedLive` (the agents' rows, or [] when they saw nothing) to each Service object. */
export function withLiveObservations<S extends { namespace: string; name: string }>(
  services: S[],
  byService: Map<string, LiveObservation[]>,
): Array<S & { observedLive: LiveObservation[] }> {
  return services.map((s) => ({ ...s, observedLive: byService.get(`${s.namespace}/${s.name}`) ?? [] }));
}
