/**
 * Mutation fuzz of core (issue 15, "What it must show"): the demo snapshot and the demo's node
 * dumps with random fields and lines replaced (wrong types, prototype names, huge strings, deep
 * nesting). Asserts for every case: loading, analysing, explaining and tracing never throw
 * anything but a LoopscopeError, and each case ends within CASE_BUDGET_MS.
 *
 * Quick form (npm test): QUICK cases. Long form (npm run fuzz): LOOPSCOPE_FUZZ_CASES (default
 * 2,000) with bigger strings. LOOPSCOPE_FUZZ_SEED replays a reported failure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCluster, buildCluster, explain, isLoopscopeError, parseSnapshotText, type InputProblem } from '../../src';
import { loadNodeDumps, traceLbPacket } from '../../src/netfilter';
import { Rng, mutateJson, mutateLines } from './mutate';

const LONG = process.env.LOOPSCOPE_FUZZ_LONG === '1';
const CASES = Number(process.env.LOOPSCOPE_FUZZ_CASES ?? (LONG ? 2000 : 40));
const SEED = Number(process.env.LOOPSCOPE_FUZZ_SEED ?? 20261202);
const BIG = LONG ? 1 << 20 : 1 << 16;
/** Per case: the demo analyses in ~50 ms; a hang or a quadratic path misses this by far. */
const CASE_BUDGET_MS = 10_000;

const DEMO = join(__dirname, '..', '..', '..', 'demo');
const demo = JSON.parse(readFileSync(join(DEMO, 'demo-cluster.json'), 'utf8')) as unknown;
const dumpDir = join(DEMO, 'node-dumps', '10.0.1.11');
const dumps = {
  iptablesSave: readFileSync(join(dumpDir, 'iptables-save.txt'), 'utf8'),
  ipset: readFileSync(join(dumpDir, 'ipset.txt'), 'utf8'),
  addr: readFileSync(join(dumpDir, 'addr.txt'), 'utf8'),
  conntrack: readFileSync(join(dumpDir, 'conntrack.txt'), 'utf8'),
};

function expectOnlyLoopscopeErrors(label: string, seed: number, f: () => void): void {
  const start = performance.now();
  try {
    f();
  } catch (err) {
    if (!isLoopscopeError(err))
      throw new Error(
        `${label} threw ${(err as Error)?.stack ?? String(err)} (replay: LOOPSCOPE_FUZZ_SEED=${seed} LOOPSCOPE_FUZZ_CASES=1)`,
      );
  }
  const ms = performance.now() - start;
  if (ms > CASE_BUDGET_MS)
    throw new Error(
      `${label} took ${Math.round(ms)} ms (budget ${CASE_BUDGET_MS}; replay: LOOPSCOPE_FUZZ_SEED=${seed} LOOPSCOPE_FUZZ_CASES=1)`,
    );
}

describe(`mutation fuzz (${CASES} cases from seed ${SEED})`, () => {
  test('snapshots: parse, build, analyse and explain never crash', () => {
    for (let c = 0; c < CASES; c++) {
      const seed = SEED + c;
      const rng = new Rng(seed);
      const doc = mutateJson(demo, rng, 1 + rng.int(12), BIG);
      expectOnlyLoopscopeErrors(`snapshot case ${c}`, seed, () => {
        const problems: InputProblem[] = [];
        const objects = parseSnapshotText({ name: 'fuzz.json', text: JSON.stringify(doc) }, problems);
        const cluster = buildCluster(objects, problems);
        const analysis = analyzeCluster(cluster);
        for (const s of cluster.services.slice(0, 3)) explain(analysis, `${s.namespace}/${s.name}`);
        explain(analysis, rng.pick(['constructor', '__proto__', 'default/constructor', 'toString/x', '10.0.0.1:80']));
      });
    }
  }, 600_000);

  test('node dumps: load and trace never crash', () => {
    for (let c = 0; c < CASES; c++) {
      const seed = SEED + 100_000 + c;
      const rng = new Rng(seed);
      const n = () => 1 + rng.int(8);
      expectOnlyLoopscopeErrors(`dump case ${c}`, seed, () => {
        const node = loadNodeDumps({
          iptablesSave: { text: mutateLines(dumps.iptablesSave, rng, n(), BIG), file: 'iptables-save.txt' },
          ipset: { text: mutateLines(dumps.ipset, rng, n(), BIG), file: 'ipset.txt' },
          addr: { text: mutateLines(dumps.addr, rng, n(), BIG), file: 'addr.txt' },
          conntrack: { text: mutateLines(dumps.conntrack, rng, n(), BIG), file: 'conntrack.txt' },
        });
        traceLbPacket(node, { src: '172.16.0.10', dst: rng.pick(['10.0.1.100', '10.0.0.5', '172.16.0.1']), dport: 80 });
        traceLbPacket(node, { src: '10.0.1.11', dst: '10.0.1.100', dport: 443, hook: 'OUTPUT' });
      });
    }
  }, 600_000);
});

