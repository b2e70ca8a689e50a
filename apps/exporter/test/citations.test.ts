/**
 * No text the exporter serves cites the team's model page by number ("(docs/model.md)", "docs/model.md"): its API
 * (report, lists, explanations, what-ifs), its metric HELP and its --help. Citations name a public
 * source or a section of docs/model.md. Two what-ifs on one Service compose (they were a 500).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, getJson, startExporter, type RunningExporter } from '@loopscope/testkit';

const DUMPS = join(require.resolve('@loopscope/demo/demo-cluster.json'), '..', 'node-dumps');
const MAIN = join(__dirname, '..', 'dist', 'main.js');
const PAGE_CITATION = /\(F[0-9]+|F[0-9]+\)|§/;
const citations = (text: string): string[] => text.split('\n').filter((l) => PAGE_CITATION.test(l));

describe('exporter text on the demo', () => {
  let exporter: RunningExporter;
  beforeAll(async () => {
    exporter = await startExporter(['--node-dumps', DUMPS]);
    await eventually(async () => ((await fetch(`${exporter.url}/readyz`)).status === 200 ? true : undefined), 30_000, 'readyz');
  });
  afterAll(async () => {
    expect(await exporter.stop()).toBe(0);
  });
  const text = async (path: string, init?: RequestInit): Promise<{ status: number; body: string }> => {
    const r = await fetch(`${exporter.url}${path}`, init);
    return { status: r.status, body: await r.text() };
  };

  it('the JSON API, every explanation and the metrics', async () => {
    const report = await getJson(`${exporter.url}/api/v1/report`);
    expect(report.status).toBe(200);
    const all = [JSON.stringify(report.body, null, 1)];
    for (const path of ['/api/v1/services', '/api/v1/services/at-risk', '/api/v1/links', '/metrics']) all.push((await text(path)).body);
    const services = (report.body as { services: Array<{ namespace: string; name: string }> }).services;
    expect(services.length).toBeGreaterThan(5);
    for (const s of services) {
      for (const format of ['text', 'json']) {
        const r = await text(`/api/v1/explain?target=${s.namespace}/${s.name}&format=${format}`);
        expect(r.status).toBe(200);
        all.push(format === 'json' ? JSON.stringify(JSON.parse(r.body), null, 1) : r.body);
      }
    }
    expect(all.join('\n')).toContain('Tencent Cloud doc'); // the public sources are there instead
    expect(citations(all.join('\n'))).toEqual([]);
  });

  it('what-ifs, and two changes to one Service compose (no 500)', async () => {
    const post = (changes: unknown[]) =>
      text('/api/v1/whatif', { method: 'POST', body: JSON.stringify({ changes }), headers: { 'content-type': 'application/json' } });
    const svc = 'payments/payments-api';
    const bodies = [
      [
        { kind: 'moveClients', service: svc },
        { kind: 'moveClients', service: svc, workloads: ['checkout/deployment/checkout-api'] },
      ],
      [
        { kind: 'trafficPolicy', service: svc, value: 'Cluster' },
        { kind: 'moveClients', service: svc },
      ],
      [
        { kind: 'kubeProxyVersion', version: 'tke-fixed' },
        { kind: 'preventLoopback', service: svc, value: true },
      ],
      [{ kind: 'ipMode', service: svc, value: 'Proxy' }],
    ];
    for (const changes of bodies) {
      const r = await post(changes);
      expect(r.status).toBe(200);
      expect(citations(r.body)).toEqual([]);
    }
  });

  it('--help', () => {
    const r = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
    expect(r.stdout.length).toBeGreaterThan(200);
    expect(citations(r.stdout + r.stderr)).toEqual([]);
  });
});
