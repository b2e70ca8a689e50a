// Benchmark of the loopback model at 5,000 nodes / 150,000 pods / 10,000 Services (2,000 internal LB).
// Prints figures and a Markdown table for the README. Run: `npm run bench -w @loopscope/core` (build first).
//
// The parent generates the cluster and writes it as kubectl JSON files; a fresh child process
// (model-measure.js) then parses them, analyses them and measures — so the memory figure counts only
// what the model keeps, and every ratio is measured in one run of one process.
'use strict';
const { mkdtempSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');
// The synthetic cluster comes from the generator package (test data stays out of core; turbo builds it first).
const generator = require('@loopscope/generator');

const SIZE = {
  nodes: Number(process.env.BENCH_NODES ?? 5000),
  pods: Number(process.env.BENCH_PODS ?? 150000),
  services: Number(process.env.BENCH_SERVICES ?? 10000),
  internalLbServices: Number(process.env.BENCH_INTERNAL_LB ?? 2000),
};

const t0 = Date.now();
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
const dir = mkdtempSync(join(tmpdir(), 'loopscope-bench-'));
let bytes = 0;
const files = generator.toKubeLists(generated, { podsPerFile: 10000 });
for (const f of files) {
  const text = JSON.stringify(f.list);
  bytes += text.length;
  writeFileSync(join(dir, f.name), text);
}
console.log(
  `generated ${SIZE.nodes} nodes, ${SIZE.pods} pods, ${SIZE.services} Services (${SIZE.internalLbServices} internal LB) in ${Date.now() - t0} ms: ${(bytes / 1048576).toFixed(0)} MiB of kubectl JSON in ${files.length} files`,
);

try {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=8192',
      ...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : []),
      join(__dirname, 'model-measure.js'),
      dir,
      String(SIZE.pods),
    ],
    { stdio: 'inherit' },
  );
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
