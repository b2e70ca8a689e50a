#!/usr/bin/env node
/**
 * Benchmark of the netfilter evidence layer: parse + index a large node dump,
 * then trace packets through it. Build first:
 *   cd packages/core && npx tsc -p tsconfig.build.json && node bench/netfilter.js
 *
 * The dump is generated like kube-proxy would write it: iptables mode with
 * many Services (KUBE-SERVICES → KUBE-EXT/KUBE-SVC → statistic → KUBE-SEP DNAT)
 * plus IPVS-mode chains that test large ipsets (KUBE-LOAD-BALANCER…).
 * Prints a markdown table. Options: --rules N (default 20000),
 * --members N (default 50000), --traces N (default 1000).
 */
'use strict';

const path = require('node:path');

let nf;
try {
  nf = require(path.join(__dirname, '..', 'dist', 'netfilter', 'index.js'));
} catch (e) {
  console.error('bench/netfilter.js: dist/netfilter/index.js not found; build first: npx tsc -p tsconfig.build.json');
  process.exit(1);
}

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const TARGET_RULES = arg('rules', 20000);
const MEMBERS = arg('members', 50000);
const TRACES = arg('traces', 1000);

// Deterministic data: a tiny PRNG, so every run measures the same dump.
let seed = 0x5eed;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
};
const hash = (n) => n.toString(36).toUpperCase().padStart(16, 'X').slice(-16);
const ip = (a, n) => `${a}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

function generate() {
  const chains = [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'];
  const rules = [];
  const add = (r) => rules.push(`[0:0] ${r}`);
  const chain = (n) => chains.push(`:${n} - [0:0]`);
  for (const c of [
    'KUBE-SERVICES',
    'KUBE-MARK-MASQ',
    'KUBE-POSTROUTING',
    'KUBE-NODEPORTS',
    'KUBE-IPVS-SERVICES',
    'KUBE-LOAD-BALANCER',
    'KUBE-FIREWALL-LB',
    'IP-MASQ-AGENT',
  ])
    chain(c);
  add('-A PREROUTING -m comment --comment "kubernetes ipvs portals" -j KUBE-IPVS-SERVICES');
  add('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  add('-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES');
  add('-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING');
  add(
    '-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT',
  );
  add('-A IP-MASQ-AGENT -d 172.16.0.0/12 -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN');
  add('-A IP-MASQ-AGENT -d 10.0.0.0/8 -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN');
  add(
    '-A IP-MASQ-AGENT -m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" -j MASQUERADE',
  );
  add('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
  add(
    '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
  );
  add('-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN');
  add('-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0');
  add('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
  // IPVS-like chains: a few rules, large sets.
  add('-A KUBE-IPVS-SERVICES -s 127.0.0.0/8 -j RETURN');
  add(
    '-A KUBE-IPVS-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER',
  );
  add(
    '-A KUBE-IPVS-SERVICES ! -s 172.16.0.0/12 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
  );
  add('-A KUBE-LOAD-BALANCER -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-FIREWALL-LB');
  add(
    '-A KUBE-LOAD-BALANCER -m comment --comment "Kubernetes service load balancer ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN',
  );
  add('-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ');
  add('-A KUBE-FIREWALL-LB -m set --match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN');
  add('-A KUBE-FIREWALL-LB -j KUBE-MARK-MASQ');

  // iptables-mode Services until the rule target is reached.
  const services = [];
  const svcRules = [];
  const nodeports = [];
  let s = 0;
  const fixed = rules.length + 1; // + the final nodeports rule
  while (fixed + svcRules.length + nodeports.length < TARGET_RULES) {
    const h = hash(s * 7919 + 17);
    const name = `ns${s % 97}/svc${s}:p`;
    const cluster = ip(10, 0x600000 + s); // 10.96.x.x-ish
    const lb = ip(10, 0x010000 + s);
    const port = 80 + (s % 3);
    const eps = 1 + Math.floor(rnd() * 4);
    const local = s % 4 === 0;
    services.push({ lb, port, cluster });
    svcRules.push(
      `-A KUBE-SERVICES -d ${cluster}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${port} -j KUBE-SVC-${h}`,
    );
    svcRules.push(
      `-A KUBE-SERVICES -d ${lb}/32 -p tcp -m comment --comment "${name} loadbalancer IP" -m tcp --dport ${port} -j KUBE-EXT-${h}`,
    );
    chain(`KUBE-SVC-${h}`);
    chain(`KUBE-EXT-${h}`);
    if (local) chain(`KUBE-SVL-${h}`);
    svcRules.push(
      `-A KUBE-SVC-${h} ! -s 172.16.0.0/12 -d ${cluster}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${port} -j KUBE-MARK-MASQ`,
    );
    if (local) {
      svcRules.push(
        `-A KUBE-EXT-${h} -s 172.16.0.0/12 -m comment --comment "pod traffic for ${name} external destinations" -j KUBE-SVC-${h}`,
      );
      svcRules.push(
        `-A KUBE-EXT-${h} -m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`,
      );
      svcRules.push(
        `-A KUBE-EXT-${h} -m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-${h}`,
      );
      svcRules.push(`-A KUBE-EXT-${h} -j KUBE-SVL-${h}`);
    } else {
      svcRules.push(`-A KUBE-EXT-${h} -m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`);
      svcRules.push(`-A KUBE-EXT-${h} -j KUBE-SVC-${h}`);
    }
    for (let e = 0; e < eps; e++) {
      const sep = hash(s * 104729 + e * 31 + 5);
      const epIp = ip(172, 0x100000 + ((s * 4 + e) & 0xfffff));
      chain(`KUBE-SEP-${sep}`);
      const left = eps - e;
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(11)}` : '';
      svcRules.push(`-A KUBE-SVC-${h} -m comment --comment "${name} -> ${epIp}:8080"${stat} -j KUBE-SEP-${sep}`);
      if (local && e === 0) svcRules.push(`-A KUBE-SVL-${h} -m comment --comment "${name} -> ${epIp}:8080" -j KUBE-SEP-${sep}`);
      svcRules.push(`-A KUBE-SEP-${sep} -s ${epIp}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`);
      svcRules.push(`-A KUBE-SEP-${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${epIp}:8080`);
    }
    if (s % 5 === 0)
      nodeports.push(`-A KUBE-NODEPORTS -p tcp -m comment --comment "${name}" -m tcp --dport ${30000 + (s % 2767)} -j KUBE-EXT-${h}`);
    s++;
  }
  for (const r of svcRules) add(r);
  for (const r of nodeports) add(r);
  add(
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  );
  const iptables = `# Generated by iptables-save v1.8.9 (nf_tables) on bench\n*nat\n${chains.join('\n')}\n${rules.join('\n')}\nCOMMIT\n`;

  // ipsets: MEMBERS members spread over the IPVS sets, the largest holding 60%.
  const sets = [];
  const lbN = Math.floor(MEMBERS * 0.6);
  const ciN = Math.floor(MEMBERS * 0.25);
  const loN = Math.floor(MEMBERS * 0.1);
  const cidrN = MEMBERS - lbN - ciN - loN;
  const create = (name, type) =>
    sets.push(`create ${name} ${type} family inet hashsize 65536 maxelem 262144 comment bucketsize 12 initval 0x1234abcd`);
  create('KUBE-LOAD-BALANCER', 'hash:ip,port');
  for (let i = 0; i < lbN; i++)
    sets.push(`add KUBE-LOAD-BALANCER ${ip(10, 0x200000 + i)},tcp:${80 + (i % 3)} comment "Kubernetes service lb portal"`);
  create('KUBE-LOAD-BALANCER-LOCAL', 'hash:ip,port');
  for (let i = 0; i < lbN; i += 4) sets.push(`add KUBE-LOAD-BALANCER-LOCAL ${ip(10, 0x200000 + i)},tcp:${80 + (i % 3)}`);
  create('KUBE-LOAD-BALANCER-FW', 'hash:ip,port');
  for (let i = 0; i < lbN; i += 50) sets.push(`add KUBE-LOAD-BALANCER-FW ${ip(10, 0x200000 + i)},tcp:${80 + (i % 3)}`);
  create('KUBE-CLUSTER-IP', 'hash:ip,port');
  for (let i = 0; i < ciN; i++) sets.push(`add KUBE-CLUSTER-IP ${ip(10, 0x600000 + i)},tcp:${80 + (i % 3)}`);
  create('KUBE-LOOP-BACK', 'hash:ip,port,ip');
  for (let i = 0; i < loN; i++) sets.push(`add KUBE-LOOP-BACK ${ip(172, 0x100000 + i)},tcp:8080,${ip(172, 0x100000 + i)}`);
  create('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net');
  for (let i = 0; i < cidrN; i++)
    sets.push(
      `add KUBE-LOAD-BALANCER-SOURCE-CIDR ${ip(10, 0x200000 + ((i * 50) % lbN))},tcp:${80 + (((i * 50) % lbN) % 3)},192.168.${i & 255}.0/${24 - (i % 8)}`,
    );
  const ipset = sets.join('\n') + '\n';
  const addr = '1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 10.250.0.12/16 brd 10.250.255.255 scope global eth0\n';
  return {
    iptables,
    ipset,
    addr,
    services,
    ruleCount: rules.length,
    memberCount: lbN + Math.ceil(lbN / 4) + Math.ceil(lbN / 50) + ciN + loN + cidrN,
  };
}

