import type { WhatIfChange } from '@loopscope/core';
import {
  ClusterUnavailable,
  type AtRiskList,
  type AtRiskQuery,
  type ClusterApi,
  type ExplainLookup,
  type WhatIfOutcome,
} from './clusterApi';

interface ErrorBody {
  error?: { status?: number; message?: string; suggestions?: string[] };
}

/**
 * A loopscope exporter's JSON API (`/api/v1/explain`, `/api/v1/services`, `/api/v1/whatif`), with a
 * deadline on every call: a slow cluster must not hold up the answer from the others.
 */
export class ExporterClient implements ClusterApi {
  constructor(
    readonly name: string,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    /** Answers longer than this are not read (an exporter's answers are kilobytes; a broken or hostile one must not fill memory). */
    private readonly maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES,
    /** The exporter API's bearer token (its --api-token-file), sent with every call. */
    private readonly token?: string,
  ) {}

  get location(): string {
    return this.baseUrl;
  }

  async explain(target: string): Promise<ExplainLookup> {
    const { status, body } = await this.call('GET', `/api/v1/explain?target=${encodeURIComponent(target)}`);
    if (status === 200) {
      const explanation = (body as { explanation?: unknown }).explanation;
      if (!explanation || typeof explanation !== 'object')
        throw this.unavailable('answered /api/v1/explain without an explanation (is it a loopscope exporter?)');
      return { status: 'found', explanation: explanation as Extract<ExplainLookup, { status: 'found' }>['explanation'] };
    }
    if (status === 404 || status === 409) {
      const e = (body as ErrorBody).error ?? {};
      return {
        status: status === 409 ? 'ambiguous' : 'unknown',
        message: e.message ?? `nothing called "${target}"`,
        suggestions: e.suggestions ?? [],
      };
    }
    throw this.failed(status, body);
  }

  async atRisk(query: AtRiskQuery): Promise<AtRiskList> {
    // The compact list: the worst few with their figures, built from the analysis (no fixes, no
    // links) and cached per analysis by the exporter: a few KiB whatever the cluster's size.
    const params = new URLSearchParams({ limit: String(query.limit), ...(query.namespace ? { namespace: query.namespace } : {}) });
    const { status, body } = await this.call('GET', `/api/v1/services/at-risk?${params}`);
    if (status !== 200) throw this.failed(status, body);
    const list = body as AtRiskList;
    if (!Array.isArray(list.services) || !list.summary || typeof list.total !== 'number')
      throw this.unavailable('answered /api/v1/services/at-risk without a list (is it a loopscope exporter of version 0.2 or later?)');
    return { summary: list.summary, total: list.total, services: list.services.slice(0, query.limit) };
  }

  async whatIf(changes: WhatIfChange[]): Promise<WhatIfOutcome> {
    const { status, body } = await this.call('POST', '/api/v1/whatif', { changes });
    if (status === 200) return { ok: true, result: body as Extract<WhatIfOutcome, { ok: true }>['result'] };
    if (status === 400 || status === 404 || status === 409)
      return { ok: false, message: (body as ErrorBody).error?.message ?? `the exporter refused the change (${status})` };
    throw this.failed(status, body);
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    json?: unknown,
    timeoutMs = this.timeoutMs,
  ): Promise<{ status: number; body: unknown }> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const send = (): Promise<Response> =>
      fetch(this.baseUrl + path, {
        method,
        headers: {
          accept: 'application/json',
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: deadline,
      });
    let res: Response;
    try {
      res = await send().catch((err: unknown) => {
        // A kept-alive connection the exporter closed just as we reused it: every call here only
        // reads (what-if changes nothing), so one retry on a fresh connection is safe.
        if (isStaleConnection(err) && !deadline.aborted) return send();
        throw err;
      });
    } catch (err) {
      throw this.unavailable(describeFetchError(err, timeoutMs));
    }
    let text: string;
    try {
      const read = await readCapped(res, this.maxResponseBytes);
      if (read === undefined)
        throw this.unavailable(
          `answered ${path.split('?')[0]} with more than ${this.maxResponseBytes} bytes (LOOPSCOPE_MAX_EXPORTER_RESPONSE_BYTES); not read`,
        );
      text = read;
    } catch (err) {
      if (err instanceof ClusterUnavailable) throw err;
      throw this.unavailable(describeFetchError(err, timeoutMs));
    }
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      throw this.unavailable(
        `answered ${path.split('?')[0]} with HTTP ${res.status} and no JSON (is ${this.baseUrl} a loopscope exporter?)`,
      );
    }
  }

  private failed(status: number, body: unknown): ClusterUnavailable {
    const message = (body as ErrorBody)?.error?.message;
    if (status === 503) return this.unavailable(`not ready yet (${message ?? 'the first sync has not been analysed'})`);
    if (status === 401)
      return this.unavailable(
        `refused the bot's credentials (${this.token ? 'LOOPSCOPE_EXPORTER_TOKEN is not the token the exporter was given' : 'the exporter needs a token: set LOOPSCOPE_EXPORTER_TOKEN'})`,
      );
    return this.unavailable(`HTTP ${status}${message ? `: ${message}` : ''}`);
  }

  private unavailable(reason: string): ClusterUnavailable {
    return new ClusterUnavailable(this.name, reason);
  }
}

export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** The body as text, or undefined (and the rest left unread) once it passes `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isStaleConnection(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}

/** fetch's errors hide the cause (ECONNREFUSED, a DNS failure) one level down. */
function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${formatSeconds(timeoutMs)}`;
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the exporter running?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its host name does not resolve';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was reset';
  return e.cause?.message ?? e.message;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
