/**
 * The built agent as a process, without root: a fake `conntrack` on PATH prints real-shaped event
 * lines, the node tools are missing, and a Kubernetes API test double serves Services (list/watch)
 * and TokenReviews to the real @kubernetes/client-node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_MAIN, sample, startAgent, type RunningAgent } from './support/agentProcess';
import { FakeApiServer } from './support/fakeApiServer';

const EXPORTER = 'system:serviceaccount:loopscope:loopscope-exporter';
const EXPORTER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.exporter-token.sig';
const OTHER_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.other-token.sig';
const AGENT_TOKEN = 'agent-own-serviceaccount-token';

const line = (type: string, id: number, src: string, dst: string, dport: number, unreplied: boolean): string =>
  `[1796179842.${String(id).padStart(6, '0')}]\t[${type}] tcp      6 120 SYN_SENT src=${src} dst=${dst} sport=${40000 + id} dport=${dport} ${unreplied ? '[UNREPLIED] ' : ''}src=${dst} dst=${src} sport=${dport} dport=${40000 + id} id=${id}`;

function events(dst: string, dport: number): string {
  const out: string[] = [];
  // Client 10.1.0.5: 3 connections time out, 2 are answered. Other traffic is ignored.
  for (let id = 1; id <= 3; id++)
    out.push(line('NEW', id, '10.1.0.5', dst, dport, true), line('DESTROY', id, '10.1.0.5', dst, dport, true));
  for (let id = 4; id <= 5; id++)
    out.push(
      line('NEW', id, '10.1.0.5', dst, dport, true),
      line('UPDATE', id, '10.1.0.5', dst, dport, false),
      line('DESTROY', id, '10.1.0.5', dst, dport, false),
    );
  out.push(line('NEW', 6, '10.1.0.5', '10.9.9.9', dport, true), 'conntrack v1.4.7 (conntrack-tools): garbage line', '');
  return out.join('\n');
}

describe('the agent process', () => {
  let dir: string;
  let bin: string;
  const agents: RunningAgent[] = [];
  const api = new FakeApiServer(AGENT_TOKEN);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-test-'));
    // PATH holds only node and the fake conntrack: every dump tool is missing.
    bin = join(dir, 'bin');
    execFileSync('mkdir', [bin]);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync(join(__dirname, 'support', 'fake-conntrack.js'), join(bin, 'conntrack'));
    await api.start();
    api.tokens.set(EXPORTER_TOKEN, EXPORTER);
    api.tokens.set(OTHER_TOKEN, 'system:serviceaccount:default:curious');
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (url: string, token?: string) => {
    const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: r.status, body: await r.text() };
  };

  it('missing tools are reported per source, never fatal; fake conntrack events are counted', async () => {
    const eventsFile = join(dir, 'events-static.txt');
    writeFileSync(eventsFile, events('10.0.3.15', 8080));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'a-static-token-of-some-length\n');
    const agent = await startAgent(['--node-name', 'n1', '--ingress', '10.0.3.15:8080', '--token-file', tokenFile], {
      env: { PATH: bin, FAKE_CONNTRACK_EVENTS: eventsFile },
    });
    agents.push(agent);
    const ready = await pollJson(`${agent.url}/readyz`, (b) => b.ready === true);
    expect(ready.waiting).toEqual([]);
    const ev = await pollJson(`${agent.url}/api/v1/evidence`, (b) => b.connections?.[0]?.unreplied === 3, 'a-static-token-of-some-length');
    for (const source of ['iptablesSave', 'ip6tablesSave', 'ipset', 'addr', 'nftRuleset']) {
      expect(ev.dumps[source]).toMatchObject({ status: 'missing' });
      expect(ev.dumps[source].error).toMatch(/not found on PATH/);
    }
    expect(ev.connections).toEqual([
      expect.objectContaining({ clientIp: '10.1.0.5', ingressIp: '10.0.3.15', ingressPort: 8080, opened: 5, replied: 2, unreplied: 3 }),
    ]);
    const metrics = (await get(`${agent.url}/metrics`)).body;
    expect(
      sample(metrics, 'loopscope_node_lb_connections_total', {
        client_ip: '10.1.0.5',
        ingress_ip: '10.0.3.15',
        ingress_port: '8080',
        protocol: 'tcp',
        outcome: 'unreplied',
      }),
    ).toBe(3);
    expect(sample(metrics, 'loopscope_node_lb_connections_total', { outcome: 'replied' })).toBe(2);
    expect(sample(metrics, 'loopscope_node_agent_dump_up', { source: 'iptablesSave' })).toBe(0);
    expect(sample(metrics, 'loopscope_node_agent_conntrack_unparsed_total')).toBe(1);
    expect(sample(metrics, 'loopscope_node_agent_info', { node: 'n1' })).toBe(1);
    // What Prometheus' own linter says about the exposition (when promtool is installed).
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    if (!promtool.error) expect(`${promtool.stdout}${promtool.stderr}`.trim()).toBe('');
    expect((await get(`${agent.url}/healthz`)).status).toBe(200);
    expect((await get(`${agent.url}/nope`)).status).toBe(404);
    expect((await fetch(`${agent.url}/metrics`, { method: 'POST' })).status).toBe(405);
  }, 30_000);

  it('a conntrack -E that keeps dying is restarted with backoff, and the agent stays up', async () => {
    const eventsFile = join(dir, 'events-exit.txt');
    writeFileSync(eventsFile, events('10.0.3.15', 8080));
    const tokenFile = join(dir, 'token2');
    writeFileSync(tokenFile, 'another-static-token-0123');
    const agent = await startAgent(['--node-name', 'n1', '--ingress', '10.0.3.15:8080', '--token-file', tokenFile], {
      env: { PATH: bin, FAKE_CONNTRACK_EVENTS: eventsFile, FAKE_CONNTRACK_EXIT: '1' },
    });
    agents.push(agent);
    const deadline = Date.now() + 15_000;
    let restarts = 0;
    while (Date.now() < deadline && restarts < 2) {
      restarts = sample((await get(`${agent.url}/metrics`)).body, 'loopscope_node_agent_conntrack_restarts_total') ?? 0;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(restarts).toBeGreaterThanOrEqual(2);
    expect(agent.log()).toMatch(/conntrack -E exited \(code 1\); restarting in \d/);
    // Each run printed the same events again: counted each time, the process still serving.
    expect(
      sample((await get(`${agent.url}/metrics`)).body, 'loopscope_node_lb_connections_total', { outcome: 'unreplied' }),
    ).toBeGreaterThanOrEqual(6);
    expect(agent.process.exitCode).toBeNull();
  }, 30_000);

  it('TokenReview: the exporter is let in, another ServiceAccount is forbidden, a forged token refused; ingress points come from Services', async () => {
    const eventsFile = join(dir, 'events-api.txt');
    writeFileSync(eventsFile, events('10.0.3.99', 443));
    api.setServices([
      {
        metadata: { name: 'payments', namespace: 'prod' },
        spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] },
        status: { loadBalancer: { ingress: [{ ip: '10.0.3.99' }] } },
      },
      { metadata: { name: 'internal', namespace: 'prod' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } },
    ]);
    const kubeconfig = api.kubeconfig(join(dir, 'kubeconfig'));
    const agent = await startAgent(['--node-name', 'n2', '--kubeconfig', kubeconfig], {
      env: { PATH: bin, FAKE_CONNTRACK_EVENTS: eventsFile },
    });
    agents.push(agent);
    const ev = await pollJson(`${agent.url}/api/v1/evidence`, (b) => b.connections?.length === 1, EXPORTER_TOKEN);
    expect(ev.ingress).toEqual({ source: 'Kubernetes API (Services)', points: 1, synced: true });
    expect(ev.connections[0]).toMatchObject({
      service: 'prod/payments',
      ingressIp: '10.0.3.99',
      ingressPort: 443,
      unreplied: 3,
      replied: 2,
    });
    expect((await get(`${agent.url}/api/v1/evidence`, OTHER_TOKEN)).status).toBe(403);
    const forged = await get(`${agent.url}/api/v1/evidence`, 'eyJhbGciOiJub25lIn0.forged.');
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body)).toEqual({ error: 'token not authenticated by the API server' });
    expect((await get(`${agent.url}/api/v1/evidence`)).status).toBe(401);
    // One TokenReview per token, then the cached answer.
    await get(`${agent.url}/api/v1/evidence`, EXPORTER_TOKEN);
    expect(api.reviews.filter((u) => u === EXPORTER)).toHaveLength(1);
    // A new Service arrives through the watch.
    api.setServices([
      {
        metadata: { name: 'payments', namespace: 'prod' },
        spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] },
        status: { loadBalancer: { ingress: [{ ip: '10.0.3.99' }] } },
      },
      {
        metadata: { name: 'search', namespace: 'prod' },
        spec: { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] },
        status: { loadBalancer: { ingress: [{ ip: '10.0.3.98' }] } },
      },
    ]);
    await pollJson(`${agent.url}/api/v1/evidence`, (b) => b.ingress.points === 3, EXPORTER_TOKEN);
    // Nothing secret in the log.
    for (const secret of [EXPORTER_TOKEN, OTHER_TOKEN, AGENT_TOKEN, 'forged']) expect(agent.log()).not.toContain(secret);
    expect(agent.log()).toMatch(/refused \(403\): system:serviceaccount:default:curious is not allowed/);
  }, 30_000);

  it('bad flags get one line naming the flag, exit 2', () => {
    for (const [args, message] of [
      [['--ingress', 'nope'], '--ingress nope: expected IP:PORT'],
      [['--node-name', 'n', '--port', 'x'], '--port x: expected a whole number'],
      [['--node-name', 'n', '--token-file', '/nonexistent'], '--token-file /nonexistent: cannot read (ENOENT)'],
      [[], '--node-name is required'],
    ] as const) {
      let err: { status?: number; stderr?: string } = {};
      try {
        execFileSync(process.execPath, [AGENT_MAIN, ...args], {
          env: { PATH: bin, NODE_NAME: args.length === 2 ? 'n' : '' },
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (e) {
        err = e as typeof err;
      }
      expect(err.status).toBe(2);
      expect(err.stderr?.trim().split('\n')).toHaveLength(1);
      expect(err.stderr).toContain(message);
    }
  });
});

/** Polls a JSON endpoint until `ok(body)`; returns the body. */
async function pollJson(url: string, ok: (body: any) => boolean, token?: string, timeoutMs = 15_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      last = await r.json();
      if (ok(last)) return last;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url}: condition not met; last: ${JSON.stringify(last)}`);
}
