/**
 * The built exporter against a list/watch test server that misbehaves: malformed watch lines, a
 * line that never ends, list pages too large, a list that never answers, a watch that recovers
 * without any change. The exporter stays up, counts what it skipped, keeps serving the last good
 * analysis, and reports staleness in `loopscope_input_age_seconds` exactly while it is stale.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  eventually,
  getJson,
  startExporter,
  type RunningExporter,
  pollHealthz,
  attackScale,
  SeededFuzz,
  STACK_TRACE,
} from '@loopscope/testkit';
import { startKubeApiServer, TEST_TOKEN, type KubeApiServer, type TestObject, type TestResource } from './support/kubeApiServer';

const DEMO = require.resolve('@loopscope/demo/demo-cluster.json');
const RESOURCE_OF: Record<string, TestResource> = {
  Node: 'nodes',
  Pod: 'pods',
  Service: 'services',
  EndpointSlice: 'endpointslices',
  ConfigMap: 'configmaps',
};
const OBJECTS: TestObject[] = JSON.parse(readFileSync(DEMO, 'utf8')).items.filter((o: TestObject) => RESOURCE_OF[o.kind as string]);

/**
 * Single watch lines the source must skip (and count), each on the pods watch. The first four are
 * the ones that killed the exporter with client-node's informer.
 */
const MALFORMED_LINES = [
  '{"type":"ADDED","object":null}',
  '{}',
  '{"type":"ERROR"}',
  '{"type":"BOOKMARK"}',
  '{"type":"ADDED"}',
  '{"type":"MODIFIED","object":[]}',
  '{"type":"DELETED","object":"web-1"}',
  '{"type":"ADDED","object":{}}',
  '{"type":"ADDED","object":{"metadata":null}}',
  '{"type":"ADDED","object":{"metadata":{"name":42}}}',
  '{"type":"MODIFIED","object":{"metadata":{"name":""}}}',
  '{"type":"ADDED","object":{"metadata":{"name":"x","namespace":{"a":1}}}}',
  '{"type":"ADDED","object":{"kind":"Node","metadata":{"name":"x"}}}',
  '{"type":"ADDED","object":{"metadata":{"name":"x","resourceVersion":5}}}',
  '{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":7}}}',
  '{"type":"ERROR","object":null}',
  '{"type":"ERROR","object":{"code":"410"}}',
  '{"type":42,"object":{}}',
  '{"type":"SURPRISE","object":{"metadata":{"name":"x"}}}',
  '{"type":"ADDED","object":{"metadata":{"name":"x"}}',
  'null',
  '[]',
  '"ADDED"',
  '42',
  'not json at all',
  '\u0000\u0001\u0002',
  '{"type":"__proto__","object":{"metadata":{"name":"x"}}}',
  // Metadata of the wrong types: a numeric owner name failed every later analysis.
  '{"type":"ADDED","object":{"metadata":{"name":"x","ownerReferences":[{"kind":"ReplicaSet","name":42}]}}}',
  '{"type":"ADDED","object":{"metadata":{"name":"x","ownerReferences":{"kind":"ReplicaSet"}}}}',
  '{"type":"MODIFIED","object":{"metadata":{"name":"x","labels":{"app":["a"]}}}}',
  '{"type":"ADDED","object":{"metadata":{"name":"x","annotations":"x"}}}',
];

