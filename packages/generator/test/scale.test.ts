/**
 * The big cluster of the brief: 5,000 nodes, 150,000 pods, 10,000 Services (2,000 internal LBs).
 * Slow (about 20 s and 1.5 GB), so it runs only with LOOPSCOPE_SCALE=1:
 *   LOOPSCOPE_SCALE=1 npx jest test/generator/scale
 */
import { generateCluster, toKubeLists } from '../src';

const run = process.env.LOOPSCOPE_SCALE === '1' ? describe : describe.skip;

run('generateCluster at 5,000 nodes / 150,000 pods', () => {
  it('generates and serializes within the budget', () => {
    const t0 = Date.now();
    const cluster = generateCluster({
      nodes: 5000,
      pods: 150_000,
      services: 10_000,
      internalLbServices: 2000,
      publicLbServices: 500,
      seed: 1,
    });
    const generateMs = Date.now() - t0;
    const heapMb = Math.round(process.memoryUsage().heapUsed / 1e6);
    expect(cluster.items.pods).toHaveLength(150_000);
    expect(cluster.items.nodes).toHaveLength(5000);
    expect(cluster.items.services).toHaveLength(10_000);

    const t1 = Date.now();
    const files = toKubeLists(cluster);
    const sizes: Record<string, number> = {};
    let total = 0;
    for (const f of files) {
      const n = JSON.stringify(f.list).length;
      sizes[f.name] = n;
      total += n;
    }
    const stringifyMs = Date.now() - t1;
    const podSizes = cluster.items.pods.map((p) => JSON.stringify(p).length).sort((a, b) => a - b);
    const report = {
      generateMs,
      stringifyMs,
      heapMbAfterGenerate: heapMb,
      files: files.length,
      totalMb: Math.round(total / 1e6),
      podBytes: { min: podSizes[0], median: podSizes[podSizes.length >> 1], max: podSizes[podSizes.length - 1] },
      largestFilesMb: Object.fromEntries(
        Object.entries(sizes)
          .filter(([name]) => !name.startsWith('pods-') || name === 'pods-000.json')
          .map(([k, v]) => [k, Math.round(v / 1e5) / 10]),
      ),
    };
    console.log(JSON.stringify(report, null, 2));
    expect(generateMs).toBeLessThan(30_000);
    expect(podSizes[podSizes.length - 1]).toBeLessThanOrEqual(5120);
  }, 180_000);
});
