/**
 * The real CLI on incomplete dumps: never "safe", `unknown` naming the missing kind and the kubectl
 * that supplies it, and `--fail-on-risk` failing on it unless `--allow-unknown`. v1 Endpoints stand
 * in for EndpointSlices with the same figures. Runs the built `dist/main.js`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoSnapshotPath } from '@loopscope/demo';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'loopscope-incomplete-'));
const HERMETIC: NodeJS.ProcessEnv = { ...process.env, HOME: tmp, KUBECONFIG: '' };

type Item = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown };
const demo = JSON.parse(readFileSync(demoSnapshotPath(), 'utf8')) as { items: Item[] };

function dump(name: string, items: Item[]): string {
  const path = join(tmp, `${name}.json`);
  writeFileSync(path, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  return path;
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: HERMETIC, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(path: string) {
  const r = cli(['analyze', '--snapshot', path, '-o', 'json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as {
    summary: Record<string, number>;
    services: Array<{
      namespace: string;
      name: string;
      verdict: string;
      missing: unknown[];
      loopbackProbability: number;
      worstClientProbability: number;
      atRiskNodes: string[];
    }>;
  };
}

/** Each EndpointSlice as a v1 Endpoints object (one subset per slice), as an old cluster lists them. */
function asV1Endpoints(items: Item[]): Item[] {
  const out: Item[] = [];
  const byService = new Map<string, Item>();
  for (const o of items) {
    if (o.kind !== 'EndpointSlice') {
      out.push(o);
      continue;
    }
    const namespace = o.metadata.namespace!;
    const name = o.metadata.labels!['kubernetes.io/service-name']!;
    let ep = byService.get(`${namespace}/${name}`);
    if (!ep) {
      ep = { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace, name }, subsets: [] };
      byService.set(`${namespace}/${name}`, ep);
      out.push(ep);
    }
    const endpoints = (o.endpoints ?? []) as Array<{
      addresses: string[];
      conditions?: { ready?: boolean };
      nodeName?: string;
      targetRef?: unknown;
    }>;
    const address = (e: (typeof endpoints)[number]) => ({ ip: e.addresses[0], nodeName: e.nodeName, targetRef: e.targetRef });
    (ep.subsets as unknown[]).push({
      addresses: endpoints.filter((e) => e.conditions?.ready !== false).map(address),
      notReadyAddresses: endpoints.filter((e) => e.conditions?.ready === false).map(address),
      ports: o.ports,
    });
  }
  return out;
}

const LB = ['inventory-api', 'orders-api', 'payments-api', 'reports-api', 'search-api'];

describe('analyze on incomplete dumps', () => {
  it('without Pods: every internal-LB Service is unknown, naming Pods and `kubectl get pods -A -o json`', () => {
    const path = dump(
      'no-pods',
      demo.items.filter((o) => o.kind !== 'Pod'),
    );
    const report = json(path);
    const internal = report.services.filter((s) => s.verdict !== 'not-applicable');
    expect(internal.length).toBeGreaterThan(0);
    for (const s of internal) {
      expect(s.verdict).toBe('unknown');
      expect(s.missing).toEqual([{ kind: 'Pod', kubectl: 'kubectl get pods -A -o json' }]);
    }
    expect(report.summary.safe).toBe(0);
    expect(cli(['analyze', '--snapshot', path, '--fail-on-risk']).code).toBe(1);
    expect(cli(['analyze', '--snapshot', path, '--fail-on-risk', '--allow-unknown']).code).toBe(0);
  });

  it('without EndpointSlices: unknown, naming EndpointSlices', () => {
    const path = dump(
      'no-slices',
      demo.items.filter((o) => o.kind !== 'EndpointSlice'),
    );
    const report = json(path);
    const payments = report.services.find((s) => s.name === 'payments-api')!;
    expect(payments.verdict).toBe('unknown');
    expect(payments.missing).toEqual([{ kind: 'EndpointSlice', kubectl: 'kubectl get endpointslices -A -o json' }]);
    expect(report.services.filter((s) => LB.includes(s.name)).every((s) => s.verdict === 'unknown' || s.verdict === 'not-applicable')).toBe(
      true,
    );
    expect(cli(['analyze', '--snapshot', path, '--fail-on-risk']).code).toBe(1);
  });

  it('with v1 Endpoints only: the same verdicts and figures as with EndpointSlices', () => {
    const withSlices = json(dump('slices', demo.items));
    const withEndpoints = json(dump('v1-endpoints', asV1Endpoints(demo.items)));
    const figures = (r: typeof withSlices) =>
      r.services.map((s) => [s.namespace, s.name, s.verdict, s.loopbackProbability, s.worstClientProbability, s.atRiskNodes]);
    expect(figures(withEndpoints)).toEqual(figures(withSlices));
    expect(withEndpoints.summary).toEqual(withSlices.summary);
    expect(withSlices.summary.loopback).toBeGreaterThan(0);
  });

  it('--help names --allow-unknown', () => {
    expect(cli(['analyze', '--help']).stdout).toContain('--allow-unknown');
  });
});
