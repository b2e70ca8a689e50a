import type { ServiceAnalysis } from './service';

/**
 * The worst-client figure: the largest p over the Service's client pods and ingress points — what a
 * connection from the worst-placed client suffers. Computed on demand (not stored) because the live
 * model refreshes the per-ingress figures in place.
 */
export function worstClientProbability(sa: ServiceAnalysis): number {
  let worst = 0;
  for (const ing of sa.ingresses) {
    for (const r of ing.atRisk) if (r.clientPods > 0 && r.p > worst) worst = r.p;
    for (const p of ing.podP.values()) if (p > worst) worst = p;
  }
  return worst;
}
