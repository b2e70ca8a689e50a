/**
 * GET requests to the API server, the way the source needs them:
 *
 * - the kubeconfig's credentials and TLS settings, applied by client-node's `KubeConfig` for every
 *   request (tokens from exec plugins expire), within a deadline — an exec plugin that hangs is
 *   killed (client-node itself spawns it without a time limit);
 * - one keep-alive agent for every request, so paging a list or reconnecting a watch reuses a
 *   connection instead of paying a TCP (and TLS) handshake each time;
 * - a deadline on every request: for a GET the whole response, for a watch its response headers
 *   (the watch's own silence is the ResourceWatch's watchdog);
 * - response bodies capped in bytes before they are decoded, so a 1 GiB list fails with one clear
 *   line instead of growing the heap (or V8's string limit) and retrying forever.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { seconds } from './duration';
import { SourceError } from './errors';

export interface ApiLimits {
  /** Deadline of a GET (list page, ConfigMap) from request to last byte; of a watch up to its headers. */
  requestTimeoutMs: number;
  /** Deadline for applying the kubeconfig's credentials (an exec plugin is killed after it). */
  credentialTimeoutMs: number;
  /** Largest response body accepted from a GET. */
  maxResponseBytes: number;
}

/** A non-2xx answer: its status, and the start of its body (a Kubernetes Status, usually). */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(`HTTP ${statusCode}`);
  }
}

/** How much of an error response is read (enough for a Status). */
const STATUS_BODY_BYTES = 64 * 1024;

export function megabytes(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

export class KubeApi {
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private readonly server: string;
  private readonly proxied: boolean;

  constructor(
    private readonly kc: KubeConfig,
    private readonly limits: ApiLimits,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new SourceError('the kubeconfig context names no cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.proxied = Boolean(cluster.proxyUrl);
    limitExecPlugins(kc, limits.credentialTimeoutMs);
  }

  /** GETs `path` and returns its JSON; throws ApiStatusError for a non-2xx answer. */
  async getJson(path: string, signal: AbortSignal): Promise<unknown> {
    const deadline = this.limits.requestTimeoutMs;
    const timeout = new SourceError(`no complete response within ${seconds(deadline)} (request timeout)`);
    const res = await this.request(path, signal, deadline, timeout, 'body');
    const body = await readBody(res.message, this.limits.maxResponseBytes, true, res.cause);
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw new SourceError(`the response (${megabytes(body.length)}) is not JSON`);
    }
  }

  /** Opens a watch; resolves with the 200 response once its headers are in. */
  async watch(path: string, signal: AbortSignal): Promise<ApiResponse> {
    const deadline = this.limits.requestTimeoutMs;
    return this.request(
      path,
      signal,
      deadline,
      new SourceError(`no response headers within ${seconds(deadline)} (request timeout)`),
      'headers',
    );
  }

  /** Closes idle keep-alive connections (the source is stopping). */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async request(
    path: string,
    signal: AbortSignal,
    deadlineMs: number,
    timeout: SourceError,
    covers: 'headers' | 'body',
  ): Promise<ApiResponse> {
    if (signal.aborted) throw abortError();
    const opts: https.RequestOptions = {};
    await withDeadline(
      this.kc.applyToHTTPSOptions(opts),
      this.limits.credentialTimeoutMs,
      signal,
      () =>
        new SourceError(`the kubeconfig's credentials were not ready within ${seconds(this.limits.credentialTimeoutMs)} (exec plugin?)`),
    );
    const url = new URL(this.server + path);
    const secure = url.protocol === 'https:';
    // client-node's own agent only for a proxy (it knows how to speak to one); ours otherwise.
    const agent = this.proxied ? opts.agent : secure ? this.agents.https : this.agents.http;
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername, auth } = opts;
    const headers = {
      ...(opts.headers as Record<string, string> | undefined),
      Accept: 'application/json',
      'User-Agent': 'loopscope-exporter',
    };
    const send = secure ? https.request : http.request;
    const req = send(url, { method: 'GET', headers, agent, ca, cert, key, pfx, passphrase, rejectUnauthorized, servername, auth });
    // Why we ended the request ourselves (deadline, stop), reported instead of the socket's error.
    let cause: Error | undefined;
    let res: http.IncomingMessage | undefined;
    const end = (err: Error): void => {
      cause ??= err;
      req.destroy(err);
      res?.destroy(err);
    };
    const onAbort = (): void => end(abortError());
    const timer = setTimeout(() => end(timeout), deadlineMs);
    signal.addEventListener('abort', onAbort, { once: true });
    const release = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    return new Promise<ApiResponse>((resolve, reject) => {
      req.on('error', (err) => {
        release();
        reject(cause ?? err);
      });
      req.on('response', (r) => {
        res = r;
        r.on('close', release);
        const status = r.statusCode ?? 0;
        if (status < 200 || status > 299) {
          void readBody(r, STATUS_BODY_BYTES, false, () => cause).then(
            (b) => reject(new ApiStatusError(status, b.toString('utf8'))),
            () => reject(new ApiStatusError(status, '')),
          );
          return;
        }
        if (covers === 'headers') clearTimeout(timer); // a watch: its silence is the watchdog's
        resolve({ message: r, cause: () => cause, end });
      });
      req.end();
    });
  }
}

