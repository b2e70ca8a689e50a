import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Agent, Log } from '../agent';
import { bearerToken, type Authenticator } from '../auth/credential';

/**
 * `/metrics` (open, like any exporter's), `/healthz`, `/readyz`, and `/api/v1/evidence` (the dumps
 * and counters: the node's rules are sensitive, so a credential is required). Only GET; nothing is
 * written on the node through any route.
 */
export function createServer(
  agent: Agent,
  registry: Registry,
  auth: Authenticator | undefined,
  authFailures: Map<string, number>,
  log: Log,
): http.Server {
  const refuse = (res: http.ServerResponse, status: number, reason: string, label: string, remote: string): void => {
    authFailures.set(label, (authFailures.get(label) ?? 0) + 1);
    // The remote address and the reason; never the token.
    log('warn', `evidence request from ${remote} refused (${status}): ${reason}`);
    send(res, status, { error: reason }, status === 401 ? { 'www-authenticate': 'Bearer realm="loopscope-node-agent"' } : {});
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'only GET' }, { allow: 'GET' });
    switch (url.pathname) {
      case '/metrics':
        registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': registry.contentType });
            res.end(text);
          },
          (err: Error) => send(res, 500, { error: `metrics: ${err.message}` }),
        );
        return;
      case '/healthz':
        return send(res, 200, { ok: true });
      case '/readyz': {
        const r = agent.readiness();
        return send(res, r.ready ? 200 : 503, r);
      }
      case '/api/v1/evidence': {
        const remote = req.socket.remoteAddress ?? 'unknown';
        if (!auth)
          return refuse(
            res,
            503,
            'no authentication configured (run with API access for TokenReview, or --token-file)',
            'unconfigured',
            remote,
          );
        const token = bearerToken(req.headers.authorization);
        if (!token) return refuse(res, 401, 'missing bearer token', 'missing', remote);
        auth.authenticate(token).then(
          (r) => {
            if (!r.ok)
              return refuse(
                res,
                r.status,
                r.reason,
                r.status === 403 ? 'forbidden' : r.status === 503 ? 'unverifiable' : 'invalid',
                remote,
              );
            send(res, 200, agent.evidence({ dumps: url.searchParams.get('dumps') !== 'false' }));
          },
          () => refuse(res, 503, 'cannot verify the token now', 'unverifiable', remote),
        );
        return;
      }
      default:
        return send(res, 404, { error: `no route ${url.pathname}; try /metrics, /healthz, /readyz, /api/v1/evidence` });
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}
