import type { ClusterModel, ClusterService } from '../cluster/model';

/** An input kind the analysis needs and does not have, and the command that supplies it. */
export interface MissingInput {
  kind: string;
  kubectl: string;
}

/**
 * Incomplete input is never `safe` (docs/model.md): a Service whose figure depends on a kind the input does not
 * hold at all is `unknown`, naming the kind. Pods are every in-cluster client; Nodes place them and
 * are the node backends; a Service with a selector has its endpoints in EndpointSlices (or v1
 * Endpoints).
 */
export function missingInputs(cluster: ClusterModel, svc: ClusterService): MissingInput[] {
  const has = (kind: string): boolean => cluster.inputKinds.has(kind);
  const missing: MissingInput[] = [];
  if (!has('Pod')) missing.push({ kind: 'Pod', kubectl: 'kubectl get pods -A -o json' });
  if (!has('Node')) missing.push({ kind: 'Node', kubectl: 'kubectl get nodes -o json' });
  if (svc.hasSelector && !has('EndpointSlice') && !has('Endpoints'))
    missing.push({ kind: 'EndpointSlice', kubectl: 'kubectl get endpointslices -A -o json' });
  return missing;
}
