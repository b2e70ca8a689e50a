/**
 * The built exporter on a generated 12,000-pod cluster (a snapshot), attacked through its HTTP
 * API while a poller asks `/healthz` the way the kubelet does. Each case asserts: the exporter is
 * alive after it, `/healthz` never waited more than 1 s meanwhile, the answer came within the
 * stated budget with the expected status and no stack trace; at the end its log holds no stack
 * trace and its peak RSS stayed under the stated bound. `npm test` runs the quick form; `npm run
 * fuzz` 500 fuzzed targets and what-if bodies instead of 40. LOOPSCOPE_ATTACK_PODS sizes the
 * cluster: the cold report is built and written in slices, so at 150,000 pods (a 130 MB report)
 * `/healthz` still waited 0.3 s at worst here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCluster, toKubeLists } from '@loopscope/generator';
import {
  eventually,
  startExporter,
  type RunningExporter,
  pollHealthz,
  attackScale,
  LONG_ATTACK,
  SeededFuzz,
  STACK_TRACE,
} from '@loopscope/testkit';

const PODS = Number(process.env.LOOPSCOPE_ATTACK_PODS ?? 12_000);
const BOUND = {
  /** The longest a liveness probe may wait while an attack runs. */
  healthzMs: 1000,
  /** Each request's own answer, on this shared 2-core machine. */
  answerMs: 10_000,
  /** Peak RSS over the whole suite (the cluster's model, the reports' JSON, the attacks). */
  peakRssBytes: (PODS <= 12_000 ? 600 : PODS <= 30_000 ? 1200 : 3072) * 1024 * 1024,
  fuzzed: attackScale(40, 500),
};

jest.setTimeout(attackScale(180_000, 900_000));

const dir = mkdtempSync(join(tmpdir(), 'loopscope-server-attack-'));
let exporter: RunningExporter;
let services: Array<{ namespace: string; name: string }> = [];

