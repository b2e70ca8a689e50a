#!/usr/bin/env node
/**
 * Flood benchmark: the built agent reading a synthetic conntrack event flood (bench/flood-conntrack.js
 * as `conntrack` on PATH): 110 client pods, 100,000 flows per round held open at once (a table of
 * 100k entries), all to 10 LB ingress points (the worst case: every event is parsed and counted),
 * 90% answered, 10% destroyed unreplied; 3 rounds.
 *
 * Figures are printed against a floor measured in the same run: a bare Node process reading the
 * same stream and splitting it into lines (what any conntrack -E consumer in Node pays).
 * Usage: npm run bench -w loopscope-node-agent   (build first)
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const FLOWS = Number(process.env.FLOOD_FLOWS || 100000);
const ROUNDS = Number(process.env.FLOOD_ROUNDS || 3);
const PODS = 110;
const INGRESSES = 10;
const LINES = Math.round(ROUNDS * FLOWS * 2.9);
const MAIN = join(__dirname, '..', 'dist', 'main.js');
const GEN = join(__dirname, 'flood-conntrack.js');

let toLb = 1;
const floodEnv = (extra) => ({
  FLOOD_FLOWS: String(FLOWS),
  FLOOD_ROUNDS: String(ROUNDS),
  FLOOD_PODS: String(PODS),
  FLOOD_INGRESSES: String(INGRESSES),
  FLOOD_TO_LB: String(toLb),
  ...extra,
});

function procStatus(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (USER_HZ 100)
}

async function floor() {
  const script = `
    const { spawn } = require('node:child_process');
    const t0 = process.hrtime.bigint();
    const c = spawn(process.execPath, [${JSON.stringify(GEN)}, '-E'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let n = 0, partial = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d) => { let t = partial + d; let i; while ((i = t.indexOf('\\n')) >= 0) { n++; t = t.slice(i + 1); } partial = t; if (n >= ${LINES}) { const s = Number(process.hrtime.bigint() - t0) / 1e9; const u = process.cpuUsage(); console.log(JSON.stringify({ seconds: s, cpu: (u.user + u.system) / 1e6 })); c.kill(); process.exit(0); } });`;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...floodEnv() }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => child.on('exit', r));
  return JSON.parse(out);
}

async function agentRun(dir, rounds) {
  const bin = join(dir, 'bin');
  const token = join(dir, 'token');
  const args = [
    MAIN,
    '--node-name',
    'bench',
    '--listen-address',
    '127.0.0.1',
    '--port',
    '0',
    '--token-file',
    token,
    '--refresh-seconds',
    '3600',
  ];
  for (let i = 0; i < INGRESSES; i++) args.push('--ingress', `10.0.3.${i}:443`);
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, args, {
    env: { PATH: bin, ...floodEnv({ FLOOD_ROUNDS: String(rounds) }) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    const check = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearInterval(check);
        resolve(m[1]);
      }
    }, 20);
    child.on('exit', (c) => reject(new Error(`agent exited ${c}: ${log}`)));
  });
  const metric = (text, name, labels = '') => {
    const m = new RegExp(`^${name}${labels ? `\\{[^}]*${labels}[^}]*\\}` : ''} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  let text = '';
  let maxTracked = 0;
  let peakRss = 0;
  for (;;) {
    text = await (await fetch(`${url}/metrics`)).text();
    maxTracked = Math.max(maxTracked, metric(text, 'loopscope_node_agent_tracked_flows') ?? 0);
    peakRss = Math.max(peakRss, procStatus(child.pid).rss);
    const events = metric(text, 'loopscope_node_agent_conntrack_events_total') ?? 0;
    if (rounds === 0 ? Date.now() - Number(t0 / 1000000n) > 2000 : events >= LINES) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const status = procStatus(child.pid);
  const cpu = cpuSeconds(child.pid);
  let unreplied = 0;
  let replied = 0;
  for (const m of text.matchAll(/^loopscope_node_lb_connections_total\{[^}]*outcome="(\w+)"[^}]*\} (\S+)$/gm)) {
    if (m[1] === 'unreplied') unreplied += Number(m[2]);
    else replied += Number(m[2]);
  }
  const series = [...text.matchAll(/^loopscope_node_lb_connections_opened_total\{/gm)].length;
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return {
    seconds,
    cpu,
    rssMiB: status.rss,
    peakRssMiB: Math.max(peakRss, status.hwm),
    maxTracked,
    unreplied,
    replied,
    series,
    evicted: metric(text, 'loopscope_node_agent_flows_evicted_total'),
  };
}

(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-flood-'));
  try {
    mkdirSync(join(dir, 'bin'));
    symlinkSync(process.execPath, join(dir, 'bin', 'node'));
    symlinkSync(GEN, join(dir, 'bin', 'conntrack'));
    writeFileSync(join(dir, 'token'), 'bench-token-0123456789abcdef');
    const f = await floor();
    const idle = await agentRun(dir, 0);
    const mev = LINES / 1e6;
    console.log(
      `flood: ${PODS} pods, ${FLOWS.toLocaleString('en')} flows held open per round × ${ROUNDS} rounds = ${LINES.toLocaleString('en')} events`,
    );
    console.log(
      `floor (bare Node line reader): ${f.seconds.toFixed(2)} s, ${(f.cpu / mev).toFixed(2)} CPU s per 1M events; idle agent RSS ${idle.rssMiB.toFixed(0)} MiB`,
    );
    for (const share of [1, 0.1]) {
      toLb = share;
      const a = await agentRun(dir, ROUNDS);
      console.log(
        `${share === 1 ? 'all' : `${share * 100}%`} of flows to ${INGRESSES} LB ingress points: ${a.seconds.toFixed(2)} s wall (${(a.seconds / f.seconds).toFixed(2)}× floor), ${(LINES / a.seconds / 1000).toFixed(0)}k events/s, ${(a.cpu / mev).toFixed(2)} CPU s per 1M events (${(a.cpu / f.cpu).toFixed(2)}× floor); peak RSS ${a.peakRssMiB.toFixed(0)} MiB (${(a.peakRssMiB / idle.rssMiB).toFixed(2)}× idle); tracked flows peak ${a.maxTracked} (cap 65,536), evicted ${a.evicted}; ${a.series} series, replied ${a.replied}, unreplied ${a.unreplied} (expected ${Math.round(ROUNDS * FLOWS * share * 0.1)})`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
