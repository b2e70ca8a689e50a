/**
 * The exporter pulling node agents' evidence (`loopscope-node-evidence/v1`) from a test double that
 * serves the agent's endpoint shape: observed connections per Service and node, the agent's bearer
 * token sent (and a refusal reported), stale agents reported and their node back on inference,
 * malformed evidence refused with one line. The real agent on a real kernel is in
 * apps/node-agent/test/kernel.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, getJson, startExporter, type RunningExporter } from '@loopscope/testkit';

const TOKEN = 'exporter-serviceaccount-token-for-agents';

function evidence(unreplied: number, lastUnrepliedAt: string) {
  return {
    apiVersion: 'loopscope-node-evidence/v1',
    node: '10.0.1.11',
    generatedAt: new Date().toISOString(),
    startedAt: '2026-12-02T00:00:00.000Z',
    dumps: {},
    conntrack: { running: true },
    ingress: { source: '--ingress', points: 1, synced: true },
    connections: [
      {
        clientIp: '172.16.0.5',
        ingressIp: '10.0.3.15',
        ingressPort: 8080,
        protocol: 'tcp',
        opened: unreplied + 4,
        replied: 4,
        unreplied,
        lastUnrepliedAt,
      },
    ],
  };
}

describe('the exporter on node agents', () => {
  let dir: string;
  let server: http.Server;
  let url = '';
  let body: unknown = evidence(3, new Date().toISOString());
  let status = 200;
  const auth: string[] = [];
  let exporter: RunningExporter | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-agents-'));
    writeFileSync(join(dir, 'token'), TOKEN + '\n');
    server = http.createServer((req, res) => {
      auth.push(req.headers.authorization ?? '');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(status === 200 ? body : { error: 'token does not match' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    exporter = await startExporter([
      '--node-agent',
      url,
      '--node-agent-token-file',
      join(dir, 'token'),
      '--node-agent-interval-seconds',
      '1',
      '--node-agent-window-seconds',
      '600',
    ]);
  }, 90_000);

  afterAll(async () => {
    await exporter?.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  const observed = async () => (await getJson(`${exporter!.url}/api/v1/observed`)).body;
  const metrics = async () => (await fetch(`${exporter!.url}/metrics`)).text();

  it('shows the observed failures for the right Service and node, with their age; sends the token', async () => {
    const row = await eventually(async () => (await observed()).observed?.[0], 20_000, 'an observed row');
    expect(row).toMatchObject({
      namespace: 'payments',
      service: 'payments-api',
      node: '10.0.1.11',
      unreplied: 3,
      replied: 4,
      recentUnreplied: 3,
      stale: false,
    });
    expect(row.lastUnrepliedAgeSeconds).toBeLessThan(60);
    expect(auth.every((a) => a === `Bearer ${TOKEN}`)).toBe(true);
    const text = await metrics();
    expect(text).toMatch(
      /^loopscope_observed_lb_connections_total\{namespace="payments",service="payments-api",node="10.0.1.11",outcome="unreplied"\} 3$/m,
    );
    expect(text).toMatch(/^loopscope_node_agent_up\{node="10.0.1.11",url="[^"]+"\} 1$/m);
    const explained = await (await fetch(`${exporter!.url}/api/v1/explain?target=payments/payments-api&format=text`)).text();
    expect(explained).toContain(
      'observed: seen failing: 3 connection(s) from pods on 10.0.1.11 to its LB timed out unreplied in the last 10 min',
    );
    // The report carries the observation beside the prediction, for that Service only.
    const report = (await getJson(`${exporter!.url}/api/v1/report`)).body;
    const payments = report.services.find((s: any) => s.name === 'payments-api');
    expect(payments.verdict).toBe('loopback');
    expect(payments.observedLive).toEqual([
      expect.objectContaining({ node: '10.0.1.11', unreplied: 3, replied: 4, recentUnreplied: 3, stale: false }),
    ]);
    expect(report.services.find((s: any) => s.name === 'orders-api').observedLive).toEqual([]);
    const listed = (await getJson(`${exporter!.url}/api/v1/services?fixes=false`)).body;
    expect(listed.services.find((s: any) => s.name === 'payments-api').observedLive[0]).toMatchObject({ node: '10.0.1.11', unreplied: 3 });
    // The agent's connections reach the model: the client pod (checkout-api, 172.16.0.5) is an observed caller.
    const caller = await eventually(
      async () => {
        const report = (await getJson(`${exporter!.url}/api/v1/report`)).body as {
          services: Array<{ name: string; callers: Array<{ source: string; podIP?: string; where: string }> }>;
        };
        return report.services.find((x) => x.name === 'payments-api')?.callers.find((c) => c.source === 'observed');
      },
      20_000,
      'an observed caller',
    );
    expect(caller).toMatchObject({
      podIP: '172.16.0.5',
      workload: { kind: 'Deployment', name: 'checkout-api' },
      ingress: { ip: '10.0.3.15', port: 8080 },
      probability: 0.5,
    });
    expect(caller!.where).toBe('node agent conntrack events on node 10.0.1.11 [UNREPLIED]');
  }, 40_000);

  it("an agent's nft list ruleset reaches the model: the node's capture is traced from it (kube-proxy nftables mode)", async () => {
    const nft = [
      'table ip kube-proxy {',
      '\tchain nat-prerouting {',
      '\t\ttype nat hook prerouting priority dstnat; policy accept;',
      '\t\tip daddr 10.0.3.15 tcp dport 8080 dnat to 172.16.9.9:8080',
      '\t}',
      '\tchain nat-output {',
      '\t\ttype nat hook output priority dstnat; policy accept;',
      '\t\tip daddr 10.0.3.15 tcp dport 8080 dnat to 172.16.9.9:8080',
      '\t}',
      '}',
      '',
    ].join('\n');
    const collectedAt = new Date().toISOString();
    body = { ...evidence(3, collectedAt), dumps: { nftRuleset: { command: 'nft list ruleset', status: 'ok', text: nft, collectedAt } } };
    const report = await eventually(
      async () => {
        const text = JSON.stringify((await getJson(`${exporter!.url}/api/v1/report`)).body);
        return text.includes('10.0.1.11: nftRuleset (node agent') ? text : undefined;
      },
      20_000,
      'the nft dump in the report',
    );
    const payments = (JSON.parse(report) as { services: Array<{ name: string; reasons: Array<Record<string, unknown>> }> }).services.find(
      (x) => x.name === 'payments-api',
    )!;
    expect(payments.reasons).toContainEqual(
      expect.objectContaining({
        code: 'CAPTURED_EVIDENCE',
        basis: 'observed',
        nodes: ['10.0.1.11'],
        source: expect.stringMatching(/^ip kube-proxy nat-prerouting rule 1 \(10\.0\.1\.11: nftRuleset \(node agent, [^)]+\):4\)/),
      }),
    );
  }, 40_000);

  it('rows an agent gets wrong are left out and counted; the good rows and the exporter stay', async () => {
    const good = evidence(4, new Date().toISOString());
    body = {
      ...good,
      connections: [
        null,
        'a string',
        { ...good.connections[0], clientIp: 5 },
        { ...good.connections[0], ingressPort: 70000 },
        { ...good.connections[0], unreplied: 'many', service: { ns: 'x' } },
        { ...good.connections[0], clientIp: 'fd00::5' }, // an IPv6 client to an IPv4 ingress
        ...good.connections,
      ],
    };
    await eventually(
      async () => (/\): 6 connection row\(s\) left out \(not a client IP/.test(exporter!.stderr()) ? true : undefined),
      20_000,
      'the left-out rows logged',
    );
    await eventually(async () => ((await observed()).observed?.[0]?.unreplied === 4 ? true : undefined), 20_000, 'the good row');
    expect((await fetch(`${exporter!.url}/healthz`)).status).toBe(200);
    expect(await metrics()).toMatch(
      /^loopscope_observed_lb_connections_total\{namespace="payments",service="payments-api",node="10.0.1.11",outcome="unreplied"\} 4$/m,
    );
    // Not JSON at all: one line, the last good evidence kept until it goes stale.
    body = '<html>502 Bad Gateway</html>';
    await eventually(
      async () => ((await observed()).agents?.[0]?.error === 'the evidence is not JSON' ? true : undefined),
      20_000,
      'not JSON reported',
    );
    expect((await observed()).observed[0]).toMatchObject({ unreplied: 4 });
  }, 60_000);

  it('new failures move the counter; an agent that refuses the token or sends garbage is reported, then stale', async () => {
    body = evidence(5, new Date().toISOString());
    await eventually(async () => ((await observed()).observed?.[0]?.unreplied === 5 ? true : undefined), 20_000, '5 unreplied');
    status = 401;
    await eventually(
      async () => ((await observed()).agents?.[0]?.error === 'HTTP 401 (the agent refused the exporter’s token)' ? true : undefined),
      20_000,
      'the refusal reported',
    );
    status = 200;
    body = '{"apiVersion": "something-else"}';
    await eventually(
      async () => ((await observed()).agents?.[0]?.error === 'not a loopscope-node-evidence/v1 document' ? true : undefined),
      20_000,
      'garbage refused',
    );
    // Three intervals without good evidence: stale, the node falls back to inference.
    await eventually(
      async () => (/^loopscope_node_agent_up\{node="10.0.1.11",url="[^"]+"\} 0$/m.test(await metrics()) ? true : undefined),
      20_000,
      'agent down',
    );
    expect((await observed()).observed[0]).toMatchObject({ stale: true, unreplied: 5 });
    // A cached report body does not outlive the observations it carries.
    const report = (await getJson(`${exporter!.url}/api/v1/report`)).body;
    expect(report.services.find((s: any) => s.name === 'payments-api').observedLive[0]).toMatchObject({ stale: true, unreplied: 5 });
    expect(exporter!.stderr()).toMatch(/node agent http:\/\/127\.0\.0\.1:\d+ \(10\.0\.1\.11\): HTTP 401/);
    expect(exporter!.stderr()).not.toContain(TOKEN);
  }, 60_000);
});
