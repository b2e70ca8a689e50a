/**
 * End to end with a real Prometheus (Debian `prometheus`, started here on localhost): it scrapes the
 * exporter running on the demo cluster, and PromQL over its HTTP API returns, for every Service,
 * the same loopback probability as `loopscope analyze --format json`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startExporter, type RunningExporter } from '@loopscope/testkit';

const CLI = join(__dirname, '..', '..', 'cli', 'dist', 'main.js');
const haveProm = spawnSync('prometheus', ['--version']).status === 0;
if (!haveProm && process.env.CI) throw new Error('prometheus is missing (Debian package prometheus): .ci/run installs it');
const describeProm = haveProm ? describe : describe.skip;
if (!haveProm) console.warn('skipped the Prometheus end-to-end test: prometheus not installed (apt-get install prometheus)');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describeProm('Prometheus scraping the exporter', () => {
  let exporter: RunningExporter;
  let prometheus: ChildProcess;
  let promUrl: string;
  let dir: string;
  let promLog = '';

  beforeAll(async () => {
    exporter = await startExporter([]);
    dir = mkdtempSync(join(tmpdir(), 'loopscope-prom-'));
    const target = new URL(exporter.url).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: loopscope',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    prometheus.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
  }, 60_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      await new Promise((r) => {
        prometheus.once('exit', r);
        prometheus.kill('SIGTERM');
      });
    }
    await exporter?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const query = async (promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as {
      status: string;
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(JSON.stringify(body));
    return body.data.result;
  };

  it("PromQL returns every Service's loopback probability as the CLI computes it", async () => {
    await eventually(
      async () => ((await query('up{job="loopscope"} == 1')).length === 1 ? true : undefined),
      60_000,
      `Prometheus to scrape the exporter (log: ${promLog.slice(-500)})`,
    );
    const cli = JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', '--demo', '--format', 'json'], { encoding: 'utf8' }));
    const expected = cli.services.flatMap((s: any) =>
      s.ingresses.map((i: any) => ({ key: `${s.namespace}/${s.name}/${i.ip}:${i.port}`, value: i.loopbackProbability })),
    );
    expect(expected.length).toBeGreaterThan(3);
    const series = await eventually(
      async () => {
        const r = await query('loopscope_service_loopback_ratio');
        return r.length >= expected.length ? r : undefined;
      },
      30_000,
      'the ratio series',
    );
    const got = new Map(
      series.map((s) => [`${s.metric.namespace}/${s.metric.service}/${s.metric.ip}:${s.metric.port}`, Number(s.value[1])]),
    );
    for (const e of expected) {
      expect(got.has(e.key)).toBe(true);
      expect(got.get(e.key)).toBeCloseTo(e.value, 5);
    }
    // The README's example queries work as documented.
    const atRisk = await query('count(loopscope_service_loopback_ratio > 0)');
    expect(Number(atRisk[0]!.value[1])).toBe(cli.summary.loopback);
    const worst = await query('topk(1, max by (namespace, service) (loopscope_service_loopback_ratio))');
    expect(worst[0]!.metric.service).toBe('payments-api');
    const looping = await query('loopscope_service_verdict{verdict="loopback"} == 1');
    expect(looping.map((s) => s.metric.service).sort()).toEqual(['payments-api', 'search-api']);
  }, 120_000);
});
