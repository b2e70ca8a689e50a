/**
 * The live-cluster source: lists and watches nodes, pods, services and EndpointSlices, and polls
 * the kube-proxy ConfigMap in kube-system, with `@kubernetes/client-node` used for what it is best
 * at — reading the kubeconfig and applying its credentials (tokens, client certificates, exec
 * plugins, in-cluster service account) — and the list/watch protocol spoken here, because
 * client-node's informer cannot be made safe against a broken or hostile API server: one malformed
 * watch line (`{"type":"ADDED","object":null}`) throws inside its handler as an unhandled
 * rejection, a line without a newline grows until readline's RangeError, lists are decoded whole
 * with no size bound, nothing has a deadline, and it caches every object in full.
 *
 * Where each part lives:
 * - source.ts: KubernetesSource (loads the kubeconfig, starts and stops the rest)
 * - kubeconfig.ts: which kubeconfig and context, loaded with errors that quote nothing
 * - kubeApi.ts: authenticated GETs over one keep-alive agent, with deadlines and size caps
 * - resources.ts: the resources read (paths, kinds) and the kube-proxy ConfigMap's name
 * - resourceWatch.ts: one resource listed, then watched; resume, relist on 410, backoff, watchdog
 * - listPages.ts: a paginated list, the next page fetched while the current one is converted
 * - watchEvents.ts: watch lines capped in size and checked for shape; a bad one is skipped
 * - kubeProxyConfigMap.ts: the periodic GET of kube-system/kube-proxy
 * - errors.ts: errors reduced to status/reason/network code, hints for 401/403
 * - backoff.ts, deferred.ts, duration.ts, shared.ts, options.ts: the small pieces they share
 *
 * Nothing logged or reported contains credentials or data from the server beyond a Status
 * reason: errors are reduced to an HTTP status and reason, or a network error code, plus the
 * resource; skipped events are described by a fixed reason, never by their content.
 */
export { Backoff } from './backoff';
export { describeError, httpStatusOf } from './errors';
export { DEFAULT_LIMITS, type BackoffOptions, type KubernetesSourceOptions, type LogLevel, type SourceLogger } from './options';
export { KubernetesSource } from './source';
