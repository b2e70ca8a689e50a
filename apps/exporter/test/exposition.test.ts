/**
 * What a scraper gets from /metrics: the Prometheus text format or OpenMetrics by content
 * negotiation, gzip when asked, both checked by real parsers — promtool (Debian `prometheus`) for
 * the text format, and the OpenMetrics parser of the Python client library (Debian
 * `python3-prometheus-client`), which enforces `# EOF`, counter `_total` samples and the rest.
 */
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { eventually, startExporter, type RunningExporter } from '@loopscope/testkit';

function have(cmd: string, args: string[], pkg: string): boolean {
  const ok = spawnSync(cmd, args).status === 0;
  if (!ok && process.env.CI) throw new Error(`${cmd} is missing (Debian package ${pkg}): .ci/run installs it`);
  if (!ok) console.warn(`skipped a check: ${cmd} not installed (apt-get install ${pkg})`);
  return ok;
}
const PYTHON = '/usr/bin/python3';
const havePromtool = have('promtool', ['--version'], 'prometheus');
const haveOmParser = have(PYTHON, ['-c', 'import prometheus_client.openmetrics.parser'], 'python3-prometheus-client');

/** The raw response: fetch would gunzip it silently. */
function get(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function promtoolCheck(text: string): { out: string; status: number | null } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { out: r.stdout + r.stderr, status: r.status };
}

