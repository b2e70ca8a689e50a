/**
 * Real-browser test: the built exporter on the demo cluster → its /metrics turned into the table frames
 * Grafana's Prometheus data source produces → the panel component in headless Chromium, light and dark.
 * Needs `npm run build` of @loopscope/exporter and Debian's /usr/bin/chromium. Run: npm run test:browser.
 */
import { ChildProcess, spawn } from 'child_process';
import { createServer, Server } from 'http';
import { existsSync, mkdirSync, readFileSync } from 'fs';
import { AddressInfo } from 'net';
import path from 'path';
import { build } from 'esbuild';
import { chromium, Browser } from 'playwright-core';

const APP = path.resolve(__dirname, '..');
const REPO = path.resolve(APP, '../..');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

jest.setTimeout(120_000);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition → samples (what Prometheus would store from one scrape). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (!m || l.startsWith('#')) {
      continue;
    }
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k!] = v!.replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** An instant query with Format "Table": Time, __name__, one string field per label, `Value #<refId>`. */
function tableFrame(samples: Sample[], metric: string, refId: string, when: number) {
  const rows = samples.filter((s) => s.name === metric);
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.labels)))].sort();
  return {
    refId,
    meta: { type: 'numeric-multi', typeVersion: [0, 1], executedQueryString: `Expr: ${metric}` },
    fields: [
      { name: 'Time', type: 'time', config: {}, values: rows.map(() => when) },
      { name: '__name__', type: 'string', config: {}, values: rows.map(() => metric) },
      ...names.map((n) => ({ name: n, type: 'string', config: { filterable: true }, values: rows.map((r) => r.labels[n] ?? '') })),
      { name: `Value #${refId}`, type: 'number', config: {}, values: rows.map((r) => r.value) },
    ],
  };
}

function startExporter(): Promise<{ proc: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [path.join(REPO, 'apps/exporter/dist/main.js'), '--port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`exporter did not start: ${err}`)), 20_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1]! });
      }
    });
    proc.on('exit', (code) => reject(new Error(`exporter exited ${code}: ${err}`)));
  });
}

// Debian's chromium is installed by .ci/run; elsewhere the test says why it did not run.
const haveChromium = existsSync('/usr/bin/chromium');
if (!haveChromium && process.env.CI) throw new Error('/usr/bin/chromium is missing (Debian package chromium): .ci/run installs it');
if (!haveChromium) console.warn('skipped the browser test: /usr/bin/chromium not installed (apt-get install chromium)');

