#!/usr/bin/env node
// A synthetic `conntrack -E -o timestamp,id` for the flood benchmark: FLOOD_FLOWS flows per round
// from FLOOD_PODS client pods, FLOOD_TO_LB of them to FLOOD_INGRESSES LB ingress points (the rest
// to other addresses). Each round opens every flow first (the table holds FLOOD_FLOWS entries at
// once), then answers 90% of them and destroys all: 10% die unreplied. FLOOD_ROUNDS rounds, then it
// prints "done" on stderr and stays up like the real one.
const flows = Number(process.env.FLOOD_FLOWS || 100000);
const pods = Number(process.env.FLOOD_PODS || 110);
const ingresses = Number(process.env.FLOOD_INGRESSES || 10);
const toLb = Number(process.env.FLOOD_TO_LB || 1);
const rounds = Number(process.env.FLOOD_ROUNDS || 3);
if (process.argv[2] !== '-E') process.exit(1);
const pod = (i) => `10.1.${(i % pods) >> 8}.${(i % pods) & 255}`;
const dst = (i) => ((i % 1000) / 1000 < toLb ? `10.0.3.${Math.floor(i / pods) % ingresses}` : `10.9.${(i >> 8) & 255}.${i & 255}`);
let id = 0;
function* lines() {
  for (let r = 0; r < rounds; r++) {
    const base = id;
    const ts = (1796179842 + r).toFixed(0);
    for (let i = 0; i < flows; i++) {
      const n = base + i;
      yield `[${ts}.${String(i % 1e6).padStart(6, '0')}]\t    [NEW] tcp      6 120 SYN_SENT src=${pod(i)} dst=${dst(i)} sport=${10000 + (n % 50000)} dport=443 [UNREPLIED] src=${dst(i)} dst=${pod(i)} sport=443 dport=${10000 + (n % 50000)} id=${n}\n`;
    }
    for (let i = 0; i < flows; i++) {
      const n = base + i;
      if (i % 10 !== 0)
        yield `[${ts}.${String(i % 1e6).padStart(6, '0')}]\t [UPDATE] tcp      6 60 SYN_RECV src=${pod(i)} dst=${dst(i)} sport=${10000 + (n % 50000)} dport=443 src=${dst(i)} dst=${pod(i)} sport=443 dport=${10000 + (n % 50000)} id=${n}\n`;
      yield `[${ts}.${String(i % 1e6).padStart(6, '0')}]\t[DESTROY] tcp      6 src=${pod(i)} dst=${dst(i)} sport=${10000 + (n % 50000)} dport=443 ${i % 10 === 0 ? '[UNREPLIED] ' : ''}src=${dst(i)} dst=${pod(i)} sport=443 dport=${10000 + (n % 50000)} id=${n}\n`;
    }
    id += flows;
  }
}
const it = lines();
function pump() {
  let chunk = '';
  for (let k = 0; k < 2000; k++) {
    const { value, done } = it.next();
    if (done) {
      if (chunk) process.stdout.write(chunk);
      process.stderr.write('done\n');
      setInterval(() => undefined, 1 << 30);
      return;
    }
    chunk += value;
  }
  if (process.stdout.write(chunk)) setImmediate(pump);
  else process.stdout.once('drain', pump);
}
pump();