const dir = mkdtempSync(join(tmpdir(), 'loopscope-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function metric(exporter: RunningExporter, name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(`${exporter.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A counter's value; no series yet is 0. */
async function count(exporter: RunningExporter, name: string, resource: string): Promise<number> {
  return (await metric(exporter, name, `{resource="${resource}"}`)) ?? 0;
}

async function figures(exporter: RunningExporter): Promise<Record<string, number>> {
  const { status, body } = await getJson(`${exporter.url}/api/v1/report`);
  if (status !== 200) throw new Error(`report ${status}`);
  return Object.fromEntries(body.services.map((s: any) => [`${s.namespace}/${s.name}`, s.loopbackProbability]));
}

/** The analysis as Prometheus sees it: every per-Service and per-link series on /metrics. */
async function modelSeries(exporter: RunningExporter): Promise<string[]> {
  const text = await (await fetch(`${exporter.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('loopscope_service_') || l.startsWith('loopscope_link_loopback_ratio{'))
    .sort();
}

async function start(api: KubeApiServer, name: string, args: string[] = []): Promise<RunningExporter> {
  for (const o of OBJECTS) api.add(RESOURCE_OF[o.kind as string]!, o);
  const exporter = await startExporter(['--kubeconfig', api.kubeconfig(join(dir, name)), '--debounce-ms', '50', ...args]);
  await eventually(async () => ((await fetch(`${exporter.url}/readyz`)).status === 200 ? true : undefined), 30_000, 'readyz');
  await api.waitForWatches(4);
  return exporter;
}

let bumps = 0;
/** Moves the resourceVersion on (an object nobody watches) and compacts: every resumed watch gets 410 Gone. */
function bumpAndCompact(api: KubeApiServer): void {
  api.add('configmaps', { metadata: { name: `bump-${++bumps}`, namespace: 'default' } });
  api.expireHistory();
}

/** No stack trace, no unhandled rejection, no credential in what the exporter wrote. */
function expectCleanLog(exporter: RunningExporter): void {
  const err = exporter.stderr();
  expect(err).not.toMatch(/^\s+at /m);
  expect(err).not.toMatch(STACK_TRACE);
  expect(err).not.toMatch(/unhandled|RangeError|ERR_STRING_TOO_LONG/i);
  expect(err).not.toContain(TEST_TOKEN);
}

jest.setTimeout(90_000);

describe('malformed watch events', () => {
  let api: KubeApiServer;
  let exporter: RunningExporter;

  beforeAll(async () => {
    api = await startKubeApiServer();
    exporter = await start(api, 'kubeconfig-lines'); // the default 16 MiB event cap
  });

  afterAll(async () => {
    const code = await exporter?.stop();
    await api?.stop();
    expect(code).toBe(0);
  });

  it('each malformed line is counted and skipped; the exporter stays up with the last good analysis', async () => {
    const before = await figures(exporter);
    const seriesBefore = await modelSeries(exporter);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    expect(seriesBefore.length).toBeGreaterThan(0);
    expect(await count(exporter, 'loopscope_watch_events_skipped_total', 'pods')).toBe(0);

    const probe = pollHealthz(`${exporter.url}/healthz`, 10);
    for (const line of MALFORMED_LINES) expect(api.sendRaw(`${line}\n`, 'pods')).toBe(1);
    await eventually(
      async () => ((await count(exporter, 'loopscope_watch_events_skipped_total', 'pods')) === MALFORMED_LINES.length ? true : undefined),
      10_000,
      `loopscope_watch_events_skipped_total{resource="pods"} = ${MALFORMED_LINES.length}`,
    );
    const health = await probe.stop();
    expect(exporter.process.exitCode).toBeNull();
    expect(health.failures).toEqual([]);
    expect(health.worstMs).toBeLessThan(1000);
    expect(await figures(exporter)).toEqual(before);
    // The last good analysis, as Prometheus scrapes it: every Service and link series unchanged.
    expect(await modelSeries(exporter)).toEqual(seriesBefore);
    // The watch itself was never restarted: bad lines are skipped, not fatal.
    expect(await count(exporter, 'loopscope_watch_restarts_total', 'pods')).toBe(0);
    expect(api.watchCount('pods')).toBe(1);
    expect(await metric(exporter, 'loopscope_input_age_seconds')).toBe(0);
    expectCleanLog(exporter);
  });

  it('a 700 MiB line without a newline is skipped as it streams (memory stays bounded); later events arrive', async () => {
    const skipped = await count(exporter, 'loopscope_watch_events_skipped_total', 'pods');
    const podsBefore = (await getJson(`${exporter.url}/api/v1/report`)).body.cluster.pods as number;
    const seriesBefore = await modelSeries(exporter);
    const probe = pollHealthz(`${exporter.url}/healthz`);
    await api.streamFiller(700 * 1024 * 1024, 'pods');
    api.sendRaw('\n', 'pods');
    await eventually(
      async () => ((await count(exporter, 'loopscope_watch_events_skipped_total', 'pods')) === skipped + 1 ? true : undefined),
      20_000,
      'the oversized line counted once',
    );
    const health = await probe.stop();
    expect(health.failures).toEqual([]);
    expect(health.worstMs).toBeLessThan(1000);
    expect(await modelSeries(exporter)).toEqual(seriesBefore);
    // The same watch goes on: a real event after it is applied.
    const template = OBJECTS.find((o) => o.kind === 'Pod' && o.metadata.namespace === 'checkout')!;
    const pod = JSON.parse(JSON.stringify(template));
    pod.metadata.name = 'checkout-api-after-garbage';
    delete pod.metadata.uid;
    pod.status.podIP = '172.16.0.98';
    api.add('pods', pod);
    await eventually(
      async () => ((await getJson(`${exporter.url}/api/v1/report`)).body.cluster.pods === podsBefore + 1 ? true : undefined),
      10_000,
      'the pod added after the oversized line',
    );
    expect(await count(exporter, 'loopscope_watch_restarts_total', 'pods')).toBe(0);
    expect(api.watchCount('pods')).toBe(1);
    expect(exporter.process.exitCode).toBeNull();
    // Peak resident memory of the exporter over its whole life (Linux): far below the line's size.
    const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${exporter.process.pid}/status`, 'utf8'))?.[1]);
    expect(peakKiB * 1024).toBeLessThan(300 * 1024 * 1024);
    expectCleanLog(exporter);
  });
});

