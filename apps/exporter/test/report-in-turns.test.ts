/**
 * The cold report is built in slices with turns of the event loop between them (a liveness probe
 * is answered meanwhile), is the same report as one synchronous build, and a change arriving during
 * the build waits for it (the live model updates its analysis in place).
 */
import { buildReport, type KubeObject } from '@loopscope/core';
import { generateCluster } from '@loopscope/generator';
import { Engine } from '../src/engine';
import { stringifyInTurns } from '../src/http/jsonInTurns';

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Counts turns of the event loop (setImmediate callbacks) until stopped. */
function countTurns(): { stop: () => number } {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      running = false;
      return turns;
    },
  };
}

function engineOn(pods: number): { engine: Engine; items: ReturnType<typeof generateCluster>['items'] } {
  const g = generateCluster({
    seed: 3,
    provider: 'tke',
    proxyMode: 'ipvs',
    nodes: pods / 30,
    pods,
    services: pods / 10,
    internalLbServices: pods / 40,
  });
  const engine = new Engine({ heartbeatMs: 3_600_000, debounceMs: 3_600_000 });
  const items = g.items;
  engine.replace('nodes', items.nodes as KubeObject[]);
  engine.replace('pods', items.pods as KubeObject[]);
  engine.replace('services', items.services as KubeObject[]);
  engine.replace('endpointslices', items.endpointSlices as KubeObject[]);
  engine.replace('configmaps', items.configMaps as KubeObject[]);
  engine.recompute();
  return { engine, items };
}

let engine: Engine;
beforeAll(() => {
  engine = engineOn(3000).engine;
});
afterAll(() => engine.stop());

test('a sliced report is the same report as one build, and the event loop ran between its slices', async () => {
  const turns = countTurns();
  // A slice of 0 ms: a turn after every Service, so the count is certain on any machine.
  const sliced = await engine.reportInTurns({ fixes: true, links: true }, 0);
  const ran = turns.stop();
  const whole = buildReport(engine.analysis!, { fixes: true, links: true, now: new Date(sliced!.generatedAt) });
  expect(sliced!.services.length).toBeGreaterThan(100);
  expect(ran).toBeGreaterThanOrEqual(sliced!.services.length - 1);
  expect(JSON.stringify(sliced)).toBe(JSON.stringify(whole));
  // Built once: asked again, the same object.
  expect(await engine.reportInTurns({ fixes: true, links: true })).toBe(sliced);
  // And a narrower question accepts it.
  expect(await engine.reportInTurns({ fixes: false, links: false, acceptFuller: true })).toBe(sliced);
});

test('a recompute asked for during a sliced build waits for it, then runs', async () => {
  const { engine: fresh, items } = engineOn(1200);
  try {
    const before = fresh.generation;
    const building = fresh.reportInTurns({ fixes: true, links: true }, 0);
    await yieldTurn();
    // A pod moves to another node while the report is half built.
    const pod = items.pods.find((p) => p.spec.nodeName)!;
    const other = items.nodes.find((n) => n.metadata.name !== pod.spec.nodeName)!;
    fresh.upsert('pods', { ...pod, spec: { ...pod.spec, nodeName: other.metadata.name } } as KubeObject);
    fresh.recompute();
    expect(fresh.generation).toBe(before);
    const report = await building;
    expect(report!.services.length).toBeGreaterThan(10);
    expect(fresh.generation).toBe(before);
    // The held recompute runs on the next turn.
    await yieldTurn();
    await yieldTurn();
    expect(fresh.generation).toBe(before + 1);
  } finally {
    fresh.stop();
  }
});

describe('stringifyInTurns', () => {
  const values: unknown[] = [
    { a: 1, b: undefined, c: () => 1, d: [1, undefined, () => 2, { e: 'x"y' }], f: [], g: { h: [undefined] }, '\u2028k': null },
    { services: Array.from({ length: 500 }, (_, i) => ({ i, name: `svc-${i}`, nested: [i, { deep: [i] }] })), links: [] },
    {
      first: Array.from({ length: 100 }, (_, i) => (i % 7 === 0 ? undefined : i % 5 === 0 ? () => i : { i })),
      last: Array.from({ length: 33 }, (_, i) => i),
    },
    [1, 2, 3],
    'text',
    42,
    null,
    { toJSON: () => ({ replaced: true }) },
    { date: new Date(0), list: [new Date(1)] },
    { text: 'ä😀\u2028', list: ['ö', '😀'] },
  ];
  test.each(values.map((v, i) => [i, v]))('value %i is written exactly as JSON.stringify writes it', async (_i, value) => {
    expect(Buffer.concat(await stringifyInTurns(value, yieldTurn, 0)).toString('utf8')).toBe(JSON.stringify(value));
  });

  test('a long array is written over many turns', async () => {
    const turns = countTurns();
    await stringifyInTurns({ links: Array.from({ length: 3200 }, (_, i) => ({ i })) }, yieldTurn, 0);
    // A turn after each batch of 32 elements.
    expect(turns.stop()).toBeGreaterThanOrEqual(99);
  });
});