/** The named cases of issue 15, item 6, each on the demo snapshot. */
describe('snapshot type confusion', () => {
  const items = (demo as { items: Array<Record<string, any>> }).items;
  const withEach = (kind: string, f: (o: Record<string, any>) => void) => {
    const doc = JSON.parse(JSON.stringify(demo)) as { items: Array<Record<string, any>> };
    for (const o of doc.items) if (o.kind === kind) f(o);
    return doc;
  };
  const analyse = (doc: unknown) => {
    const problems: InputProblem[] = [];
    const cluster = buildCluster(parseSnapshotText({ name: 'case.json', text: JSON.stringify(doc) }, problems), problems);
    return { cluster, analysis: analyzeCluster(cluster) };
  };

  test.each([
    ['externalTrafficPolicy "constructor"', withEach('Service', (o) => (o.spec.externalTrafficPolicy = 'constructor'))],
    [
      'externalTrafficPolicy "__proto__", type "toString"',
      withEach('Service', (o) =>
        Object.assign(o.spec, { externalTrafficPolicy: '__proto__', type: 'toString', internalTrafficPolicy: 'constructor' }),
      ),
    ],
    [
      'annotations named and valued like the prototype',
      withEach(
        'Service',
        (o) => (o.metadata.annotations = { constructor: 'constructor', 'service.cloud.tencent.com/direct-access': 'hasOwnProperty' }),
      ),
    ],
    [
      'numeric owner names and kinds',
      withEach(
        'Pod',
        (o) =>
          (o.metadata.ownerReferences = [
            { kind: 'ReplicaSet', name: 12345, controller: true },
            { kind: 7, name: 'x' },
          ]),
      ),
    ],
    [
      'owner kind "constructor"',
      withEach('Pod', (o) => (o.metadata.ownerReferences = [{ kind: 'constructor', name: 'constructor', controller: true }])),
    ],
  ])('%s: analysed, the Services kept', (_name, doc) => {
    const { cluster } = analyse(doc);
    expect(cluster.services.length).toBe(items.filter((o) => o.kind === 'Service').length);
  });

  test('"constructor" as a traffic policy is reported, not resolved through Object', () => {
    const { cluster } = analyse(withEach('Service', (o) => (o.spec.externalTrafficPolicy = 'constructor')));
    expect(cluster.problems.some((p) => /"constructor" is not Local or Cluster/.test(p.message))).toBe(true);
  });

  test('10,000-deep nesting: as the document, inside an object, inside an array', () => {
    const problems: InputProblem[] = [];
    expect(parseSnapshotText({ name: 'a.json', text: '['.repeat(10_000) + ']'.repeat(10_000) }, problems)).toEqual([]);
    const labels = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const objs = parseSnapshotText(
      { name: 'b.json', text: `{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"p","labels":${labels}}}]}` },
      problems,
    );
    expect(objs).toEqual([]);
    expect(problems.map((p) => p.message).join('\n')).toMatch(/nests arrays more than 4 deep[\s\S]*nests more than 100 levels deep/);
  });
});
