/**
 * A Kubernetes API test double for the agent, speaking the real API's shapes over HTTP so the real
 * `@kubernetes/client-node` runs against it:
 *
 * - `GET /api/v1/services` → a `ServiceList` (items without kind/apiVersion, as the server sends
 *   them, `metadata.resourceVersion`); with `?watch=true` a chunked stream of `{"type","object"}`
 *   lines, kept open; `setServices()` sends ADDED/MODIFIED/DELETED events to every open watch.
 * - `POST /apis/authentication.k8s.io/v1/tokenreviews` → a `TokenReview` with `status.authenticated`
 *   and `status.user.username` for the tokens it knows (`tokens`), `authenticated: false` with an
 *   `error` otherwise, as kube-apiserver answers (https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/).
 * - Every request must carry the agent's own bearer token (`agentToken`), else 401.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';

type Service = {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export class FakeApiServer {
  readonly tokens = new Map<string, string>();
  readonly reviews: string[] = [];
  private services = new Map<string, Service>();
  private rv = 1;
  private readonly watches = new Set<http.ServerResponse>();
  private server?: http.Server;
  url = '';

  constructor(readonly agentToken: string) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.watches) w.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  setServices(services: Service[]): void {
    const next = new Map(services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
    const events: string[] = [];
    for (const [k, s] of next) {
      const obj = { ...s, metadata: { uid: k, ...s.metadata, resourceVersion: String(++this.rv) } };
      next.set(k, obj);
      events.push(
        JSON.stringify({ type: this.services.has(k) ? 'MODIFIED' : 'ADDED', object: { kind: 'Service', apiVersion: 'v1', ...obj } }),
      );
    }
    for (const [k, s] of this.services)
      if (!next.has(k))
        events.push(
          JSON.stringify({
            type: 'DELETED',
            object: { kind: 'Service', apiVersion: 'v1', ...s, metadata: { ...s.metadata, resourceVersion: String(++this.rv) } },
          }),
        );
    this.services = next;
    for (const w of this.watches) for (const e of events) w.write(e + '\n');
  }

  kubeconfig(path: string): string {
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: t',
        '  cluster:',
        `    server: ${this.url}`,
        '    insecure-skip-tls-verify: true',
        'contexts:',
        '- name: t',
        '  context:',
        '    cluster: t',
        '    user: t',
        'current-context: t',
        'users:',
        '- name: t',
        '  user:',
        `    token: ${this.agentToken}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return path;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.agentToken}`)
      return json(401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
    if (req.method === 'GET' && url.pathname === '/api/v1/services') {
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        this.watches.add(res);
        res.on('close', () => this.watches.delete(res));
        return;
      }
      return json(200, {
        kind: 'ServiceList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items: [...this.services.values()],
      });
    }
    if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        let review: { apiVersion?: string; kind?: string; spec?: { token?: string } };
        try {
          review = JSON.parse(body);
        } catch {
          return json(400, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400 });
        }
        if (review.kind !== 'TokenReview' || typeof review.spec?.token !== 'string')
          return json(422, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422 });
        const user = this.tokens.get(review.spec.token);
        this.reviews.push(user ?? '(unknown)');
        const status = user
          ? {
              authenticated: true,
              user: { username: user, uid: 'u-1', groups: ['system:serviceaccounts', 'system:authenticated'] },
              audiences: ['https://kubernetes.default.svc'],
            }
          : { authenticated: false, error: '[invalid bearer token, square/go-jose: error in cryptographic primitive]' };
        json(201, {
          kind: 'TokenReview',
          apiVersion: 'authentication.k8s.io/v1',
          metadata: { creationTimestamp: null },
          spec: { token: review.spec.token },
          status,
        });
      });
      return;
    }
    json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
  }
}
