/**
 * Errors of the Kubernetes source, reduced to what is safe to log: an HTTP status and reason, a
 * network error code, or the error's class — never request options, headers, URLs or bodies
 * (client-node's messages can carry them).
 */
import { STATUS_CODES } from 'node:http';
import type { WatchedResource } from '../types';

/** An error whose message is safe to log as it is (written by this module). */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed mid-response',
  ENOENT: 'a file named by the kubeconfig is missing',
  EACCES: 'a file named by the kubeconfig is not readable',
};

/** client-node configuration errors whose fixed text names the problem and nothing secret. */
const SAFE_MESSAGES =
  /^(HTTP protocol is not allowed when skipTLSVerify is not set or false|No active cluster!?|No currently active cluster|Unsupported proxy type)$/;

function statusReason(body: unknown): string | undefined {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return undefined;
    }
  }
  const reason = b && typeof b === 'object' ? (b as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && /^[A-Za-z]{1,64}$/.test(reason) ? reason : undefined;
}

/** The HTTP status of a client-node error (ApiException `code`, Watch error `statusCode`). */
export function httpStatusOf(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number' && e.code >= 100 && e.code < 600) return e.code;
  return undefined;
}

/**
 * A one-line description of an error that never includes request options, headers, URLs or
 * bodies (client-node's messages can carry them): the HTTP status and reason, or the network error
 * code, or just the error's class.
 */
export function describeError(err: unknown): string {
  if (err instanceof SourceError) return err.message;
  if (!err || typeof err !== 'object') return 'unknown error';
  const e = err as { name?: unknown; code?: unknown; errno?: unknown; type?: unknown; body?: unknown; reason?: unknown };
  const status = httpStatusOf(err);
  if (status !== undefined) return `HTTP ${status} ${statusReason(e.body) ?? STATUS_CODES[status] ?? 'error'}`;
  if (e.name === 'AbortError') return 'request aborted';
  const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : undefined;
  if (code && /^[A-Z][A-Z0-9_]{1,48}$/.test(code)) {
    if (NETWORK_CODES[code]) return `${NETWORK_CODES[code]} (${code})`;
    if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO/.test(code)) return `TLS error (${code})`;
    if (/^E[A-Z]+$|^ERR_(STREAM|SOCKET|HTTP)_/.test(code)) return `network error (${code})`;
    return `error ${code}`;
  }
  if (e.name === 'FetchError') return 'request failed';
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && SAFE_MESSAGES.test(message)) return message;
  // Not HTTP, not the network: its message may quote a credentials plugin or the request, so only
  // the class is shown.
  const name = typeof e.name === 'string' && /^[A-Za-z]{1,64}$/.test(e.name) ? e.name : 'error';
  return `unexpected ${name} before any HTTP response (credentials plugin, certificate files?)`;
}

export function hintFor(status: number | undefined, resource: WatchedResource): string {
  if (status === 401) return ' (the credentials were rejected: check the kubeconfig or the service account token)';
  if (status === 403) {
    return resource === 'configmaps'
      ? ''
      : ` (the exporter's identity needs list and watch on ${resource}: see deploy/kubernetes/clusterrole.yaml)`;
  }
  return '';
}
