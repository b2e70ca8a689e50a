// Sizing of the real exporter through the Kubernetes source, at 5,000 nodes / 150,000 pods by default
// (BENCH_NODES, BENCH_PODS, BENCH_SERVICES, BENCH_INTERNAL_LB). The list/watch test server runs in its
// own process; the built exporter (dist/main.js --kubeconfig) in another, with the heap cap of the
// shipped Deployment (deploy/kubernetes/deployment.yaml). Prints, for that process:
// - time to ready, and as a ratio to the decode floor (every list page fetched and JSON.parse'd)
//   measured in the same run;
// - RSS at ready, after its readers have used it (Prometheus scrapes in both formats, the Slack
//   bot's at-risk list, the dashboard's Service list, the report), and its peak (VmHWM);
// - CPU seconds to ready; the at-risk list's time cold (first ask after an analysis) and warm, and
//   its bytes; the first /metrics scrape after an analysis and the next.
'use strict';
const { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { fork, spawn, spawnSync } = require('node:child_process');
const { request } = require('node:http');
const { gunzipSync } = require('node:zlib');
const generator = require('@loopscope/generator');

const SIZE = {
  nodes: Number(process.env.BENCH_NODES ?? 5000),
  pods: Number(process.env.BENCH_PODS ?? 150000),
  services: Number(process.env.BENCH_SERVICES ?? 10000),
  internalLbServices: Number(process.env.BENCH_INTERNAL_LB ?? 2000),
};
const TOKEN = 'bench-token-0123456789abcdef';
const deployment = readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'kubernetes', 'deployment.yaml'), 'utf8');
const heapFlag = /--max-old-space-size=\d+/.exec(deployment)[0];
const limitMiB = (() => {
  const m = /limits:\s*\n\s*memory:\s*(\d+)(Mi|Gi)/.exec(deployment);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
})();

const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const dir = mkdtempSync(join(tmpdir(), 'loopscope-sizing-bench-'));
const files = join(dir, 'lists');
mkdirSync(files);
let t = process.hrtime.bigint();
const generated = generator.generateCluster({
  seed: 7,
  provider: 'tke',
  proxyMode: 'ipvs',
  publicLbServices: Number(process.env.BENCH_PUBLIC_LB ?? 500),
  localShare: 0.5,
  fixedBuildShare: 0.5,
  directToPodShare: 0.1,
  ...SIZE,
});
for (const f of generator.toKubeLists(generated, { podsPerFile: 5000 })) writeFileSync(join(files, f.name), JSON.stringify(f.list));
console.log(
  `cluster: ${SIZE.nodes} nodes, ${SIZE.pods} pods, ${SIZE.services} Services generated in ${(ms(t) / 1000).toFixed(1)} s; exporter heap ${heapFlag}, memory limit ${limitMiB} MiB (deployment.yaml)`,
);

/** RSS, peak RSS (MiB) and CPU seconds of a process, from /proc. */
function usage(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)[1]) / 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { rss: Math.round(kb('VmRSS')), peak: Math.round(kb('VmHWM')), cpu: ticks / 100 };
}

/** One GET: time to the last byte, the bytes on the wire, and the body (unzipped). */
function timed(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    request(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const wire = Buffer.concat(chunks);
        if (res.statusCode !== 200) return reject(new Error(`${url}: HTTP ${res.statusCode} ${wire.toString().slice(0, 200)}`));
        const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
        resolve({ ms: ms(t0), bytes: wire.length, body });
      });
    })
      .on('error', reject)
      .end();
  });
}

