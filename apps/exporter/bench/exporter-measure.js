'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Engine } = require('../dist/engine');
const { createMetrics } = require('../dist/metrics');

const dir = process.argv[2];
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const mib = (b) => (b / 1048576).toFixed(0);

const engine = new Engine({ debounceMs: 60_000 });
const metrics = createMetrics(engine, { maxLinks: 5000, resources: ['snapshot'] });
// What Prometheus sends: it gets OpenMetrics.
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

// Initial sync: each file is one list response; objects are delivered as the source delivers them.
let t = process.hrtime.bigint();
const byKind = new Map();
for (const name of readdirSync(dir).sort()) {
  const list = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  for (const o of list.items) {
    let arr = byKind.get(o.kind);
    if (!arr) byKind.set(o.kind, (arr = []));
    arr.push(require('@loopscope/core').slimObject(o));
  }
}
for (const [kind, list] of byKind) engine.replace(kind, list);
byKind.clear();
engine.recompute();
const syncMs = ms(t);
global.gc();
const rss = process.memoryUsage().rss;

// One pod event → updated figures (the debounce excluded): move, add and delete client pods.
const analysis = engine.analysis;
const cluster = analysis.context.cluster;
const podObjects = [...engine.live['store'].get('Pod').values()].filter(
  (p) => p.metadata.namespace !== 'kube-system' && p.status.phase === 'Running',
);
const nodes = cluster.nodes.map((n) => n.name);
const samples = [];
let rng = 1;
const rand = () => (rng = (rng * 48271) % 2147483647) / 2147483647;
const WARMUP = 200; // the JIT's first compilations are not what an SRE waits on
for (let i = 0; i < 2000 + WARMUP; i++) {
  const pod = JSON.parse(JSON.stringify(podObjects[Math.floor(rand() * podObjects.length)]));
  const kind = i % 3;
  if (kind === 0) pod.spec.nodeName = nodes[Math.floor(rand() * nodes.length)];
  if (kind === 1) pod.metadata.name += `-new${i}`;
  const s = process.hrtime.bigint();
  if (kind === 2) engine.remove('pods', pod);
  else engine.upsert('pods', pod);
  engine.recompute();
  if (i >= WARMUP) samples.push(ms(s));
}
samples.sort((a, b) => a - b);

// /metrics render (OpenMetrics, as Prometheus asks) with the link series at the cap.
let body = '';
const renderTimes = [];
(async () => {
  // Cold: the first scrape after an analysis refills the model's gauges (links of re-analysed
  // Services built again); warm: later scrapes of the same analysis only render.
  const coldTimes = [];
  for (let i = 0; i < 10; i++) {
    const pod = JSON.parse(JSON.stringify(podObjects[i]));
    pod.spec.nodeName = nodes[(i * 7) % nodes.length];
    engine.upsert('pods', pod);
    engine.recompute();
    const s = process.hrtime.bigint();
    body = (await metrics.render(PROMETHEUS_ACCEPT)).body;
    coldTimes.push(ms(s));
  }
  coldTimes.sort((a, b) => a - b);
  for (let i = 0; i < 20; i++) {
    const s = process.hrtime.bigint();
    body = (await metrics.render(PROMETHEUS_ACCEPT)).body;
    renderTimes.push(ms(s));
  }
  renderTimes.sort((a, b) => a - b);
  const linkSeries = body.split('\n').filter((l) => l.startsWith('loopscope_link_loopback_ratio{')).length;
  const p99 = q(samples, 0.99);
  console.log(`objects ${engine.live.objectCount}; ${linkSeries} link series on /metrics (${(body.length / 1048576).toFixed(1)} MiB)\n`);
  console.log('| Figure | Value | Target | Met |');
  console.log('|---|---:|---|---|');
  console.log(`| Initial sync + analysis | ${syncMs.toFixed(0)} ms | — | |`);
  console.log(`| Resident memory after sync | ${mib(rss)} MiB | < 600 MiB | ${rss < 600 * 1048576 ? 'yes' : 'NO'} |`);
  console.log(
    `| One pod event → updated figures (median / p99 of ${samples.length}, after ${WARMUP} warm-up events) | ${q(samples, 0.5).toFixed(3)} / ${p99.toFixed(3)} ms | p99 < 5 ms | ${p99 < 5 ? 'yes' : 'NO'} |`,
  );
  const cold = q(coldTimes, 0.5);
  console.log(
    `| /metrics render, ${linkSeries} link series, first scrape after an analysis (median of 10) | ${cold.toFixed(1)} ms | < 100 ms | ${cold < 100 ? 'yes' : 'NO'} |`,
  );
  console.log(`| /metrics render, later scrapes of the same analysis (median of 20) | ${q(renderTimes, 0.5).toFixed(1)} ms | — | |`);
})();