/** Hostile values for a field of an otherwise valid object. */
const HOSTILE_VALUES: unknown[] = [
  null,
  42,
  -1,
  1e308,
  '',
  'x',
  '__proto__',
  'constructor',
  '\u0000\u001b[2J',
  [],
  {},
  [[[[[]]]]],
  true,
  'x'.repeat(100_000),
  { __proto__: { polluted: true } },
];

/** A valid object with one to three fields removed or replaced by hostile values (seeded). */
function mutate(f: SeededFuzz, template: TestObject): TestObject {
  const copy = JSON.parse(JSON.stringify(template)) as Record<string, unknown>;
  for (let n = 1 + f.int(3); n > 0; n--) {
    // Walk down a random path of objects and arrays, then change what is there.
    let parent: any = copy;
    let key: string | number = f.pick(Object.keys(copy));
    for (let depth = 0; depth < 4 && parent[key] !== null && typeof parent[key] === 'object' && f.next() < 0.7; depth++) {
      const child: any = parent[key];
      const keys: Array<string | number> = Array.isArray(child) ? child.map((_: unknown, i: number) => i) : Object.keys(child);
      if (keys.length === 0) break;
      parent = child;
      key = f.pick(keys);
    }
    if (f.next() < 0.3) delete parent[key];
    else parent[key] = f.pick(HOSTILE_VALUES);
  }
  return copy as TestObject;
}

describe('fuzzed watch events', () => {
  let api: KubeApiServer;
  let exporter: RunningExporter;
  const COUNT = attackScale(60, 2000);

  beforeAll(async () => {
    api = await startKubeApiServer();
    exporter = await start(api, 'kubeconfig-fuzz');
  });

  afterAll(async () => {
    const code = await exporter?.stop();
    await api?.stop();
    expect(code).toBe(0);
  });

  it(`${COUNT} mutated Pod, Service and Node events (fields removed or hostile): each applied or skipped, the exporter stays up, /healthz within 1 s, later events still applied`, async () => {
    const f = new SeededFuzz(1202);
    const templates = OBJECTS.filter((o) => ['Pod', 'Service', 'Node'].includes(o.kind as string));
    const probe = pollHealthz(`${exporter.url}/healthz`, 10);
    for (let i = 0; i < COUNT; i++) {
      const template = f.pick(templates);
      const object = mutate(f, template);
      const resource = RESOURCE_OF[template.kind as string]!;
      api.sendRaw(`${JSON.stringify({ type: f.pick(['ADDED', 'MODIFIED', 'DELETED']), object })}\n`, resource);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 20)); // let the debounced recomputes run among them
    }
    // A good event after the fuzz is still applied: the watches and the model are intact. (First
    // the fuzz's own recomputes settle: ten debounce periods.)
    await new Promise((r) => setTimeout(r, 500));
    const podsBefore = (await getJson(`${exporter.url}/api/v1/report`)).body.cluster?.pods as number;
    const pod = JSON.parse(JSON.stringify(OBJECTS.find((o) => o.kind === 'Pod' && o.metadata.namespace === 'checkout')!));
    pod.metadata.name = 'checkout-api-after-fuzz';
    delete pod.metadata.uid;
    pod.status.podIP = '172.16.0.97';
    api.add('pods', pod);
    await eventually(
      async () => ((await getJson(`${exporter.url}/api/v1/report`)).body.cluster?.pods === podsBefore + 1 ? true : undefined),
      20_000,
      'the pod added after the fuzz',
    );
    const health = await probe.stop();
    process.stdout.write(
      `watch fuzz: ${COUNT} mutated events; ${await count(exporter, 'loopscope_watch_events_skipped_total', 'pods')} pod events skipped; /healthz worst ${health.worstMs.toFixed(0)} ms\n`,
    );
    expect(exporter.process.exitCode).toBeNull();
    expect(health.failures).toEqual([]);
    expect(health.worstMs).toBeLessThan(1000);
    expect((await fetch(`${exporter.url}/metrics`)).status).toBe(200);
    // Every analysis of the fuzzed cluster ran: no object got past the boundary to break the model.
    expect(exporter.stderr()).not.toContain('analysis failed');
    expectCleanLog(exporter);
  });
});

