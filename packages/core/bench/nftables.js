#!/usr/bin/env node
/**
 * Benchmark of nftables evidence: a kube-proxy nftables-mode ruleset of
 * 10,000 Services (as `nft -j list ruleset` and `nft -a list ruleset` print
 * it), parsed and indexed, then traced. Build first:
 *   cd packages/core && npx tsc -p tsconfig.build.json && node bench/nftables.js
 *
 * The floor is JSON.parse of the same JSON document, measured in the same
 * run: parse + index is reported as a ratio to it, so a slower machine moves
 * both. Options: --services N (default 10000), --traces N (default 1000).
 */
'use strict';

const path = require('node:path');

let nf;
try {
  nf = require(path.join(__dirname, '..', 'dist', 'netfilter', 'index.js'));
} catch {
  console.error('bench/nftables.js: dist/netfilter/index.js not found; build first: npx tsc -p tsconfig.build.json');
  process.exit(1);
}

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SERVICES = arg('services', 10000);
const TRACES = arg('traces', 1000);

let seed = 0x5eed;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 4294967296;
};
const ip = (a, n) => `${a}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const hash = (n) => n.toString(36).toUpperCase().padStart(8, 'X').slice(-8);

/** The ruleset kube-proxy writes (pkg/proxy/nftables/proxier.go), as nft -j prints it back. */
function generate() {
  const T = { family: 'ip', table: 'kube-proxy' };
  const out = [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }, { table: { family: 'ip', name: 'kube-proxy', handle: 1 } }];
  let handle = 2;
  const chains = [];
  const rules = [];
  const chain = (name, base) => chains.push({ chain: { ...T, name, handle: handle++, ...(base ?? {}) } });
  const rule = (chainName, expr, comment) =>
    rules.push({ rule: { ...T, chain: chainName, handle: handle++, ...(comment ? { comment } : {}), expr } });
  const daddr = { payload: { protocol: 'ip', field: 'daddr' } };
  const saddr = { payload: { protocol: 'ip', field: 'saddr' } };
  const key3 = { concat: [daddr, { meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] };
  const jump = (t) => ({ jump: { target: t } });
  const goto = (t) => ({ goto: { target: t } });
  const ctNew = { match: { op: 'in', left: { ct: { key: 'state' } }, right: 'new' } };
  const base = (type, hook, prio) => ({ type, hook, prio, policy: 'accept' });

  chain('filter-prerouting-pre-dnat', base('filter', 'prerouting', -110));
  chain('filter-forward', base('filter', 'forward', 0));
  chain('filter-input', base('filter', 'input', 0));
  chain('filter-output', base('filter', 'output', 0));
  chain('nat-prerouting', base('nat', 'prerouting', -100));
  chain('nat-output', base('nat', 'output', -100));
  chain('nat-postrouting', base('nat', 'postrouting', 100));
  for (const c of [
    'firewall-check',
    'mark-for-masquerade',
    'masquerading',
    'services',
    'service-endpoints-check',
    'nodeport-endpoints-check',
    'cluster-ips-check',
    'reject-chain',
  ])
    chain(c);
  rule('filter-prerouting-pre-dnat', [ctNew, jump('firewall-check')]);
  rule('filter-forward', [ctNew, jump('service-endpoints-check')]);
  rule('filter-forward', [ctNew, jump('cluster-ips-check')]);
  rule('filter-input', [ctNew, jump('nodeport-endpoints-check')]);
  rule('filter-input', [ctNew, jump('service-endpoints-check')]);
  rule('filter-output', [ctNew, jump('service-endpoints-check')]);
  rule('filter-output', [ctNew, jump('cluster-ips-check')]);
  rule('firewall-check', [{ vmap: { key: key3, data: '@firewall-ips' } }]);
  rule('mark-for-masquerade', [{ mangle: { key: { meta: { key: 'mark' } }, value: { '|': [{ meta: { key: 'mark' } }, 16384] } } }]);
  rule('masquerading', [{ match: { op: '==', left: { '&': [{ meta: { key: 'mark' } }, 16384] }, right: 0 } }, { return: null }]);
  rule('masquerading', [{ mangle: { key: { meta: { key: 'mark' } }, value: { '^': [{ meta: { key: 'mark' } }, 16384] } } }]);
  rule('masquerading', [{ masquerade: { flags: 'fully-random' } }]);
  rule('nat-prerouting', [jump('services')]);
  rule('nat-output', [jump('services')]);
  rule('nat-postrouting', [jump('masquerading')]);
  rule('services', [{ vmap: { key: key3, data: '@service-ips' } }]);
  rule('services', [
    { match: { op: '==', left: daddr, right: '@nodeport-ips' } },
    {
      vmap: {
        key: { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] },
        data: '@service-nodeports',
      },
    },
  ]);
  rule('service-endpoints-check', [{ vmap: { key: key3, data: '@no-endpoint-services' } }]);
  rule('nodeport-endpoints-check', [
    { match: { op: '==', left: daddr, right: '@nodeport-ips' } },
    {
      vmap: {
        key: { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] },
        data: '@no-endpoint-nodeports',
      },
    },
  ]);
  rule('cluster-ips-check', [
    { match: { op: '==', left: daddr, right: '@cluster-ips' } },
    { reject: { type: 'icmp', expr: 'port-unreachable' } },
  ]);
  rule('cluster-ips-check', [
    { match: { op: '==', left: daddr, right: { set: [{ prefix: { addr: '172.30.0.0', len: 16 } }] } } },
    { drop: null },
  ]);
  rule('reject-chain', [{ reject: { type: 'icmp', expr: 'port-unreachable' } }]);

  const clusterIps = [];
  const serviceIps = [];
  const nodeports = [];
  const services = [];
  for (let s = 0; s < SERVICES; s++) {
    const id = `${hash(s * 7919 + 17)}-ns${s % 97}/svc${s}/tcp/p80`;
    const cip = ip(172, 0x1e0000 + s); // 172.30.x.x
    const lb = s % 3 === 0 ? ip(10, 0x010000 + s) : null;
    const port = 80 + (s % 3);
    const eps = rnd() < 0.8 ? 1 : 2;
    const svc = `service-${id}`;
    chain(svc);
    rule(svc, [
      { match: { op: '==', left: daddr, right: cip } },
      { match: { op: '!=', left: saddr, right: { prefix: { addr: '10.0.0.0', len: 8 } } } },
      jump('mark-for-masquerade'),
    ]);
    const ways = [];
    for (let e = 0; e < eps; e++) {
      const epIp = ip(10, 0x800000 + s * 2 + e);
      const ep = `endpoint-${hash(s * 104729 + e)}-ns${s % 97}/svc${s}/tcp/p80__${epIp}/8080`;
      chain(ep);
      rule(ep, [{ match: { op: '==', left: saddr, right: epIp } }, jump('mark-for-masquerade')]);
      rule(ep, [{ match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } }, { dnat: { addr: epIp, port: 8080 } }]);
      ways.push([e, goto(ep)]);
    }
    rule(svc, [{ vmap: { key: { numgen: { mode: 'random', mod: eps, offset: 0 } }, data: { set: ways } } }]);
    clusterIps.push(cip);
    serviceIps.push([{ concat: [cip, 'tcp', port] }, goto(svc)]);
    if (lb) {
      const ext = `external-${id}`;
      chain(ext);
      rule(
        ext,
        [{ match: { op: '==', left: saddr, right: { prefix: { addr: '10.0.0.0', len: 8 } } } }, goto(svc)],
        'short-circuit pod traffic',
      );
      rule(
        ext,
        [{ match: { op: '==', left: { fib: { result: 'type', flags: ['saddr'] } }, right: 'local' } }, jump('mark-for-masquerade')],
        'masquerade local traffic',
      );
      rule(
        ext,
        [{ match: { op: '==', left: { fib: { result: 'type', flags: ['saddr'] } }, right: 'local' } }, goto(svc)],
        'short-circuit local traffic',
      );
      serviceIps.push([{ concat: [lb, 'tcp', port] }, goto(ext)]);
      nodeports.push([{ concat: ['tcp', 30000 + (s % 2767)] }, goto(ext)]);
    }
    services.push({ cip, lb, port });
  }
  const set = (name, type, elem, map) => ({
    [map ? 'map' : 'set']: { ...T, name, type, handle: handle++, ...(map ? { map: 'verdict' } : {}), ...(elem.length ? { elem } : {}) },
  });
  const sets = [
    set('cluster-ips', 'ipv4_addr', clusterIps),
    set('nodeport-ips', 'ipv4_addr', ['10.250.0.12']),
    set('firewall-ips', ['ipv4_addr', 'inet_proto', 'inet_service'], [], true),
    set('no-endpoint-nodeports', ['inet_proto', 'inet_service'], [], true),
    set('no-endpoint-services', ['ipv4_addr', 'inet_proto', 'inet_service'], [], true),
    set('service-ips', ['ipv4_addr', 'inet_proto', 'inet_service'], serviceIps, true),
    set('service-nodeports', ['inet_proto', 'inet_service'], nodeports, true),
  ];
  const doc = { nftables: [...out, ...sets, ...chains, ...rules] };
  return {
    json: JSON.stringify(doc),
    services,
    ruleCount: rules.length,
    elementCount: clusterIps.length + serviceIps.length + nodeports.length,
  };
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function p99(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))];
}
const ms = (x) => `${x.toFixed(x < 1 ? 3 : 1)} ms`;

function main() {
  const g = generate();
  const addr = {
    text: '1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 10.250.0.12/16 scope global eth0\n',
    file: 'bench/addr.txt',
  };
  const floor = [];
  const loads = [];
  let node;
  for (let k = 0; k < 5; k++) {
    let t = performance.now();
    JSON.parse(g.json);
    floor.push(performance.now() - t);
    t = performance.now();
    node = nf.loadNodeDumps({ nftJson: { text: g.json, file: 'bench/nft.json' }, addr });
    loads.push(performance.now() - t);
  }
  if (node.problems.length > 0) {
    console.error(node.problems.slice(0, 5).map(nf.formatDumpProblem).join('\n'));
    process.exit(1);
  }
  const packets = [];
  for (let i = 0; i < TRACES; i++) {
    const s = g.services[Math.floor(rnd() * g.services.length)];
    if (i % 3 === 0 && s.lb) packets.push({ src: '10.0.1.5', dst: s.lb, dport: s.port });
    else if (i % 3 === 1) packets.push({ src: '10.0.1.5', dst: s.cip, dport: s.port, filter: true });
    else packets.push({ src: '10.0.1.5', dst: ip(192, 0xa80000 + i), dport: 443 });
  }
  for (let i = 0; i < 200; i++) nf.traceLbPacket(node, packets[i % packets.length]);
  const samples = [];
  let captured = 0;
  for (const p of packets) {
    const t = performance.now();
    const r = nf.traceLbPacket(node, p);
    samples.push(performance.now() - t);
    if (r.captured) captured++;
  }
  const load = median(loads);
  const rows = [
    [
      'ruleset',
      `${SERVICES} Services: ${g.ruleCount} rules, ${g.elementCount} set and map elements, ${(g.json.length / 1048576).toFixed(1)} MiB of nft -j JSON`,
    ],
    ['floor: JSON.parse of the same document, median of 5', ms(median(floor))],
    ['loadNodeDumps (parse + index), median of 5', `${ms(load)} = ${(load / median(floor)).toFixed(1)}× the floor`],
    [
      `trace, ${TRACES} packets (LB IPs, ClusterIPs with --filter, no Service): median / p99`,
      `${ms(median(samples))} / ${ms(p99(samples))}`,
    ],
    ['targets', 'parse + index < 1 s; one trace < 1 ms'],
  ];
  console.log(`\nnftables benchmark (node ${process.version}, ${require('node:os').cpus().length} CPUs)\n`);
  console.log('| measure | value |');
  console.log('| --- | --- |');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log(`\n(captured ${captured} of ${packets.length})`);
  if (!(load < 1000 && p99(samples) < 1)) console.log('\nWARNING: a target was missed');
}

main();