/** A 2xx response, and why it was ended if we ended it (deadline, stop, the caller's choice). */
export interface ApiResponse {
  message: http.IncomingMessage;
  cause(): Error | undefined;
  end(err: Error): void;
}

/**
 * Reads a response body up to `max` bytes. Over it: `strict` fails with a clear error naming the
 * limit; otherwise the first `max` bytes are kept (enough of an error Status).
 */
function readBody(res: http.IncomingMessage, max: number, strict: boolean, cause: () => Error | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length']);
    if (strict && Number.isFinite(declared) && declared > max) {
      res.destroy();
      return reject(new SourceError(`the response is ${megabytes(declared)}, over the ${megabytes(max)} limit (max response size)`));
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      if (err) reject(cause() ?? err);
      else resolve(Buffer.concat(chunks, bytes));
    };
    res.on('data', (chunk: Buffer) => {
      if (done) return;
      if (bytes + chunk.length > max) {
        if (strict) {
          finish(new SourceError(`the response grew past the ${megabytes(max)} limit (max response size)`));
        } else {
          chunks.push(chunk.subarray(0, max - bytes));
          bytes = max;
          finish();
        }
        res.destroy();
        return;
      }
      chunks.push(chunk);
      bytes += chunk.length;
    });
    res.on('end', () => finish());
    res.on('error', (err) => finish(err));
    res.on('close', () =>
      finish(res.complete ? undefined : Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })),
    );
  });
}

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

async function withDeadline<T>(work: Promise<T>, ms: number, signal: AbortSignal, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timeout()), ms);
        onAbort = () => reject(abortError());
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * client-node's ExecAuth spawns the credentials plugin with no time limit; give the spawn one, a
 * little past the request's own deadline (which reports it), so that a hung plugin is killed
 * rather than left behind. client-node then rejects with the plugin's stderr, never logged.
 */
function limitExecPlugins(kc: KubeConfig, ms: number): void {
  const authenticators = (kc as unknown as { authenticators?: unknown[] }).authenticators ?? [];
  for (const a of authenticators) {
    if (!a || typeof a !== 'object' || typeof (a as { execFn?: unknown }).execFn !== 'function') continue;
    (a as { execFn: (cmd: string, args: string[], opts: SpawnOptions) => ChildProcess }).execFn = (cmd, args, opts) =>
      spawn(cmd, args ?? [], { ...opts, timeout: ms + 1000, killSignal: 'SIGKILL' });
  }
}