function peakRss(): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${exporter.process.pid}/status`, 'utf8'))?.[1]) * 1024;
}

beforeAll(async () => {
  const generated = generateCluster({
    seed: 7,
    provider: 'tke',
    proxyMode: 'ipvs',
    nodes: PODS / 30,
    pods: PODS,
    services: PODS / 10,
    internalLbServices: PODS / 40,
    publicLbServices: 20,
    localShare: 0.5,
    fixedBuildShare: 0.5,
    directToPodShare: 0.1,
  });
  for (const f of toKubeLists(generated, { podsPerFile: 5000 })) writeFileSync(join(dir, f.name), JSON.stringify(f.list));
  exporter = await startExporter(['--snapshot', dir]);
  await eventually(async () => ((await fetch(`${exporter.url}/readyz`)).status === 200 ? true : undefined), 120_000, 'readyz');
  const list = (await (await fetch(`${exporter.url}/api/v1/services?fixes=false`)).json()) as {
    services: Array<{ namespace: string; name: string }>;
  };
  services = list.services;
  expect(services.length).toBeGreaterThan(PODS / 20);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (!exporter) return;
  const peak = peakRss();
  process.stdout.write(`exporter (${PODS} pods) peak RSS over the attacks: ${(peak / 1048576).toFixed(0)} MiB\n`);
  // Stopped before the assertions: a failed one must not leave the exporter keeping jest alive.
  const status = await exporter.stop();
  expect(exporter.stderr()).not.toMatch(STACK_TRACE);
  expect(exporter.stdout()).not.toMatch(STACK_TRACE);
  expect(peak).toBeLessThan(BOUND.peakRssBytes);
  expect(status).toBe(0);
});

interface Attack {
  method?: 'GET' | 'POST';
  path: string;
  body?: string;
  /** The statuses that count as "answered or refused". */
  statuses: number[];
}

/**
 * One request on a connection of its own: a request line past Node's 16 KiB header limit is
 * refused by the HTTP layer (431) and its connection closed, which must not reset the others.
 */
function send(r: Attack): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${exporter.apiUrl}${r.path}`,
      { method: r.method ?? 'GET', agent: false, headers: r.body ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Runs requests (concurrently) with the poller on; returns the slowest answer and the worst /healthz wait. */
async function attack(requests: Attack[]): Promise<{ slowestMs: number; healthzMs: number; statuses: number[] }> {
  const probe = pollHealthz(`${exporter.url}/healthz`, 10);
  const started = performance.now();
  let slowestMs = 0;
  const statuses = await Promise.all(
    requests.map(async (r) => {
      const res = await send(r).catch((err: Error) => {
        throw new Error(`${r.method ?? 'GET'} ${r.path.slice(0, 200)} (${r.path.length} characters): ${err.message}`);
      });
      const text = res.text;
      slowestMs = Math.max(slowestMs, performance.now() - started);
      expect(r.statuses).toContain(res.status);
      expect(text).not.toMatch(STACK_TRACE);
      return res.status;
    }),
  );
  const health = await probe.stop();
  expect(health.failures).toEqual([]);
  expect(health.worstMs).toBeLessThan(BOUND.healthzMs);
  expect(slowestMs).toBeLessThan(BOUND.answerMs);
  expect(exporter.process.exitCode).toBeNull();
  return { slowestMs, healthzMs: health.worstMs, statuses };
}

function report(name: string, r: { slowestMs: number; healthzMs: number }): void {
  process.stdout.write(`${name}: answered in ${r.slowestMs.toFixed(0)} ms; /healthz worst ${r.healthzMs.toFixed(0)} ms\n`);
}

const explain = (target: string, statuses = [400, 404, 409]): Attack => ({
  path: `/api/v1/explain?target=${encodeURIComponent(target)}`,
  statuses,
});
const whatif = (body: unknown, statuses = [200]): Attack => ({
  method: 'POST',
  path: '/api/v1/whatif',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  statuses,
});

test('a 4,000-character explain target is refused (400) at once; /healthz never waits 1 s', async () => {
  const r = await attack([explain('x'.repeat(4000), [400]), explain(`${services[0]!.namespace}/${'a'.repeat(3990)}`, [400])]);
  report('explain, 4,000 characters', r);
});

test('512-character near misses (the longest accepted) get bounded "did you mean", concurrently; /healthz never waits 1 s', async () => {
  const near = services.slice(0, 8).map((s) => explain(`${s.namespace}/${s.name}${'-x'.repeat(300)}`.slice(0, 512)));
  const r = await attack([
    ...near,
    explain('checkout-api-7d9f8-'.repeat(30).slice(0, 512)),
    explain('a'.repeat(512)),
    explain(`${services[1]!.name.slice(0, -1)}q`),
  ]);
  report('explain, 11 near misses at once', r);
});

test('a what-if on every node and 1,000 Services at once, and hostile bodies; /healthz never waits 1 s', async () => {
  const deep = '{"changes":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}';
  const r = await attack([
    whatif({ changes: [{ kind: 'kubeProxyVersion', version: 'v1.30.0' }] }),
    whatif({
      changes: services.slice(0, 1000).map((s) => ({ kind: 'trafficPolicy', service: `${s.namespace}/${s.name}`, value: 'Cluster' })),
    }),
    whatif({ changes: Array.from({ length: 1001 }, () => ({ kind: 'callViaClusterIP', service: 'x/y' })) }, [400]),
    whatif(deep, [400]),
    whatif('null', [400]),
    whatif(
      JSON.stringify({ changes: [{ kind: 'moveClients', workloads: Array.from({ length: 1000 }, (_, i) => `w${i}`) }] }),
      [200, 400, 404],
    ),
    whatif(JSON.stringify({ changes: 'x'.repeat(2 << 20) }), [413]),
  ]);
  report('what-if, 7 at once', r);
});

test('the report, the Service list and the links built cold, with /metrics, at once; /healthz never waits 1 s', async () => {
  const r = await attack([
    { path: '/api/v1/report', statuses: [200] },
    { path: '/api/v1/services', statuses: [200] },
    { path: '/api/v1/links', statuses: [200] },
    { path: '/api/v1/services/at-risk', statuses: [200] },
    { path: '/metrics', statuses: [200] },
  ]);
  report('report, services, links, at-risk, /metrics at once', r);
});

/** Targets that are not names: markup, control characters, encodings, regex and path syntax. */
function fuzzedTarget(f: SeededFuzz): string {
  const parts = [
    '/',
    '//',
    '..',
    '*',
    '.*',
    '(a+)+$',
    '%00',
    '\u0000',
    '\u001b[2J',
    '\u202e',
    '😀',
    'ä',
    ':',
    ':80',
    '10.0.0.1',
    '::1',
    '[',
    ']',
    '?',
    '#',
    '&',
    '=',
    ' ',
    '\t',
    'constructor',
    '__proto__',
    'prototype',
    'toString',
    services[f.int(services.length)]!.name,
    'kube-system',
    'default',
  ];
  let out = '';
  const length = f.pick([1, 5, 30, 100, 253, 511, 512, 513, 2000]);
  while (out.length < length) out += f.pick(parts);
  // A cut through an emoji leaves a lone surrogate, which no URL can carry: made well-formed (Node ≥ 20).
  return (out.slice(0, length) as string & { toWellFormed(): string }).toWellFormed();
}

test(`fuzz: ${BOUND.fuzzed} hostile explain targets and what-if bodies, eight at a time; /healthz never waits 1 s`, async () => {
  const f = new SeededFuzz(LONG_ATTACK ? 424242 : 4242);
  const kinds = [
    'trafficPolicy',
    'ipMode',
    'preventLoopback',
    'kubeProxyVersion',
    'moveClients',
    'callViaClusterIP',
    '__proto__',
    42,
    null,
  ];
  const values = ['Local', 'Cluster', 'VIP', 'Proxy', true, 'v1.2', 'v1.30.0', '(((((', 'x'.repeat(300), null, {}, [], 1e308];
  let worst = 0;
  for (let i = 0; i < BOUND.fuzzed; i += 8) {
    const batch: Attack[] = [];
    for (let k = 0; k < 8 && i + k < BOUND.fuzzed; k++) {
      if (f.next() < 0.6) batch.push(explain(fuzzedTarget(f), [200, 400, 404, 409, 431]));
      else {
        const s = services[f.int(services.length)]!;
        const change = {
          kind: f.pick(kinds),
          service: f.pick([`${s.namespace}/${s.name}`, s.name, fuzzedTarget(f), 42]),
          value: f.pick(values),
          version: f.pick(values),
          nodes: f.pick([undefined, ['a'], 'x']),
          workloads: f.pick([undefined, [s.name], {}]),
        };
        batch.push(whatif({ changes: Array.from({ length: 1 + f.int(3) }, () => change) }, [200, 400, 404, 409]));
      }
    }
    worst = Math.max(worst, (await attack(batch)).healthzMs);
  }
  process.stdout.write(`fuzz: ${BOUND.fuzzed} requests; /healthz worst ${worst.toFixed(0)} ms\n`);
});