(haveChromium ? describe : describe.skip)('links panel in Chromium', () => {
  let exporter: { proc: ChildProcess; url: string };
  let server: Server;
  let base: string;
  let browser: Browser;
  let frames: unknown[];
  let exporterUrl: string;

  beforeAll(async () => {
    exporter = await startExporter();
    exporterUrl = exporter.url;
    // wait for the first analysis
    for (let i = 0; i < 50; i++) {
      if ((await fetch(`${exporter.url}/readyz`)).ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const samples = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
    const now = Date.now();
    frames = [
      tableFrame(samples, 'loopscope_link_loopback_ratio', 'A', now),
      tableFrame(samples, 'loopscope_service_info', 'B', now),
      tableFrame(samples, 'loopscope_service_loopback_ratio', 'C', now),
      tableFrame(samples, 'loopscope_service_verdict', 'D', now),
      tableFrame(samples, 'loopscope_service_worst_client_ratio', 'E', now),
      tableFrame(samples, 'loopscope_service_known_callers', 'F', now),
      tableFrame(samples, 'loopscope_service_callers_loopback_ratio', 'G', now),
    ];
    const bundle = await build({
      entryPoints: [path.join(APP, 'test/browser/harness.tsx')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
      loader: { '.css': 'empty', '.svg': 'dataurl', '.woff': 'empty', '.woff2': 'empty', '.ttf': 'empty' },
      logLevel: 'error',
    });
    const js = bundle.outputFiles[0]!.contents;
    const fallbackBundle = await build({
      // development React: full error messages
      entryPoints: [path.join(APP, 'test/browser/fallback.tsx')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"development"', global: 'globalThis' },
      loader: { '.css': 'empty', '.svg': 'dataurl', '.woff': 'empty', '.woff2': 'empty', '.ttf': 'empty' },
      logLevel: 'error',
    });
    const fallbackJs = fallbackBundle.outputFiles[0]!.contents;
    server = createServer((req, res) => {
      if (req.url === '/harness.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      } else if (req.url === '/fallback.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(fallbackJs);
      } else if (req.url === '/fallback') {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            '<!doctype html><html><head><meta charset="utf-8"></head><body><div id="root"></div><script src="/fallback.js"></script></body></html>',
          );
      } else {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(
            '<!doctype html><html><head><meta charset="utf-8"></head><body><div id="root"></div><script src="/harness.js"></script></body></html>',
          );
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
    mkdirSync(path.join(APP, 'artifacts'), { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    exporter?.proc.kill();
  });

  it('aggregates 500 links to the top N (dark, list below)', async () => {
    const names = ['node', 'client_namespace', 'client_kind', 'client_workload', 'namespace', 'service', 'ip', 'port'];
    const rows = Array.from({ length: 500 }, (_, i) => [
      `10.0.${i % 20}.${i % 7}`,
      `ns${i % 25}`,
      'Deployment',
      `app-${i}`,
      `team${i % 10}`,
      `api-${i % 10}`,
      `10.9.0.${i % 10}`,
      '443',
    ]);
    const frame = {
      refId: 'A',
      fields: [
        { name: 'Time', type: 'time', values: rows.map(() => Date.now()) },
        ...names.map((n, k) => ({ name: n, type: 'string', values: rows.map((r) => r[k]) })),
        { name: 'Value #A', type: 'number', values: rows.map((_, i) => ((i * 37) % 100) / 100 + 0.001) },
      ],
    };
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.addInitScript(
      (input) => {
        (window as unknown as { __LOOPSCOPE__: unknown }).__LOOPSCOPE__ = input;
      },
      { theme: 'dark', frames: [frame], options: { maxLinks: 25, orientation: 'vertical' }, width: 980, height: 880 },
    );
    await page.goto(base);
    await page.waitForSelector('[data-testid="edge"]', { timeout: 30_000 });
    expect(await page.locator('[data-testid="edge"]').count()).toBe(25);
    expect(await page.textContent('[data-testid="omitted"]')).toMatch(/\+475 more/);
    await page.screenshot({ path: path.join(APP, 'artifacts', 'links-panel-500-dark.png') });
    await page.close();
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`draws the demo's looping links in red (${theme})`, async () => {
      const page = await browser.newPage({ viewport: { width: 1200, height: 560 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.addInitScript(
        (input) => {
          (window as unknown as { __LOOPSCOPE__: unknown }).__LOOPSCOPE__ = input;
        },
        { theme, frames, options: { exporterUrl, groupClientsBy: 'workload', showSafe: true }, width: 1180, height: 540 },
      );
      await page.goto(base);
      await page.waitForSelector('[data-testid="edge"]', { timeout: 30_000 });
      expect(errors).toEqual([]);

      const errorColor = await page.evaluate(() => (window as unknown as { __ERROR_COLOR__: string }).__ERROR_COLOR__);
      const edges = await page.$$eval('[data-testid="edge"]', (els) =>
        els.map((g) => ({
          service: g.getAttribute('data-service'),
          looping: g.getAttribute('data-looping'),
          stroke: g.querySelector('[data-testid="edge-line"]')!.getAttribute('stroke'),
          label: g.querySelector('[data-testid="edge-label"]')?.textContent ?? null,
        })),
      );
      for (const svc of ['payments/payments-api', 'search/search-api']) {
        const looping = edges.filter((e) => e.service === svc && e.looping === 'true');
        expect(looping.length).toBeGreaterThan(0);
        for (const e of looping) {
          expect(e.stroke).toBe(errorColor);
          expect(e.label).toMatch(/%$/);
        }
      }
      // The headline per Service: the exporter's worst-client figure (payments-api 50%, search-api 66.7%), worst first.
      const serviceRows = await page.$$eval('[data-testid="service-row"]', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
      );
      expect(serviceRows.map((r) => [r[0], r[1]])).toEqual([
        ['search/search-api', 'up to 66.7%'],
        ['payments/payments-api', 'up to 50%'],
      ]);
      expect(serviceRows.map((r) => r[3])).toEqual(['13.9%', '18.1%']);
      expect(await page.$$eval('[data-testid="worst-client-badge"]', (gs) => gs.map((g) => g.textContent))).toEqual(['66.7%', '50%']);
      // Services that cannot loop are not drawn as looping
      expect(
        edges.filter((e) => e.looping === 'true').every((e) => e.service === 'payments/payments-api' || e.service === 'search/search-api'),
      ).toBe(true);

      // the explain data link
      await page.click('[data-testid="link-row"]');
      const href = await page.getAttribute('[data-testid="edge-details"] a', 'href');
      expect(href).toMatch(new RegExp(`^${exporterUrl}/api/v1/explain\\?target=`));
      const explain = await fetch(href!);
      expect(explain.status).toBe(200);

      await page.click('[data-testid="link-row"]'); // deselect for a clean picture
      await page.mouse.move(1, 1);
      // Only to the ignored artifacts/ folder: the tracked img/screenshot-dark.png changes on purpose
      // (`npm run screenshot`), so `git status` stays clean after the tests.
      await page.screenshot({ path: path.join(APP, 'artifacts', `links-panel-${theme}.png`) });
      if (process.env.LOOPSCOPE_SCREENSHOT_DIR)
        await page.screenshot({ path: path.join(process.env.LOOPSCOPE_SCREENSHOT_DIR, `links-panel-${theme}.png`) });
      await page.close();
    });
  }

  it("without the plugin: the dashboard's built-in table shows the exporter's links, labelled and worst first", async () => {
    const dashboard = JSON.parse(readFileSync(path.join(APP, 'provisioning', 'dashboards', 'loopback-risk.json'), 'utf8'));
    const panel = dashboard.panels.find(
      (p: any) => p.type === 'table' && p.targets.some((t: any) => t.expr.includes('loopscope_link_loopback_ratio')),
    );
    const linkFrame = (frames as any[]).find((f) => f.refId === 'A');
    const page = await browser.newPage({ viewport: { width: 1200, height: 520 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(
      (input) => {
        (window as unknown as { __FALLBACK__: unknown }).__FALLBACK__ = input;
      },
      { theme: 'dark', frame: linkFrame, panel, width: 1180, height: 500 },
    );
    await page.goto(`${base}/fallback`);
    await page.waitForFunction(() => (window as unknown as { __ROWS__?: unknown }).__ROWS__ !== undefined, undefined, { timeout: 30_000 });
    expect(errors).toEqual([]);
    const text = (await page.textContent('#root')) ?? '';
    for (const header of ['Client namespace', 'Client workload', 'Node', 'Service', 'LB IP', 'Loopback probability'])
      expect(text).toContain(header);
    const rows = await page.evaluate(() => (window as unknown as { __ROWS__: string[][] }).__ROWS__);
    // One row per link series of the exporter, the likeliest first, as percentages.
    const exported = (linkFrame.fields.find((f: any) => f.name === 'Value #A').values as number[]).slice().sort((a, b) => b - a);
    expect(rows).toHaveLength(exported.length);
    const probabilities = rows.map((r) => r[r.length - 1]!);
    expect(probabilities[0]).toBe(`${(exported[0]! * 100).toFixed(1)}%`);
    expect(probabilities.every((p) => /^\d+(\.\d+)?%$/.test(p))).toBe(true);
    expect(text).toContain('payments-api');
    await page.screenshot({ path: path.join(APP, 'artifacts', 'fallback-table-dark.png') });
    await page.close();
  });
});
