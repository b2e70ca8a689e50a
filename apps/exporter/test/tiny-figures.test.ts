/**
 * One way to print a figure, in the exporter's text: a Service whose cluster exposure is tiny (the
 * demo diluted by 20,000 client pods on a node that cannot loop) prints "<0.1%", never "0%", in the
 * ready line and the explain text, while its worst-client figure stays the headline ("up to 50%").
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoSnapshotPath } from '@loopscope/demo';
import { eventually, startExporter, type RunningExporter } from '@loopscope/testkit';

jest.setTimeout(120_000);

const EXTRA = 20_000;
/** 10.0.2.22 holds no backend of payments-api or search-api: its pods never loop, they only dilute the exposure. */
const SAFE_NODE = '10.0.2.22';

function dilutedDemo(): string {
  const demo = JSON.parse(readFileSync(demoSnapshotPath(), 'utf8')) as { items: unknown[] };
  for (let i = 0; i < EXTRA; i++) {
    demo.items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `filler-${i}`, namespace: 'filler', uid: `filler-${i}` },
      spec: { nodeName: SAFE_NODE, containers: [{ name: 'c', image: 'busybox' }] },
      status: { phase: 'Running', podIP: `172.31.${Math.floor(i / 250)}.${i % 250}` },
    });
  }
  const file = join(mkdtempSync(join(tmpdir(), 'loopscope-tiny-')), 'cluster.json');
  writeFileSync(file, JSON.stringify(demo));
  return file;
}

describe('a tiny figure in the exporter', () => {
  let exporter: RunningExporter;
  beforeAll(async () => {
    exporter = await startExporter(['--snapshot', dilutedDemo()]);
    await eventually(async () => (exporter.stdout().includes('explain:') ? true : undefined), 60_000, 'the ready line');
  });
  afterAll(async () => {
    expect(await exporter.stop()).toBe(0);
  });

  it('the exposure is above zero and below 0.05%: its raw value in /metrics, the worst client unchanged', async () => {
    const text = await (await fetch(`${exporter.url}/metrics`)).text();
    const value = (family: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${family}{namespace="payments",service="payments-api",`))!
          .split(' ')
          .pop(),
      );
    expect(value('loopscope_service_loopback_ratio')).toBeGreaterThan(0);
    expect(value('loopscope_service_loopback_ratio')).toBeLessThan(0.0005);
    expect(value('loopscope_service_worst_client_ratio')).toBe(0.5);
  });

  it('the ready line leads with the worst client and prints the exposure as "<0.1%"', () => {
    const line = exporter
      .stdout()
      .split('\n')
      .find((l) => l.includes('payments/payments-api:'))!;
    expect(line).toMatch(
      /^ {2}payments\/payments-api: up to 50% of connections from \d+ client pod\(s\) on 2 node\(s\) time out \(cluster exposure <0\.1%\)$/,
    );
    expect(exporter.stdout()).not.toMatch(/(^|[^.\d])0%/m);
  });

  it('the explain text never prints "0%" for the tiny exposure', async () => {
    const r = await fetch(`${exporter.apiUrl}/api/v1/explain?target=payments/payments-api&format=text`);
    expect(r.status).toBe(200);
    const text = await r.text();
    // The headline carries the Service's exposure: "<0.1%", never "0%" (below it, a caller or a fix may really be at 0).
    expect(text.split('\n')[0]).toContain('<0.1%');
    expect(text.split('\n')[0]).not.toMatch(/(^|[^.\d<])0%/);
  });
});