function stats(samples) {
  const sorted = samples.slice().sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { median: q(0.5), p99: q(0.99), max: sorted[sorted.length - 1] };
}

const ms = (x) => `${x.toFixed(x < 1 ? 3 : 1)} ms`;

function main() {
  const t0 = performance.now();
  const g = generate();
  const genMs = performance.now() - t0;

  // Parse + index, several runs (first run includes JIT warm-up; report median and first).
  const loads = [];
  let node;
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    node = nf.loadNodeDumps({
      iptablesSave: { text: g.iptables, file: 'bench/iptables-save.txt' },
      ipset: { text: g.ipset, file: 'bench/ipset.txt' },
      addr: { text: g.addr, file: 'bench/addr.txt' },
    });
    loads.push(performance.now() - t);
  }
  if (node.problems.length > 0) {
    console.error(node.problems.slice(0, 5).map(nf.formatProblem).join('\n'));
    process.exit(1);
  }
  // Separate parse costs (median of 3).
  const timeIt = (f) => {
    const xs = [];
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      f();
      xs.push(performance.now() - t);
    }
    return stats(xs).median;
  };
  const parseIpt = timeIt(() => nf.parseIptablesSave(g.iptables, 'x'));
  const parseSet = timeIt(() => nf.parseIpset(g.ipset, 'x'));

  // Traces: pods to random LB IPs (iptables-mode services, DNAT with statistic branches),
  // to IPVS-set LB IPs (set lookups in 30k-member sets), and destinations no rule names
  // (every wildcard rule is still evaluated; the per-destination index skips the rest).
  const packets = [];
  for (let i = 0; i < TRACES; i++) {
    const kind = i % 3;
    if (kind === 0) {
      const s = g.services[Math.floor(rnd() * g.services.length)];
      packets.push({ src: '172.16.1.5', dst: s.lb, dport: s.port });
    } else if (kind === 1) {
      const k = Math.floor(rnd() * Math.floor(MEMBERS * 0.6));
      packets.push({ src: '172.16.1.5', dst: ip(10, 0x200000 + k), dport: 80 + (k % 3) });
    } else {
      packets.push({ src: '172.16.1.5', dst: ip(10, 0x700000 + i), dport: 443 });
    }
  }
  for (let i = 0; i < 200; i++) nf.traceLbPacket(node, packets[i % packets.length]); // warm-up
  const samples = [];
  const worst = [];
  let checksum = 0;
  for (let i = 0; i < packets.length; i++) {
    const t = performance.now();
    const r = nf.traceLbPacket(node, packets[i]);
    const d = performance.now() - t;
    samples.push(d);
    if (i % 3 === 2) worst.push(d);
    checksum += r.outcomes.length + (r.snat ? 1 : 0);
  }
  const all = stats(samples);
  const w = stats(worst);
  const sorted = loads.slice().sort((a, b) => a - b);

  const rows = [
    ['dump', `${g.ruleCount} nat rules, ${g.services.length} Services; ipsets with ${g.memberCount} members`],
    ['generate (not measured below)', ms(genMs)],
    ['parse iptables-save', ms(parseIpt)],
    ['parse ipset save', ms(parseSet)],
    ['loadNodeDumps (parse + index), first run', ms(loads[0])],
    ['loadNodeDumps (parse + index), median of 5', ms(sorted[2])],
    [`trace, ${TRACES} packets: median`, ms(all.median)],
    [`trace, ${TRACES} packets: p99`, ms(all.p99)],
    [`trace, ${TRACES} packets: max`, ms(all.max)],
    ['trace, destination no rule names: median / p99', `${ms(w.median)} / ${ms(w.p99)}`],
    ['targets', 'parse + index < 1 s; one trace < 1 ms'],
  ];
  console.log(`\nnetfilter benchmark (node ${process.version}, ${require('node:os').cpus().length} CPUs)\n`);
  console.log('| measure | value |');
  console.log('| --- | --- |');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log(`\n(checksum ${checksum})`);
  const ok = sorted[2] < 1000 && all.p99 < 1;
  if (!ok) console.log('\nWARNING: a target was missed');
}

main();
