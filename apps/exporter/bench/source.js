// Time to ready through the Kubernetes source, as a ratio to the decode floor measured in the same
// run, at 5,000 nodes / 150,000 pods by default (BENCH_NODES, BENCH_PODS, BENCH_SERVICES, BENCH_INTERNAL_LB).
// The list/watch test server runs in its own process; each measurement in a fresh child, in turn:
// floor, source, floor, source … (BENCH_ROUNDS, default 2; the median is printed).
// BENCH_BASELINE_SOURCE=DIR and BENCH_BASELINE_CLIENT=path/to/client-node/dist/index.js add another
// source to compare with (e.g. an older version of src/sources/kubernetes and its client-node).
'use strict';
const { mkdtempSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { fork, spawnSync } = require('node:child_process');
const generator = require('@loopscope/generator');

const SIZE = {
  nodes: Number(process.env.BENCH_NODES ?? 5000),
  pods: Number(process.env.BENCH_PODS ?? 150000),
  services: Number(process.env.BENCH_SERVICES ?? 10000),
  internalLbServices: Number(process.env.BENCH_INTERNAL_LB ?? 2000),
};
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const dir = mkdtempSync(join(tmpdir(), 'loopscope-source-bench-'));
const generated = generator.generateCluster({
  seed: 7,
  provider: 'tke',
  proxyMode: 'ipvs',
  publicLbServices: 500,
  localShare: 0.5,
  fixedBuildShare: 0.5,
  directToPodShare: 0.1,
  ...SIZE,
});
const files = join(dir, 'lists');
require('node:fs').mkdirSync(files);
for (const f of generator.toKubeLists(generated, { podsPerFile: 5000 })) writeFileSync(join(files, f.name), JSON.stringify(f.list));

const server = fork(join(__dirname, 'source-server.js'), [files, join(dir, 'kubeconfig')], { execArgv: ['--max-old-space-size=8192'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

server.once('message', ({ kubeconfig, objects }) => {
  try {
    const run = (args) => {
      const r = spawnSync(process.execPath, ['--expose-gc', join(__dirname, 'source-measure.js'), ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`measure ${args[0]} failed: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop());
    };
    const variants = [['source', join(__dirname, '..', 'src', 'sources', 'kubernetes')]];
    if (process.env.BENCH_BASELINE_SOURCE)
      variants.push(['baseline', process.env.BENCH_BASELINE_SOURCE, process.env.BENCH_BASELINE_CLIENT ?? '']);
    run(['floor', kubeconfig]); // warm-up: the server builds its list snapshots once
    const results = { floor: [] };
    for (let i = 0; i < ROUNDS; i++) {
      results.floor.push(run(['floor', kubeconfig]));
      for (const [name, src, client] of variants) (results[name] ??= []).push(run(['source', kubeconfig, src, client].filter(Boolean)));
    }
    const floorMs = median(results.floor.map((r) => r.ms));
    // Each source run is divided by the floor run of its own round (the machine's load drifts).
    const ratios = (name) => results[name].map((r, i) => r.ms / results.floor[i].ms);
    console.log(`${objects} objects served by the test server; medians of ${ROUNDS} round(s)\n`);
    console.log('| Path | Time to ready | Ratio to the decode floor (per round) | RSS at ready |');
    console.log('|---|---:|---:|---:|');
    console.log(
      `| decode floor (fetch + JSON.parse every page) | ${floorMs} ms | 1.00 | ${median(results.floor.map((r) => r.rssMiB))} MiB |`,
    );
    for (const [name] of variants) {
      const t = median(results[name].map((r) => r.ms));
      const rs = ratios(name);
      console.log(
        `| ${name === 'source' ? 'KubernetesSource (this tree)' : `baseline ${process.env.BENCH_BASELINE_SOURCE}`} | ${t} ms | ${median(rs).toFixed(2)} (${rs.map((x) => x.toFixed(2)).join(', ')}) | ${median(results[name].map((r) => r.rssMiB))} MiB |`,
      );
    }
  } catch (err) {
    console.error(err.message);
    process.exitCode = 1;
  } finally {
    server.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
});