/** Parses OpenMetrics strictly; prints the family names and types, or the parser's error. */
function parseOpenMetrics(text: string): { families: Record<string, string>; error?: string } {
  const script = [
    'import sys, json',
    'from prometheus_client.openmetrics.parser import text_string_to_metric_families',
    'try:',
    '    print(json.dumps({f.name: f.type for f in text_string_to_metric_families(sys.stdin.read())}))',
    'except Exception as e:',
    '    print(json.dumps({"__error__": str(e)}))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script], { input: text, encoding: 'utf8' });
  const out = JSON.parse(r.stdout) as Record<string, string>;
  return out.__error__ ? { families: {}, error: out.__error__ } : { families: out };
}

// What Prometheus 2.x sends (scrape/scrape.go, scrapeAcceptHeader).
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('/metrics exposition', () => {
  let exporter: RunningExporter;
  beforeAll(async () => {
    exporter = await startExporter([]);
    await eventually(async () => ((await fetch(`${exporter.url}/readyz`)).status === 200 ? true : undefined), 30_000, 'readyz');
  });
  afterAll(async () => {
    expect(await exporter.stop()).toBe(0);
  });

  it('text format by default: promtool finds nothing wrong', async () => {
    const r = await get(`${exporter.url}/metrics`, {});
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.headers['content-encoding']).toBeUndefined();
    const text = r.body.toString('utf8');
    expect(text).not.toContain('# EOF');
    if (havePromtool) expect(promtoolCheck(text)).toEqual({ out: '', status: 0 });
  });

  it("OpenMetrics for Prometheus' Accept header, ending in # EOF, parsed by a strict OpenMetrics parser", async () => {
    const r = await get(`${exporter.url}/metrics`, { accept: PROMETHEUS_ACCEPT });
    expect(r.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const text = r.body.toString('utf8');
    expect(text.endsWith('# EOF\n')).toBe(true);
    // OpenMetrics names a counter's family without _total and its samples with it.
    expect(text).toContain('# TYPE loopscope_watch_errors counter\n');
    expect(text).toContain('loopscope_watch_errors_total{resource="snapshot"} 0');
    if (haveOmParser) {
      const parsed = parseOpenMetrics(text);
      expect(parsed.error).toBeUndefined();
      expect(parsed.families).toMatchObject({
        loopscope_watch_errors: 'counter',
        loopscope_service_loopback_ratio: 'gauge',
        loopscope_analysis_duration_seconds: 'histogram',
        process_cpu_seconds: 'counter',
      });
    }
    // A client that prefers the text format gets it.
    const plain = await get(`${exporter.url}/metrics`, { accept: 'text/plain;version=0.0.4,application/openmetrics-text;q=0.5' });
    expect(plain.headers['content-type']).toContain('text/plain');
  });

  it('gzip when asked, in both formats, and the same exposition once unzipped', async () => {
    for (const accept of ['text/plain', PROMETHEUS_ACCEPT]) {
      const zipped = await get(`${exporter.url}/metrics`, { accept, 'accept-encoding': 'gzip' });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers.vary).toContain('accept-encoding');
      const text = gunzipSync(zipped.body).toString('utf8');
      expect(text.length).toBeGreaterThan(zipped.body.length * 3);
      expect(text).toContain('loopscope_service_loopback_ratio{namespace="payments",service="payments-api"');
      if (accept === 'text/plain' && havePromtool) expect(promtoolCheck(text)).toEqual({ out: '', status: 0 });
      if (accept !== 'text/plain' && haveOmParser) expect(parseOpenMetrics(text).error).toBeUndefined();
    }
    const refused = await get(`${exporter.url}/metrics`, { 'accept-encoding': 'gzip;q=0, identity' });
    expect(refused.headers['content-encoding']).toBeUndefined();
  });

  it('build info, process metrics, counters from 0, the verdict as a state set, the LB address as ip/hostname', async () => {
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(text).toMatch(/^loopscope_build_info\{version="\d+\.\d+\.\d+",revision="[^"]*",nodejs_version="v\d+[^"]*"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^process_cpu_seconds_total [\d.e-]+/m);
    // No error yet, and still a series, so increase() sees the first one.
    for (const family of ['loopscope_watch_errors_total', 'loopscope_watch_restarts_total', 'loopscope_objects_skipped_total'])
      expect(text).toContain(`${family}{resource="snapshot"} 0\n`);
    // Exactly one verdict is 1 per Service; the properties stay on _info without the verdict.
    const verdicts = text.split('\n').filter((l) => l.startsWith('loopscope_service_verdict{namespace="payments",service="payments-api",'));
    expect(verdicts.sort()).toEqual(
      [
        'loopscope_service_verdict{namespace="payments",service="payments-api",verdict="loopback"} 1',
        'loopscope_service_verdict{namespace="payments",service="payments-api",verdict="not-applicable"} 0',
        'loopscope_service_verdict{namespace="payments",service="payments-api",verdict="safe"} 0',
        'loopscope_service_verdict{namespace="payments",service="payments-api",verdict="unknown"} 0',
        'loopscope_service_verdict{namespace="payments",service="payments-api",verdict="unreachable"} 0',
      ].sort(),
    );
    const info = text.split('\n').find((l) => l.startsWith('loopscope_service_info{namespace="payments",service="payments-api",'));
    expect(info).toBeDefined();
    expect(info).not.toContain('verdict=');
    expect(info).toMatch(/ip="10\.0\.3\.15",hostname=""\} 1$/);
  });

  it("the headline figure per ingress is core's worst-client figure; known callers by source and their figure agree with the API's report", async () => {
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    const report = (await (await fetch(`${exporter.url}/api/v1/report`)).json()) as any;
    const sample = (family: string, ns: string, svc: string, extra = ''): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(`${family}{namespace="${ns}",service="${svc}",`) && l.includes(extra));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    // The demo's worked figures: payments-api 0.5 (exposure 0.1806), search-api 2/3.
    expect(sample('loopscope_service_worst_client_ratio', 'payments', 'payments-api')).toBe(0.5);
    expect(sample('loopscope_service_worst_client_ratio', 'search', 'search-api')).toBe(0.666667);
    expect(sample('loopscope_service_worst_client_ratio', 'orders', 'orders-api')).toBe(0);
    for (const s of report.services.filter((x: any) => x.type === 'LoadBalancer' && x.ingresses.length)) {
      expect(sample('loopscope_service_worst_client_ratio', s.namespace, s.name)).toBeCloseTo(s.worstClientProbability, 5);
      const pods = (source: string) => new Set(s.callers.filter((c: any) => c.source === source).map((c: any) => c.pod)).size;
      expect(sample('loopscope_service_known_callers', s.namespace, s.name, 'source="declared"')).toBe(pods('declared'));
      expect(sample('loopscope_service_known_callers', s.namespace, s.name, 'source="observed"')).toBe(pods('observed'));
      const figure = sample('loopscope_service_callers_loopback_ratio', s.namespace, s.name);
      if (s.callersProbability === null) expect(figure).toBeUndefined();
      else expect(figure).toBeCloseTo(s.callersProbability, 5);
    }
    if (havePromtool) expect(promtoolCheck(text)).toEqual({ out: '', status: 0 });
  });

  it("HELP texts cite public sources or docs/model.md, never the team page's rule numbers", async () => {
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    const help = text.split('\n').filter((l) => l.startsWith('# HELP loopscope_'));
    expect(help.length).toBeGreaterThan(10);
    for (const l of help) expect(l).not.toMatch(/\bF\d+\b|§/);
    expect(help.find((l) => l.startsWith('# HELP loopscope_service_worst_client_ratio '))).toMatch(
      /worst-placed client.*docs\/model\.md#figures.*AWS NLB troubleshooting/,
    );
    expect(help.find((l) => l.startsWith('# HELP loopscope_service_known_callers '))).toMatch(/declared.*observed/);
    expect(help.find((l) => l.startsWith('# HELP loopscope_service_verdict '))).toContain('unreachable');
  });
});
