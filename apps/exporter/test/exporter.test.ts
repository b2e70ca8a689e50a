/**
 * The exporter as a process on the demo cluster and on snapshots: endpoints, figures equal to the
 * CLI's, promtool-clean metrics, snapshot reloads, and bad input that never takes it down.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, getJson, startExporter, type RunningExporter } from '@loopscope/testkit';

const CLI = join(__dirname, '..', '..', 'cli', 'dist', 'main.js');
const DEMO = require.resolve('@loopscope/demo/demo-cluster.json');
const DUMPS = join(DEMO, '..', 'node-dumps');

function cliReport(args: string[]): any {
  return JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', '--demo', '--format', 'json', ...args], { encoding: 'utf8' }));
}

function promtool(): string | undefined {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? 'promtool' : undefined;
}

describe('exporter on the demo cluster', () => {
  let exporter: RunningExporter;
  beforeAll(async () => {
    exporter = await startExporter(['--node-dumps', DUMPS]);
    await eventually(async () => ((await fetch(`${exporter.url}/readyz`)).status === 200 ? true : undefined), 30_000, 'readyz');
  });
  afterAll(async () => {
    expect(await exporter.stop()).toBe(0);
  });

  it('prints where to look', () => {
    expect(exporter.stdout()).toContain(`metrics:  ${exporter.url}/metrics`);
    // Worst client first: search-api's worst client loops 66.7% of the time, payments-api's 50%.
    expect(exporter.stdout()).toContain(`explain:  ${exporter.url}/api/v1/explain?target=search/search-api&format=text`);
    expect(exporter.stdout()).toContain(
      '  payments/payments-api: up to 50% of connections from 13 client pod(s) on 2 node(s) time out (cluster exposure 18.1%)',
    );
  });

  it("/api/v1/report is the CLI's loopscope/v1 report for the same input", async () => {
    const { status, body } = await getJson(`${exporter.url}/api/v1/report`);
    expect(status).toBe(200);
    const cli = cliReport(['--demo', '--node-dumps', DUMPS]);
    const strip = (r: any) => ({ ...r, generatedAt: undefined, problems: undefined, cluster: { ...r.cluster, provider: undefined } });
    expect(strip(body)).toEqual(strip(cli));
  });

  it("/metrics: every Service's ratio equals the CLI figure, and promtool finds nothing wrong", async () => {
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    const cli = cliReport(['--demo', '--node-dumps', DUMPS]);
    for (const s of cli.services.filter((x: any) => x.ingresses.length > 0)) {
      for (const i of s.ingresses) {
        const line = text
          .split('\n')
          .find((l) =>
            l.startsWith(
              `loopscope_service_loopback_ratio{namespace="${s.namespace}",service="${s.name}",ip="${i.ip}",hostname="",port="${i.port}"`,
            ),
          );
        expect(line).toBeDefined();
        expect(Number(line!.split(' ').pop())).toBeCloseTo(i.loopbackProbability, 5);
      }
    }
    expect(text).toMatch(/loopscope_observed_unreplied_connections\{namespace="payments",service="payments-api",node="10.0.1.11"\} 3/);
    expect(text).toMatch(/loopscope_ready 1/);
    expect(text).toMatch(/loopscope_service_info\{namespace="web",service="storefront",.*lb_scope="public".*\} 1/);
    expect(text).toMatch(/loopscope_service_verdict\{namespace="web",service="storefront",verdict="not-applicable"\} 1/);
    expect(text).toMatch(/loopscope_service_verdict\{namespace="web",service="storefront",verdict="loopback"\} 0/);
    const tool = promtool();
    if (!tool) {
      if (process.env.CI) throw new Error('promtool is missing (Debian package prometheus): .ci/run installs it');
      console.warn('skipped promtool check metrics: promtool not installed (apt-get install prometheus)');
      return;
    }
    const check = spawnSync(tool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('/api/v1/services and /api/v1/links filter', async () => {
    const services = await getJson(`${exporter.url}/api/v1/services?verdict=loopback`);
    expect(services.body.services.map((s: any) => s.name).sort()).toEqual(['payments-api', 'search-api']);
    const links = await getJson(`${exporter.url}/api/v1/links?service=payments/payments-api&limit=2`);
    expect(links.body.links).toHaveLength(2);
    expect(links.body.linksOmitted).toBeGreaterThan(0);
    expect(links.body.links.every((l: any) => l.service.name === 'payments-api')).toBe(true);
  });

  it('/api/v1/explain: structured and Markdown; unknown and missing targets are JSON errors', async () => {
    const ok = await getJson(`${exporter.url}/api/v1/explain?target=payments-api`);
    expect(ok.status).toBe(200);
    expect(ok.body.explanation.verdict).toBe('loopback');
    expect(ok.body.markdown).toContain('#### Packet path');
    expect(ok.body.explanation.services[0].observed.join(' ')).toContain('[UNREPLIED]');
    const md = await fetch(`${exporter.url}/api/v1/explain?target=payments-api&format=markdown`);
    expect(md.headers.get('content-type')).toContain('text/markdown');
    const unknown = await getJson(`${exporter.url}/api/v1/explain?target=paymnts`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.suggestions[0]).toBe('payments/payments-api');
    expect((await getJson(`${exporter.url}/api/v1/explain`)).status).toBe(400);
  });

  it('POST /api/v1/whatif answers, and bad bodies get 400 naming the field', async () => {
    const post = (body: string) =>
      fetch(`${exporter.url}/api/v1/whatif`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const ok = await post(JSON.stringify({ changes: [{ kind: 'trafficPolicy', service: 'payments/payments-api', value: 'Cluster' }] }));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).services[0].after).toEqual({ verdict: 'safe', probability: 0, worstClientProbability: 0 });
    const bad = await post('{"changes":[{"kind":"ipMode","service":"payments/payments-api","value":"Maybe"}]}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toBe('changes[0].value: "Maybe" is not one of VIP, Proxy');
    expect((await post('not json')).status).toBe(400);
    const missing = await post(JSON.stringify({ changes: [{ kind: 'callViaClusterIP', service: 'nope/nope' }] }));
    expect(missing.status).toBe(404);
    // A change the model refuses is bad input too (400), not "not found".
    const badVersion = await post(JSON.stringify({ changes: [{ kind: 'kubeProxyVersion', version: 'v1.2' }] }));
    expect(badVersion.status).toBe(400);
    expect(((await badVersion.json()) as any).error.message).toContain('kube-proxy version "v1.2" is not of the form');
    const headless = await post(JSON.stringify({ changes: [{ kind: 'trafficPolicy' }] }));
    expect(headless.status).toBe(400);
  });

  it('unknown endpoints and methods are JSON errors', async () => {
    expect((await getJson(`${exporter.url}/nope`)).status).toBe(404);
    expect((await fetch(`${exporter.url}/api/v1/report`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('--max-links', () => {
  it('keeps the most likely links and counts the rest', async () => {
    const exporter = await startExporter(['--max-links', '3']);
    try {
      const text = await eventually(
        async () => {
          const t = await (await fetch(`${exporter.url}/metrics`)).text();
          return t.includes('loopscope_link_loopback_ratio{') ? t : undefined;
        },
        30_000,
        'link series',
      );
      const values = text
        .split('\n')
        .filter((l) => l.startsWith('loopscope_link_loopback_ratio{'))
        .map((l) => Number(l.split(' ').pop()));
      const all = cliReport(['--demo'])
        .links.map((l: any) => l.probability)
        .sort((a: number, b: number) => b - a);
      expect(values).toHaveLength(3);
      expect([...values].sort((a, b) => b - a)).toEqual(all.slice(0, 3));
      expect(text).toContain(`loopscope_links_omitted ${all.length - 3}`);
    } finally {
      await exporter.stop();
    }
  });
});

describe('exporter on a snapshot file', () => {
  it('re-reads it on change, keeps the last good one when it breaks, and never crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-exporter-'));
    const file = join(dir, 'cluster.json');
    copyFileSync(DEMO, file);
    const exporter = await startExporter(['--snapshot', file, '--debounce-ms', '50']);
    try {
      const ratio = async () => {
        const text = await (await fetch(`${exporter.url}/metrics`)).text();
        const line = text
          .split('\n')
          .find((l) => l.startsWith('loopscope_service_loopback_ratio{namespace="payments",service="payments-api"'));
        return line ? Number(line.split(' ').pop()) : undefined;
      };
      const before = await eventually(ratio, 30_000, 'payments ratio');
      expect(before).toBeGreaterThan(0);
      // The fix lands: payments-api switches to Cluster.
      const demo = JSON.parse(readFileSync(DEMO, 'utf8'));
      demo.items.find((i: any) => i.kind === 'Service' && i.metadata.name === 'payments-api').spec.externalTrafficPolicy = 'Cluster';
      writeFileSync(file, JSON.stringify(demo));
      await eventually(async () => ((await ratio()) === 0 ? true : undefined), 30_000, 'the ratio to drop to 0');
      // A broken write: the last good figures stay, the error is counted.
      writeFileSync(file, '{"kind": "List", "items": [');
      await eventually(
        async () => {
          const text = await (await fetch(`${exporter.url}/metrics`)).text();
          return /loopscope_watch_errors_total\{resource="snapshot"\} [1-9]/.test(text) ? true : undefined;
        },
        30_000,
        'the snapshot error to be counted',
      );
      expect(await ratio()).toBe(0);
      expect((await fetch(`${exporter.url}/readyz`)).status).toBe(200);
      expect(exporter.stderr()).toContain('not valid JSON; keeping the last good snapshot');
    } finally {
      expect(await exporter.stop()).toBe(0);
    }
    // Its waits allow 30 s each (a 2 s file poll, a loaded machine): jest's 5 s default is too short.
  }, 90_000);

  it('without EndpointSlices a Service is unknown, never safe: the ready line, the metrics and the API say so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-exporter-'));
    const file = join(dir, 'cluster.json');
    const demo = JSON.parse(readFileSync(DEMO, 'utf8'));
    demo.items = demo.items.filter((i: { kind: string }) => i.kind !== 'EndpointSlice');
    writeFileSync(file, JSON.stringify(demo));
    const exporter = await startExporter(['--snapshot', file]);
    try {
      const text = await (await fetch(`${exporter.url}/metrics`)).text();
      const payments = 'namespace="payments",service="payments-api"';
      expect(text).toContain(`loopscope_service_verdict{${payments},verdict="unknown"} 1`);
      // No figure at all rather than a 0 that reads as safe.
      expect(text).not.toContain(`loopscope_service_loopback_ratio{${payments}`);
      expect(text).not.toContain(`loopscope_service_callers_loopback_ratio{${payments}`);
      const ready = exporter
        .stdout()
        .split('\n')
        .find((l) => l.startsWith('ready:'));
      expect(ready).toMatch(
        /0 at risk of internal-LB loopback, 4 unknown \(the input has no EndpointSlice: add `kubectl get endpointslices -A -o json`\)/,
      );
      const { body } = await getJson(`${exporter.url}/api/v1/services?fixes=false`);
      const svc = body.services.find((s: { name: string }) => s.name === 'payments-api');
      expect(svc.verdict).toBe('unknown');
      expect(svc.callers.length).toBeGreaterThan(0);
      expect(svc.callersProbability).toBeNull();
      expect(svc.missing).toEqual([{ kind: 'EndpointSlice', kubectl: 'kubectl get endpointslices -A -o json' }]);
    } finally {
      expect(await exporter.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a malformed object is skipped, counted and logged once, however often it is read again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-exporter-'));
    const file = join(dir, 'cluster.json');
    const demo = JSON.parse(readFileSync(DEMO, 'utf8'));
    demo.items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'broken', namespace: 'default' },
      spec: {},
      status: { phase: 'Running' },
    });
    writeFileSync(file, JSON.stringify(demo));
    const exporter = await startExporter(['--snapshot', file, '--debounce-ms', '50']);
    try {
      const skipped = async () =>
        /loopscope_objects_skipped_total\{resource="pods"\} (\d+)/.exec(await (await fetch(`${exporter.url}/metrics`)).text())?.[1];
      expect(await eventually(skipped, 30_000, 'the skipped count')).toBe('1');
      // Reloaded with another change: the same broken pod is not counted again.
      demo.items.find((i: any) => i.kind === 'Service' && i.metadata.name === 'orders-api').spec.externalTrafficPolicy = 'Local';
      writeFileSync(file, JSON.stringify(demo));
      await eventually(async () => (exporter.stderr().includes('reloaded') ? true : undefined), 30_000, 'the reload');
      await new Promise((r) => setTimeout(r, 300));
      expect(await skipped()).toBe('1');
      expect(exporter.stderr().split('Pod default/broken').length - 1).toBe(1);
      const payments = await getJson(`${exporter.url}/api/v1/explain?target=payments-api`);
      expect(payments.body.explanation.verdict).toBe('loopback');
    } finally {
      expect(await exporter.stop()).toBe(0);
    }
  }, 60_000); // its waits allow 30 s each: the 5 s default failed on a loaded machine

  it('bad flags and unreadable inputs exit 2 with a message', () => {
    const main = join(__dirname, '..', 'dist', 'main.js');
    const r1 = spawnSync(process.execPath, [main, '--port', 'eighty'], { encoding: 'utf8' });
    expect(r1.status).toBe(2);
    expect(r1.stderr).toContain('--port eighty: expected a whole number from 0 to 65535');
    const r2 = spawnSync(process.execPath, [main, '--snapshot', '/nonexistent.json', '--port', '0'], { encoding: 'utf8' });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain('snapshot /nonexistent.json: no such file or directory');
    const empty = mkdtempSync(join(tmpdir(), 'loopscope-dumps-'));
    const r4 = spawnSync(process.execPath, [main, '--node-dumps', empty, '--port', '0'], { encoding: 'utf8' });
    rmSync(empty, { recursive: true });
    expect(r4.status).toBe(2);
    expect(r4.stderr).toContain(`--node-dumps ${empty}: no node folders with dumps in it`);
    const r3 = spawnSync(process.execPath, [main, '--snapshot', 'x', '--kubeconfig', 'y'], { encoding: 'utf8' });
    expect(r3.status).toBe(2);
  });
});
