// Child of model.js: parse, analyse and measure the snapshot in DIR. Prints the README table.
'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const core = require('../dist');

const [dir, podsArg] = process.argv.slice(2);
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const gc = () => {
  global.gc();
  global.gc();
};
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

gc();
const heapStart = process.memoryUsage().heapUsed;
let texts = readdirSync(dir)
  .sort()
  .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));

// The yardstick: JSON.parse of the same snapshot.
gc();
let t = process.hrtime.bigint();
let parsed = texts.map((x) => JSON.parse(x.text));
const parseMs = ms(t);

let problems = [];
let objects = [];
for (let i = 0; i < parsed.length; i++) for (const o of core.flattenSnapshot(parsed[i], texts[i].name, problems)) objects.push(o);
texts = undefined;
gc();

// Full analysis: normalize the parsed objects, detect the profile, analyse every Service.
t = process.hrtime.bigint();
const cluster = core.buildCluster(objects, problems);
const normalizeMs = ms(t);
t = process.hrtime.bigint();
const analysis = core.analyzeCluster(cluster);
const analyzeMs = ms(t);
const fullMs = normalizeMs + analyzeMs;

// What the model keeps once the raw objects are gone.
parsed = undefined;
objects = undefined;
problems = undefined;
gc();
const retained = process.memoryUsage().heapUsed - heapStart;
const pods = cluster.pods.length || Number(podsArg);

t = process.hrtime.bigint();
const report = core.buildReport(analysis, { fixes: false });
const reportMs = ms(t);

// Explain one Service (with its fixes and their what-if figures): median and p99 over 300
// different looping Services, each explained once (nothing cached from an earlier explain of it),
// after 100 others as a warm-up (JIT, and the one-off kube-proxy-upgrade profile the TKE fix shares).
const looping = analysis.services.filter((s) => s.verdict === 'loopback');
const samples = [];
looping.slice(0, 400).forEach((sa, i) => {
  const s = process.hrtime.bigint();
  const r = core.explain(analysis, `${sa.service.namespace}/${sa.service.name}`);
  if (i >= 100) samples.push(ms(s));
  if (!r.ok) throw new Error(r.message);
});
samples.sort((a, b) => a - b);

const ratio = fullMs / parseMs;
const perPod = retained / pods;
const p99 = quantile(samples, 0.99);
const s = report.summary;
console.log(
  `summary: ${s.loopback} loopback, ${s.safe} safe, ${s.unknown} unknown, ${s['not-applicable']} not applicable; ${report.links.length} links\n`,
);
console.log('| Figure | Value | Target | Met |');
console.log('|---|---:|---|---|');
console.log(`| JSON.parse of the snapshot | ${parseMs.toFixed(0)} ms | yardstick | |`);
console.log(
  `| Full analysis (normalize ${normalizeMs.toFixed(0)} ms + analyse ${analyzeMs.toFixed(0)} ms) | ${fullMs.toFixed(0)} ms = ${(ratio * 100).toFixed(1)}% of JSON.parse | ≤ 25% | ${ratio <= 0.25 ? 'yes' : 'NO'} |`,
);
console.log(
  `| Retained model (cluster + analysis) | ${(retained / 1048576).toFixed(1)} MiB = ${perPod.toFixed(0)} B/pod | ≤ 1 KiB/pod | ${perPod <= 1024 ? 'yes' : 'NO'} |`,
);
console.log(
  `| Explain one Service, with fixes (median / p99 over ${samples.length} different Services) | ${quantile(samples, 0.5).toFixed(2)} / ${p99.toFixed(2)} ms | < 5 ms | ${p99 < 5 ? 'yes' : 'NO'} |`,
);
console.log(`| Report with ${report.links.length} links (no fixes) | ${reportMs.toFixed(0)} ms | — | |`);