describe('deadlines and size caps on the API path', () => {
  let api: KubeApiServer;
  let exporter: RunningExporter;

  beforeAll(async () => {
    api = await startKubeApiServer();
    exporter = await start(api, 'kubeconfig-limits', ['--request-timeout', '1', '--max-response-mb', '1']);
  });

  afterAll(async () => {
    const code = await exporter?.stop();
    await api?.stop();
    expect(code).toBe(0);
  });

  it('a recovered watch clears staleness although no object changed', async () => {
    expect(await metric(exporter, 'loopscope_input_age_seconds')).toBe(0);
    const before = await figures(exporter);
    api.dropWatches('reset');
    const stale = await eventually(
      async () => {
        const age = await metric(exporter, 'loopscope_input_age_seconds');
        return age !== undefined && age > 0 ? age : undefined;
      },
      10_000,
      'input age > 0 after the watches dropped',
    );
    expect(stale).toBeGreaterThan(0);
    await api.waitForWatches(4, undefined, 10_000);
    await eventually(
      async () => ((await metric(exporter, 'loopscope_input_age_seconds')) === 0 ? true : undefined),
      10_000,
      'input age back to 0',
    );
    expect(await figures(exporter)).toEqual(before);
  });

  it('a list that never answers is reported stale within its timeout, and recovers', async () => {
    const before = await figures(exporter);
    // The pods watch ends cleanly, resumes into 410 Gone, relists, and that list hangs.
    api.hangNext(1, 'pods', 'list');
    bumpAndCompact(api);
    const t0 = Date.now();
    api.dropWatches('clean', 'pods');
    await eventually(
      async () => {
        const age = await metric(exporter, 'loopscope_input_age_seconds');
        return age !== undefined && age > 0 ? true : undefined;
      },
      5000,
      'input age > 0 once the hanging list timed out',
    );
    expect(Date.now() - t0).toBeLessThan(4000); // 1 s request timeout, plus scrape polling
    expect(exporter.stderr()).toMatch(/pods: list failed: no complete response within 1\.0s \(request timeout\)/);
    expect(await figures(exporter)).toEqual(before); // the last good analysis meanwhile
    // The retry is answered: current again.
    await eventually(
      async () => ((await metric(exporter, 'loopscope_input_age_seconds')) === 0 ? true : undefined),
      10_000,
      'input age back to 0',
    );
    expectCleanLog(exporter);
  });

  it('a list page over the size cap fails with one clear line and is retried, not decoded', async () => {
    api.padLists('services', 3 * 1024 * 1024);
    bumpAndCompact(api);
    api.dropWatches('clean', 'services');
    await eventually(
      async () =>
        /services: list failed: the response (is 3(\.\d)? MiB, over|grew past) the 1 MiB limit \(max response size\)/.test(
          exporter.stderr(),
        )
          ? true
          : undefined,
      10_000,
      'the size-cap error',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${exporter.stderr()}`);
    });
    expect((await fetch(`${exporter.url}/healthz`)).status).toBe(200);
    expect(await metric(exporter, 'loopscope_input_age_seconds')).toBeGreaterThan(0);
    api.padLists('services', 0);
    await eventually(
      async () => ((await metric(exporter, 'loopscope_input_age_seconds')) === 0 ? true : undefined),
      40_000,
      'input age back to 0',
    );
    expectCleanLog(exporter);
  });
});