const server = fork(join(__dirname, 'source-server.js'), [files, join(dir, 'kubeconfig')], { execArgv: ['--max-old-space-size=8192'] });
server.once('message', async ({ kubeconfig, objects }) => {
  let exporter;
  try {
    // The floor, twice (the first warms the server's list snapshots).
    const floor = () => {
      // Retried: on a loaded machine a page can be cut short (the floor has no retry of its own).
      let last = '';
      for (let attempt = 0; attempt < 3; attempt++) {
        const r = spawnSync(process.execPath, ['--expose-gc', join(__dirname, 'source-measure.js'), 'floor', kubeconfig], {
          encoding: 'utf8',
        });
        if (r.status === 0) return JSON.parse(r.stdout.trim().split('\n').pop()).ms;
        last = r.stderr;
      }
      throw new Error(`floor failed: ${last}`);
    };
    floor();
    const floorMs = floor();

    writeFileSync(join(dir, 'token'), TOKEN);
    t = process.hrtime.bigint();
    exporter = spawn(
      process.execPath,
      [
        heapFlag,
        join(__dirname, '..', 'dist', 'main.js'),
        '--kubeconfig',
        kubeconfig,
        '--port',
        '0',
        '--api-port',
        '0',
        '--api-token-file',
        join(dir, 'token'),
        '--debounce-ms',
        '60000',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    exporter.stdout.on('data', (d) => (out += d));
    exporter.stderr.on('data', (d) => (err += d));
    await new Promise((resolve, reject) => {
      const check = setInterval(() => {
        if (out.includes('ready:')) {
          clearInterval(check);
          resolve();
        }
      }, 20);
      exporter.once('exit', (code) => reject(new Error(`exporter exited ${code}: ${err.slice(-2000)}`)));
    });
    const readyMs = ms(t);
    const atReady = usage(exporter.pid);
    const metricsUrl = /metrics:\s+(\S+)/.exec(out)[1];
    const apiBase = /report:\s+(\S+)\/api\/v1\/report/.exec(out)[1];
    const auth = { authorization: `Bearer ${TOKEN}` };

    // The readers, as they come after an analysis: Prometheus (OpenMetrics, gzip), the bot, the dashboard.
    const scrape1 = await timed(metricsUrl, {
      accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5',
      'accept-encoding': 'gzip',
    });
    const scrape2 = await timed(metricsUrl, {
      accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5',
      'accept-encoding': 'gzip',
    });
    const plain = await timed(metricsUrl);
    const atRiskCold = await timed(`${apiBase}/api/v1/services/at-risk?limit=5`, auth);
    const warm = [];
    for (let i = 0; i < 5; i++) warm.push((await timed(`${apiBase}/api/v1/services/at-risk?limit=5`, auth)).ms);
    warm.sort((a, b) => a - b);
    const servicesList = await timed(`${apiBase}/api/v1/services?verdict=loopback&fixes=false`, auth);
    const report = await timed(`${apiBase}/api/v1/report`, { ...auth, 'accept-encoding': 'gzip' });
    const links = await timed(`${apiBase}/api/v1/links?limit=100`, auth);
    global.gc?.();
    await new Promise((r) => setTimeout(r, 1000));
    const afterApi = usage(exporter.pid);
    const unzipped = scrape1.body.length;
    const mib = (b) => `${(b / 1048576).toFixed(2)} MiB`;
    const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
    const perK = (x) => (x / (SIZE.nodes / 1000)).toFixed(1);
    console.log(`${objects} objects served by the test server\n`);
    console.log(`| ${SIZE.nodes} nodes, ${SIZE.pods} pods | figure |`);
    console.log('|---|---:|');
    console.log(`| decode floor (every list page fetched and parsed) | ${(floorMs / 1000).toFixed(1)} s |`);
    console.log(`| exporter: time to ready (ratio to the floor) | ${(readyMs / 1000).toFixed(1)} s (${(readyMs / floorMs).toFixed(2)}) |`);
    console.log(`| CPU to ready | ${atReady.cpu.toFixed(1)} s (${perK(atReady.cpu)} s per 1,000 nodes) |`);
    console.log(`| RSS at ready | ${atReady.rss} MiB (${perK(atReady.rss)} MiB per 1,000 nodes) |`);
    console.log(`| RSS after scrapes and API use | ${afterApi.rss} MiB |`);
    console.log(
      `| peak RSS (VmHWM) | ${afterApi.peak} MiB of the ${limitMiB} MiB limit (${Math.round((100 * afterApi.peak) / limitMiB)}%) |`,
    );
    console.log(
      `| first /metrics after the analysis (OpenMetrics, gzip) | ${scrape1.ms.toFixed(0)} ms, ${mib(scrape1.bytes)} (${mib(unzipped)} unzipped) |`,
    );
    console.log(`| next /metrics (OpenMetrics, gzip) / text, identity | ${scrape2.ms.toFixed(0)} ms / ${plain.ms.toFixed(0)} ms |`);
    console.log(
      `| /api/v1/services/at-risk?limit=5 cold / warm (median of 5) | ${atRiskCold.ms.toFixed(0)} ms / ${warm[2].toFixed(1)} ms, ${kib(atRiskCold.bytes)} |`,
    );
    console.log(
      `| /api/v1/services?verdict=loopback&fixes=false (no links) | ${servicesList.ms.toFixed(0)} ms, ${mib(servicesList.bytes)} |`,
    );
    console.log(
      `| /api/v1/report (gzip) / /api/v1/links?limit=100 | ${report.ms.toFixed(0)} ms, ${mib(report.bytes)} / ${links.ms.toFixed(0)} ms |`,
    );
    console.log(
      `SIZING ${JSON.stringify({ nodes: SIZE.nodes, pods: SIZE.pods, floorMs, readyMs: Math.round(readyMs), ratio: Number((readyMs / floorMs).toFixed(2)), cpuToReady: atReady.cpu, rssReady: atReady.rss, rssAfterApi: afterApi.rss, peak: afterApi.peak, limitMiB })}`,
    );
  } catch (e) {
    console.error(e.message);
    process.exitCode = 1;
  } finally {
    exporter?.kill('SIGTERM');
    server.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
});
