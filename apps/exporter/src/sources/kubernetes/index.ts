/**
 * The live-cluster source: lists and watches nodes, pods, services and EndpointSlices with
 * `@kubernetes/client-node` informers, and polls the kube-proxy ConfigMap in kube-system.
 *
 * What client-node 1.4's informer (`ListWatch`, dist/cache.js + dist/watch.js) does by itself, and
 * what this module adds:
 *
 * - It lists, then watches from the list's resourceVersion. When a watch ends cleanly (the server's
 *   timeout, a graceful close) it reconnects at once from the last resourceVersion. On 410 Gone
 *   (HTTP 410 on the watch request, or an ERROR event with code 410) it clears the resourceVersion
 *   and relists. It sends no `allowWatchBookmarks` and no `timeoutSeconds`.
 *   → We put both in the informer's path (`?allowWatchBookmarks=true&timeoutSeconds=…`), and turn
 *     every list into one `sink.replace` (the informer's own per-item add/update calls for a list
 *     are suppressed), so objects deleted while we were not watching disappear.
 * - On any other error (connection refused or reset, HTTP 5xx/403 on the list or the watch) it calls
 *   the `error` handlers and stops for good.
 *   → We report it (`health.watchError`, `health.watchRestarted`) and restart it after an
 *     exponential backoff with jitter. A watch that the server keeps ending right after it started
 *     is throttled the same way.
 * - `stop()` aborts the running watch, which calls the `error` handlers with an AbortError; a list
 *   or a watch connection still being set up is not aborted at all.
 *   → Every request carries an AbortSignal of ours (lists through a call middleware, watches
 *     through the `applyToFetchOptions` hook of the KubeConfig handed to the informer), aborted by
 *     `stop()`; errors after `stop()` are ignored.
 * - A watch whose TCP connection silently died would hang forever (client-node overrides its own
 *   30 s timeout signal).
 *   → A watchdog aborts a watch that has delivered nothing (no event, no bookmark) for longer than
 *     the `timeoutSeconds` it asked the server for plus a grace period: a live server has ended it
 *     by then.
 * - It caches every object it sees, in full. At 150,000 pods that is gigabytes.
 *   → The informer keeps only `{kind, apiVersion, metadata: {name, namespace, uid, resourceVersion}}`
 *     (what it needs to spot changes and deletions); the sink gets the full object once.
 * - Lists come back as typed model objects (Dates instead of strings, unknown fields dropped),
 *   watch events as raw JSON.
 *   → Lists are paginated (`limit`/`continue`), and each page's JSON is taken raw in a response
 *     middleware (the generated client then deserializes an empty placeholder), so the sink gets
 *     every object exactly as the API server sent it, with `kind` and `apiVersion` set.
 * - An exception thrown by an event callback is swallowed by Watch along with JSON parse errors.
 *   → Sink calls are wrapped; a throwing sink is reported as objectSkipped and logged once.
 *
 * client-node 1.x is ESM-only and this package compiles to CommonJS, where TypeScript rewrites
 * `import()` into `require()`. The module is therefore loaded with a dynamic import TypeScript
 * cannot see (`new Function('s', 'return import(s)')`) and only its types are imported statically.
 *
 * Nothing logged or reported contains credentials: errors are reduced to an HTTP status and
 * reason, or a network error code, plus the resource.
 *
 * Where each part lives:
 * - source.ts: KubernetesSource (loads client-node and the kubeconfig, starts and stops the rest)
 * - kubeconfig.ts: which kubeconfig and context, loaded with errors that quote nothing
 * - resources.ts: the resources read (paths, kinds, list calls) and the kube-proxy ConfigMap
 * - resourceWatch.ts: one resource's informer, with list paging, backoff, watchdog and stubs
 * - kubeProxyConfigMap.ts: the periodic GET of kube-system/kube-proxy
 * - rawCall.ts: a generated-client request with our signal, the raw JSON body kept
 * - errors.ts: errors reduced to status/reason/network code; hints for 401/403
 * - backoff.ts, deferred.ts, duration.ts, shared.ts, options.ts: the small pieces they share
 */
export { Backoff } from './backoff';
export { describeError, httpStatusOf } from './errors';
export type { BackoffOptions, ClientNode, KubernetesSourceOptions, LogLevel, SourceLogger } from './options';
export { KubernetesSource, loadClientNode } from './source';
