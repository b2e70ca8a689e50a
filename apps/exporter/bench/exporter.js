// Exporter benchmark at 5,000 nodes / 150,000 pods (10,000 Services, 2,000 internal LB).
// The parent generates the cluster and writes it as kubectl JSON files; a fresh child process runs
// the exporter's engine and metrics on it, loading one file at a time as list pages arrive, so its
// resident memory is the exporter's own. Prints figures and a Markdown table.
'use strict';
const { mkdtempSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');
const generator = require('@loopscope/generator');

const SIZE = {
  nodes: Number(process.env.BENCH_NODES ?? 5000),
  pods: Number(process.env.BENCH_PODS ?? 150000),
  services: Number(process.env.BENCH_SERVICES ?? 10000),
  internalLbServices: Number(process.env.BENCH_INTERNAL_LB ?? 2000),
};
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
const dir = mkdtempSync(join(tmpdir(), 'loopscope-exporter-bench-'));
for (const f of generator.toKubeLists(generated, { podsPerFile: 5000 })) writeFileSync(join(dir, f.name), JSON.stringify(f.list));
try {
  const r = spawnSync(process.execPath, ['--expose-gc', join(__dirname, 'exporter-measure.js'), dir], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
