/**
 * The analyze table as a person reads it: the worst-client figure is the headline, known callers
 * lead the WHY column, `unknown` and `unreachable` rows say what is missing or why, and the table fits
 * the terminal (80, 100, 160 columns) by leaving columns out in the stated order.
 * Built from the demo's real report; callers, `unknown` and `unreachable` rows are set on copies of it.
 */
import { readFileSync } from 'node:fs';
import { analyzeCluster, buildReport, loadCluster, type Report } from '@loopscope/core';
import { demoSnapshotPath } from '@loopscope/demo';
import { renderMarkdown, renderSummaryTable } from '../src/commands/analyze';
import { renderFittedTable, terminalColumns, truncate } from '../src/table';

function demoReport(): Report {
  const cluster = loadCluster([{ name: 'demo', text: readFileSync(demoSnapshotPath(), 'utf8') }]);
  const report = buildReport(analyzeCluster(cluster), { now: new Date('2026-12-02T10:00:00Z') });
  // Known callers are set by each test (core finds the demo's own from its pods' env).
  for (const svc of report.services) {
    svc.callers = [];
    svc.callersProbability = null;
  }
  return report;
}

/** The demo, plus a known caller of payments-api, an `unknown` and an `unreachable` Service, and a tiny figure. */
function richReport(): Report {
  const r = demoReport();
  const svc = (name: string) => r.services.find((s) => s.name === name)!;
  const payments = svc('payments-api');
  payments.callers = [
    {
      namespace: 'checkout',
      pod: 'checkout-api-7d9f8-abcde',
      node: '10.0.1.11',
      podIP: '172.16.1.20',
      workload: { kind: 'Deployment', name: 'checkout-api' },
      ingress: { ip: '10.0.3.15', port: 8080 },
      source: 'declared',
      where: 'env PAYMENTS_API_URL',
      probability: 0.5,
    },
  ];
  payments.callersProbability = 0.5;
  const orders = svc('orders-api');
  orders.verdict = 'unknown';
  orders.missing = [{ kind: 'Pod', kubectl: 'kubectl get pods -A -o json' }];
  const inventory = svc('inventory-api');
  inventory.verdict = 'unreachable';
  inventory.unreachable = {
    clientPods: 4,
    nodes: ['10.0.2.22'],
    reasons: ['no eligible backend for clients on 10.0.2.22 (externalTrafficPolicy Local)'],
  };
  const search = svc('search-api');
  search.worstClientProbability = 0.0004;
  search.loopbackProbability = 0.0001;
  r.summary = { ...r.summary, safe: r.summary.safe - 2, unknown: r.summary.unknown + 1, unreachable: r.summary.unreachable + 1 };
  return r;
}

const lines = (text: string): string[] => text.split('\n');
const tableLines = (text: string): string[] => lines(text).filter((l) => /^(SERVICE|[a-z-]+\/)/.test(l));

