/**
 * The JSON API behind its own port and a bearer token (the shipped Deployment's setup): requests
 * without the token are refused, /metrics and the probes still answer without one, and the compact
 * at-risk list the Slack bot reads is cached per analysis.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { eventually, startExporter, type RunningExporter } from '@loopscope/testkit';

const TOKEN = 'test-token-0123456789abcdef';

describe('API on its own port with a bearer token', () => {
  let exporter: RunningExporter;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-token-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    exporter = await startExporter(['--api-port', '0', '--api-token-file', join(dir, 'token')]);
    await eventually(async () => ((await fetch(`${exporter.url}/readyz`)).status === 200 ? true : undefined), 30_000, 'readyz');
  });
  afterAll(async () => {
    expect(await exporter.stop()).toBe(0);
  });

  it('two ports: the API is not on the metrics port, the metrics are not on the API port', async () => {
    expect(exporter.apiUrl).not.toBe(exporter.url);
    const onMetricsPort = await fetch(`${exporter.url}/api/v1/services`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(onMetricsPort.status).toBe(404);
    expect(((await onMetricsPort.json()) as any).error.message).toContain('its own port');
    expect((await fetch(`${exporter.apiUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it('every API endpoint refuses a request without the token, or with a wrong one, and names what is missing', async () => {
    const paths = [
      '/api/v1/report',
      '/api/v1/services',
      '/api/v1/services/at-risk',
      '/api/v1/links',
      '/api/v1/explain?target=payments-api',
    ];
    for (const path of paths) {
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token-0123456789' },
        { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
      ] as Array<Record<string, string>>) {
        const r = await fetch(`${exporter.apiUrl}${path}`, { headers });
        expect([path, r.status]).toEqual([path, 401]);
        expect(r.headers.get('www-authenticate')).toBe('Bearer realm="loopscope"');
        const body = (await r.json()) as any;
        expect(body.error.message).not.toContain(TOKEN);
      }
    }
    const whatif = await fetch(`${exporter.apiUrl}/api/v1/whatif`, {
      method: 'POST',
      body: JSON.stringify({ changes: [{ kind: 'trafficPolicy', service: 'payments/payments-api', value: 'Cluster' }] }),
    });
    expect(whatif.status).toBe(401);
    expect(((await (await fetch(`${exporter.apiUrl}/api/v1/report`)).json()) as any).error.message).toContain('Authorization: Bearer');
  });

  it('with the token the API answers; /metrics and the probes never ask for it', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${exporter.apiUrl}/api/v1/report`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${exporter.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${exporter.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${exporter.url}/readyz`)).status).toBe(200);
  });

  it('/api/v1/services/at-risk: counts instead of lists, worst first, limited, the same body for the same analysis', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const first = await (await fetch(`${exporter.apiUrl}/api/v1/services/at-risk?limit=1`, { headers: auth })).text();
    const again = await (await fetch(`${exporter.apiUrl}/api/v1/services/at-risk?limit=1`, { headers: auth })).text();
    expect(again).toBe(first);
    const body = JSON.parse(first);
    expect(body.total).toBe(2);
    // Worst first by the worst-client figure: search-api's worst client loops 2/3 of the time, payments-api's 1/2.
    expect(body.services).toEqual([
      {
        namespace: 'search',
        name: 'search-api',
        worstClientProbability: 0.666667,
        loopbackProbability: expect.any(Number),
        atRiskNodes: 2,
        clientPodsOnAtRiskNodes: 10,
        affectedWorkloads: expect.any(Number),
      },
    ]);
    expect(body.summary).toMatchObject({ loopback: 2, services: 9 });
    const full = (await (await fetch(`${exporter.apiUrl}/api/v1/services?verdict=loopback&fixes=false`, { headers: auth })).json()) as any;
    const search = full.services.find((s: any) => s.name === 'search-api');
    expect(body.services[0].worstClientProbability).toBe(search.worstClientProbability);
    expect(body.services[0].loopbackProbability).toBe(search.loopbackProbability);
    expect(body.services[0].affectedWorkloads).toBe(search.affectedWorkloads.length);
    expect((await fetch(`${exporter.apiUrl}/api/v1/services/at-risk?limit=-1`, { headers: auth })).status).toBe(400);
  });
});

describe('API token configuration', () => {
  const main = join(__dirname, '..', 'dist', 'main.js');
  it('an unreadable, empty or short token file exits 2 with a message that never shows the token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-token-'));
    writeFileSync(join(dir, 'empty'), '\n');
    writeFileSync(join(dir, 'short'), 'abc\n');
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [main, '--port', '0', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
    const missing = run(['--api-token-file', join(dir, 'nope')]);
    expect([missing.status, missing.stderr]).toEqual([
      2,
      `loopscope-exporter: --api-token-file ${join(dir, 'nope')}: cannot be read (ENOENT)\n`,
    ]);
    expect(run(['--api-token-file', join(dir, 'empty')]).stderr).toContain('the first line is empty');
    const short = run(['--api-token-file', join(dir, 'short')]);
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('at least 16 characters');
    expect(short.stderr).not.toContain('abc');
    expect(run([], { LOOPSCOPE_API_TOKEN: '   ' }).stderr).toContain('LOOPSCOPE_API_TOKEN is set but empty');
    expect(run(['--port', '9000', '--api-port', '9000']).stderr).toContain('--api-port 9000: the same as --port');
  });
});