describe('analyze table', () => {
  it('headline: the worst-client figure, exposure beside it, ranked by the worst client', () => {
    const out = renderSummaryTable(demoReport(), false, false, 160);
    expect(out).toMatch(/^SERVICE\s+VERDICT\s+WORST CLIENT\s+EXPOSURE\s+CALLERS\s+AT RISK\s+POLICY/m);
    expect(out).toMatch(/payments\/payments-api\s+loopback\s+up to 50%\s+18\.1%\s+-\s+13 \(2 nodes\)/);
    expect(out).toMatch(/search\/search-api\s+loopback\s+up to 66\.7%\s+13\.9%/);
    // search-api's worst client (66.7%) ranks it above payments-api (higher exposure, 50% worst client).
    expect(out.indexOf('search/search-api')).toBeLessThan(out.indexOf('payments/payments-api'));
  });

  it('a figure above zero never prints "0%"', () => {
    const out = renderSummaryTable(richReport(), false, false, 160);
    expect(out).toMatch(/search\/search-api\s+loopback\s+up to <0\.1%\s+<0\.1%/);
    expect(renderMarkdown(richReport())).toContain('| search/search-api | loopback | up to <0.1% | <0.1% |');
  });

  it('known callers lead: the CALLERS count and figure, and WHY names the caller and where it was found', () => {
    const out = renderSummaryTable(richReport(), false, false, 160);
    expect(out).toMatch(
      /payments\/payments-api\s+loopback\s+up to 50%\s+18\.1%\s+1 \(50%\)\s+13 \(2 nodes\).*checkout-api calls it \(env PAYMENTS_API_URL\)$/m,
    );
    // Several calling workloads: the likeliest to loop is named, the others counted (pods of one workload once).
    const r = richReport();
    const payments = r.services.find((s) => s.name === 'payments-api')!;
    const other = (pod: string, workload: string, p: number) => ({
      ...payments.callers[0]!,
      pod,
      workload: { kind: 'Deployment', name: workload },
      probability: p,
    });
    payments.callers = [
      other('order-worker-1', 'order-worker', 0),
      ...payments.callers,
      other('checkout-api-7d9f8-zzzzz', 'checkout-api', 0),
    ];
    payments.callersProbability = 1 / 6;
    expect(renderSummaryTable(r, false, false, 200)).toMatch(
      /3 \(16\.7%\).*checkout-api \(env PAYMENTS_API_URL\) and 1 more workload call it$/m,
    );
  });

  it('unknown rows say what is missing and how to supply it; unreachable rows say who fails and why', () => {
    const out = renderSummaryTable(richReport(), false, false, 160);
    expect(out).toMatch(/orders\/orders-api\s+unknown\s+-\s+-.*missing Pod$/m);
    expect(out).toContain('Missing Pod (1 Service unknown): add the output of `kubectl get pods -A -o json`');
    expect(out).toMatch(
      /inventory\/inventory-api\s+unreachable\s+100% fail\s+0%\s+-\s+4 \(1 node\).*no eligible backend for clients on 10\.0\.2\.22/,
    );
    expect(out).toContain('Services: 2 loopback, 1 unreachable, 0 safe, 1 unknown, 5 not applicable');
  });

  it.each([80, 100, 160])('fits %i columns, keeping the name, verdict and worst-client figure', (width) => {
    const out = renderSummaryTable(richReport(), false, false, width);
    const rows = tableLines(out);
    expect(rows.length).toBe(7);
    for (const l of rows) expect(l.length).toBeLessThanOrEqual(width);
    expect(rows[0]).toMatch(/^SERVICE\s+VERDICT\s+WORST CLIENT/);
    expect(out).toMatch(/up to 50%/);
    expect(out).toMatch(/up to 66\.7%|up to <0\.1%/);
  });

  it('drops columns in the stated order: 160 keeps all (the demo), 100 leaves out WORKLOADS, POLICY, LB IP and (with long reasons) EXPOSURE, 80 also AT RISK', () => {
    const header = (w: number, r = richReport()) => tableLines(renderSummaryTable(r, false, false, w))[0]!.split(/\s{2,}/);
    expect(header(160, demoReport())).toEqual([
      'SERVICE',
      'VERDICT',
      'WORST CLIENT',
      'EXPOSURE',
      'CALLERS',
      'AT RISK',
      'POLICY',
      'LB IP',
      'WORKLOADS',
      'WHY',
    ]);
    expect(header(100, demoReport())).toEqual(['SERVICE', 'VERDICT', 'WORST CLIENT', 'EXPOSURE', 'CALLERS', 'AT RISK', 'WHY']);
    expect(header(100)).toEqual(['SERVICE', 'VERDICT', 'WORST CLIENT', 'CALLERS', 'AT RISK', 'WHY']);
    expect(header(80)).toEqual(['SERVICE', 'VERDICT', 'WORST CLIENT', 'CALLERS', 'WHY']);
    // Narrow: "n/a" for not-applicable, cut cells end in "…".
    const narrow = renderSummaryTable(richReport(), false, false, 80);
    expect(narrow).toMatch(/web\/storefront\s+n\/a\s/);
    expect(narrow).toMatch(/…$/m);
  });

  it('-o wide is never cut and carries the callers and the unreachable nodes', () => {
    const out = renderSummaryTable(richReport(), false, true, 80);
    expect(out).toMatch(/KNOWN CALLERS$/m);
    expect(out).toContain('checkout/checkout-api-7d9f8-abcde on 10.0.1.11 (env PAYMENTS_API_URL) 50%');
    expect(out).toMatch(/inventory\/inventory-api\s+unreachable.*10\.0\.2\.22/);
    expect(Math.max(...tableLines(out).map((l) => l.length))).toBeGreaterThan(160);
  });

  it('-o markdown carries the headline, the callers and the missing input', () => {
    const md = renderMarkdown(richReport());
    expect(md).toContain('| Service | Verdict | Worst client | Exposure | Known callers | At risk |');
    expect(md).toContain('| payments/payments-api | loopback | up to 50% | 18.1% | 1 (50%) | 13 (2 nodes) |');
    expect(md).toContain('## payments/payments-api: up to 50% of connections from 13 client pods on 2 nodes time out (exposure 18.1%)');
    expect(md).toContain('- checkout/checkout-api-7d9f8-abcde on 10.0.1.11 (env PAYMENTS_API_URL) 50%');
    expect(md).toContain('## inventory/inventory-api: 4 client pods on 1 node cannot connect');
    expect(md).toContain('- **Pod**: `kubectl get pods -A -o json`');
  });
});

describe('fitted table', () => {
  const columns = [
    { header: 'NAME', cells: ['a-very-long-service-name', 'b'], minWidth: 8 },
    { header: 'EXTRA', cells: ['xxxxxxxxxx', 'y'] },
    { header: 'WHY', cells: ['because of something long', 'short'] },
  ];
  it('applies the steps in order and stops as soon as it fits', () => {
    expect(renderFittedTable(columns, 200, [{ drop: 'EXTRA' }])).toContain('EXTRA');
    const t = renderFittedTable(columns, 40, [{ drop: 'EXTRA' }, { shorten: 'NAME' }]);
    expect(t).not.toContain('EXTRA');
    for (const l of lines(t)) expect(l.length).toBeLessThanOrEqual(40);
  });
  it('cuts the last column when the steps are not enough, never below its header', () => {
    const t = renderFittedTable(columns, 20, [{ drop: 'EXTRA' }, { shorten: 'NAME' }]);
    expect(lines(t)[1]).toBe('a-very-…  because o…');
  });
  it('truncate ends a cut cell in "…"', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
  it('terminal width: COLUMNS, else the TTY, else 100', () => {
    expect(terminalColumns({ isTTY: false }, {})).toBe(100);
    expect(terminalColumns({ isTTY: true, columns: 132 }, {})).toBe(132);
    expect(terminalColumns({ isTTY: true, columns: 132 }, { COLUMNS: '80' })).toBe(80);
    expect(terminalColumns({ isTTY: false }, { COLUMNS: 'wide' })).toBe(100);
  });
});
