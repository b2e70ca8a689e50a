/**
 * kube-proxy's nftables mode, traced from a ruleset the kernel printed back
 * (`nft -a list ruleset` and `nft -j list ruleset` after loading upstream's
 * TestOverallNFTablesRules transaction): text and JSON must say the same.
 */

import { loadNodeDumps, type NodeEvidence, type TraceResult, traceLbPacket } from '../../src/netfilter';
import { parseNft } from '../../src/netfilter/nftables';
import { fixture } from './fixtures';

const testNodeIP = '192.168.0.2';
const testExternalClient = '203.0.113.2';
const testExternalClientBlocked = '203.0.113.130';

const addr =
  ['1: lo    inet 127.0.0.1/8 scope host lo', '2: eth0    inet 192.168.0.2/24 brd 192.168.0.255 scope global eth0'].join('\n') + '\n';

function nodeFrom(kind: 'text' | 'json'): NodeEvidence {
  const file =
    kind === 'json' ? 'upstream-kube-proxy/TestOverallNFTablesRules.nft.json' : 'upstream-kube-proxy/TestOverallNFTablesRules.nft-list.txt';
  return loadNodeDumps({ [kind === 'json' ? 'nftJson' : 'nftText']: fixture(file), addr: { text: addr, file: 'addr.txt' } });
}

/** Upstream's packetFlowTest output: DNAT destinations, or DROP/REJECT, over every outcome. */
function upstreamOutput(r: TraceResult): string {
  const out = new Set<string>();
  for (const o of r.outcomes) {
    if (o.delivery === 'dropped') out.add(/\breject\b/.test(o.droppedBy?.text ?? '') ? 'REJECT' : 'DROP');
    else if (o.dnat) out.add(o.dnat);
  }
  return [...out].sort().join(', ');
}

interface Case {
  name: string;
  sourceIP: string;
  destIP: string;
  destPort: number;
  output: string;
  masq?: boolean;
}

// Upstream's packet-flow cases for these Services (TestTracePacket's, which the nftables
// tests repeat per feature), plus the source-range cases of TestLoadBalancer for svc5.
const cases: Case[] = [
  { name: 'no match', sourceIP: '10.0.0.2', destIP: '10.0.0.3', destPort: 80, output: '' },
  { name: 'single endpoint', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80' },
  { name: 'multiple endpoints', sourceIP: '10.0.0.2', destIP: '172.30.0.44', destPort: 80, output: '10.180.0.4:80, 10.180.0.5:80' },
  { name: 'LOCAL, KUBE-MARK-MASQ', sourceIP: testNodeIP, destIP: '192.168.99.22', destPort: 80, output: '10.180.0.2:80', masq: true },
  { name: 'DROP', sourceIP: testExternalClient, destIP: '192.168.99.22', destPort: 80, output: 'DROP' },
  { name: 'REJECT', sourceIP: '10.0.0.2', destIP: '172.30.0.46', destPort: 80, output: 'REJECT' },
  { name: 'pod to cluster IP, masquerade-free', sourceIP: '10.0.0.2', destIP: '172.30.0.45', destPort: 80, output: '10.180.0.3:80' },
  {
    name: 'external to LB IP, allowed source',
    sourceIP: testExternalClient,
    destIP: '5.6.7.8',
    destPort: 80,
    output: '10.180.0.3:80',
    masq: true,
  },
  { name: 'external to LB IP, blocked source', sourceIP: testExternalClientBlocked, destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
  { name: 'external to NodePort', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3003, output: '10.180.0.3:80', masq: true },
  {
    name: 'external to NodePort of a Local service without local endpoints',
    sourceIP: testExternalClient,
    destIP: testNodeIP,
    destPort: 3001,
    output: 'DROP',
  },
];

describe.each(['text', 'json'] as const)('nftables ruleset dumped from the kernel, as %s', (kind) => {
  const node = nodeFrom(kind);

  it('parses with no problem', () => {
    expect(node.problems).toEqual([]);
    expect(node.nft?.tables.map((t) => `${t.family} ${t.name}`)).toEqual(['ip kube-proxy']);
  });

  it.each(cases)('$name', (tc) => {
    const hook = tc.sourceIP === testNodeIP ? 'OUTPUT' : 'PREROUTING';
    const r = traceLbPacket(node, { src: tc.sourceIP, dst: tc.destIP, dport: tc.destPort, hook, filter: true });
    expect(upstreamOutput(r)).toBe(tc.output);
    expect(r.outcomes.filter((o) => o.delivery !== 'dropped').every((o) => o.snat === (tc.masq ?? false))).toBe(true);
    expect(r.reasons).toEqual([]);
  });

  it('walks base chains by priority: filter-prerouting-pre-dnat (-110) before nat-prerouting (-100)', () => {
    const r = traceLbPacket(node, { src: '10.0.0.2', dst: '172.30.0.41', dport: 80, filter: true });
    expect(r.rules.slice(0, 2).map((m) => m.chain)).toEqual(['filter-prerouting-pre-dnat', 'nat-prerouting']);
    expect(r.rules[0]).toEqual(expect.objectContaining({ family: 'ip', table: 'kube-proxy', handle: 43 }));
  });

  it('forks numgen random mod 2 into two ways of one half each', () => {
    const r = traceLbPacket(node, { src: '10.0.0.2', dst: '172.30.0.44', dport: 80 });
    expect(r.outcomes.map((o) => [o.dnat, o.probability]).sort()).toEqual([
      ['10.180.0.4:80', 0.5],
      ['10.180.0.5:80', 0.5],
    ]);
  });

  // The seed's case on an nftables node.
  it('a VIP-mode LB IP is captured by the service-ips map and the "short-circuit pod traffic" rule, without SNAT', () => {
    const r = traceLbPacket(node, { src: '10.0.0.2', dst: '1.2.3.4', dport: 80 });
    expect(r).toEqual(expect.objectContaining({ captured: true, how: 'dnat', dnat: '10.180.0.2:80', snat: false, uncertain: false }));
    const texts = r.rules.map((m) => m.text);
    expect(texts.some((t) => /vmap @service-ips/.test(t))).toBe(true);
    expect(texts.some((t) => /short-circuit pod traffic/.test(t))).toBe(true);
  });

  it('an ipMode: Proxy LB IP (no element in service-ips) is not captured and leaves without SNAT', () => {
    const r = traceLbPacket(node, { src: '10.0.0.2', dst: '9.10.11.12', dport: 80 });
    expect(r).toEqual(
      expect.objectContaining({ captured: false, how: 'none', dnat: null, snat: false, uncertain: false, delivery: 'forward' }),
    );
  });
});

// TestNoEndpointsReject's packetFlowTest table (pkg/proxy/nftables/proxier_test.go), verbatim,
// on its ruleset as the kernel lists it. testNodeIPs hold the node and the external IP.
describe.each(['text', 'json'] as const)("upstream's TestNoEndpointsReject, as %s", (kind) => {
  const file =
    kind === 'json' ? 'upstream-kube-proxy/TestNoEndpointsReject.nft.json' : 'upstream-kube-proxy/TestNoEndpointsReject.nft-list.txt';
  const nodeAddr =
    [
      '2: eth0    inet 192.168.0.2/24 scope global eth0',
      '3: eth1    inet 192.168.1.2/24 scope global eth1',
      '2: eth0    inet 192.168.99.11/24 scope global eth0',
    ].join('\n') + '\n';
  const node = loadNodeDumps({ [kind === 'json' ? 'nftJson' : 'nftText']: fixture(file), addr: { text: nodeAddr, file: 'addr.txt' } });
  const svcIP = '172.30.0.41';
  const svcPort = 80;
  const svcNodePort = 3001;
  const svcExternalIPs = '192.168.99.11';
  const svcLBIP = '1.2.3.4';
  const flows: Case[] = [
    { name: 'pod to cluster IP with no endpoints', sourceIP: '10.0.0.2', destIP: svcIP, destPort: svcPort, output: 'REJECT' },
    {
      name: 'external to external IP with no endpoints',
      sourceIP: testExternalClient,
      destIP: svcExternalIPs,
      destPort: svcPort,
      output: 'REJECT',
    },
    { name: 'pod to NodePort with no endpoints', sourceIP: '10.0.0.2', destIP: testNodeIP, destPort: svcNodePort, output: 'REJECT' },
    {
      name: 'external to NodePort with no endpoints',
      sourceIP: testExternalClient,
      destIP: testNodeIP,
      destPort: svcNodePort,
      output: 'REJECT',
    },
    { name: 'pod to LoadBalancer IP with no endpoints', sourceIP: '10.0.0.2', destIP: svcLBIP, destPort: svcPort, output: 'REJECT' },
    {
      name: 'external to LoadBalancer IP with no endpoints',
      sourceIP: testExternalClient,
      destIP: svcLBIP,
      destPort: svcPort,
      output: 'REJECT',
    },
  ];
  it('parses with no problem', () => expect(node.problems).toEqual([]));
  it.each(flows)('$name', (tc) => {
    const r = traceLbPacket(node, { src: tc.sourceIP, dst: tc.destIP, dport: tc.destPort, filter: true });
    expect(upstreamOutput(r)).toBe(tc.output);
    expect(r.uncertain).toBe(false);
  });
});

describe('a node with both iptables rules and an nftables table', () => {
  it('runs the base chains of both, hook by hook, by priority', () => {
    const iptables = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':INPUT ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':POSTROUTING ACCEPT [0:0]',
      '-A PREROUTING -d 10.9.9.9/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.8.0.1:8080',
      'COMMIT',
      '',
    ].join('\n');
    const nft = [
      'table inet early {',
      '\tchain pre { type filter hook prerouting priority -150; policy accept;',
      '\t\tcounter meta mark set 0x1',
      '\t}',
      '\tchain late { type nat hook postrouting priority 200; policy accept;',
      '\t\tmeta mark 0x1 masquerade',
      '\t}',
      '}',
      '',
    ].join('\n');
    const node = loadNodeDumps({
      iptablesSave: { text: iptables, file: 'iptables-save.txt' },
      nftText: { text: nft, file: 'nft.txt' },
      addr: { text: '2: eth0    inet 10.1.0.1/16 scope global eth0\n', file: 'addr.txt' },
    });
    expect(node.problems).toEqual([]);
    const r = traceLbPacket(node, { src: '10.1.2.3', dst: '10.9.9.9', dport: 80, filter: true });
    // inet early pre (-150) marks, iptables nat PREROUTING (-100) DNATs, inet early late (200) masquerades on the mark.
    expect(r.rules.map((m) => `${m.family ?? 'iptables'} ${m.table} ${m.chain}`)).toEqual([
      'inet early pre',
      'iptables nat PREROUTING',
      'inet early late',
    ]);
    expect(r).toEqual(expect.objectContaining({ dnat: '10.8.0.1:8080', snat: true, snatTarget: 'MASQUERADE', uncertain: false }));
  });
});

describe('an iptables-nft node: its nat table in iptables-save and again in `nft list ruleset`', () => {
  // What iptables-nft writes shows up in both dumps (the collectors take both on such a node).
  const iptables = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    '-A PREROUTING -j KUBE-SERVICES',
    '-A KUBE-SERVICES -d 10.9.9.9/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.8.0.1:8080',
    'COMMIT',
    '',
  ].join('\n');
  const nft = [
    'table ip nat {',
    '\tchain KUBE-SERVICES {',
    '\t\tip daddr 10.9.9.9 tcp dport 80 counter packets 0 bytes 0 dnat to 10.8.0.1:8080',
    '\t\txt match set counter packets 0 bytes 0 jump KUBE-LOAD-BALANCER',
    '\t}',
    '\tchain PREROUTING {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tcounter packets 0 bytes 0 jump KUBE-SERVICES',
    '\t}',
    '}',
    // Another nat chain of the hook that would match the translated packet.
    'table ip other {',
    '\tchain pre {',
    '\t\ttype nat hook prerouting priority 0; policy accept;',
    '\t\ttcp dport 8080 dnat to 10.8.0.2:8080',
    '\t}',
    '}',
    '',
  ].join('\n');

  it('translates the connection once: the nat chains after the one that did are skipped, as in the kernel', () => {
    const node = loadNodeDumps({
      iptablesSave: { text: iptables, file: 'iptables-save.txt' },
      nftText: { text: nft, file: 'nft.txt' },
      addr: { text: '2: eth0    inet 10.1.0.1/16 scope global eth0\n', file: 'addr.txt' },
    });
    expect(node.problems).toEqual([]);
    const r = traceLbPacket(node, { src: '10.1.2.3', dst: '10.9.9.9', dport: 80 });
    expect(r.rules.map((m) => `${m.family ?? 'iptables'} ${m.table} ${m.chain}`)).toEqual([
      'iptables nat PREROUTING',
      'iptables nat KUBE-SERVICES',
    ]);
    expect(r).toEqual(expect.objectContaining({ dnat: '10.8.0.1:8080', uncertain: false }));
    // The copy's `xt` matches (which nft cannot print) neither warn nor make a trace uncertain.
    expect(node.nftTablesReadFromIptables).toEqual(['ip nat']);
    expect(r.notes).toContain("ip nat in nft.txt is iptables-nft's, traced once from iptables-save.txt");
    const missed = traceLbPacket(node, { src: '10.1.2.3', dst: '10.6.6.6', dport: 80 });
    expect(missed).toEqual(expect.objectContaining({ uncertain: false, reasons: [] }));
  });

  it('the same from `nft -j list ruleset`: the copy and its findings are left out', () => {
    const json = JSON.stringify({
      nftables: [
        { table: { family: 'ip', name: 'nat', handle: 1 } },
        {
          chain: {
            family: 'ip',
            table: 'nat',
            name: 'PREROUTING',
            handle: 2,
            type: 'nat',
            hook: 'prerouting',
            prio: -100,
            policy: 'accept',
          },
        },
        {
          rule: {
            family: 'ip',
            table: 'nat',
            chain: 'PREROUTING',
            handle: 3,
            expr: [{ xt: { type: 'match', name: 'set' } }, { accept: null }],
          },
        },
      ],
    });
    const node = loadNodeDumps({
      iptablesSave: { text: iptables, file: 'i' },
      nftJson: { text: json, file: 'nft.json' },
      addr: { text: '2: eth0    inet 10.1.0.1/16 scope global eth0\n', file: 'addr.txt' },
    });
    expect(node.problems).toEqual([]);
    expect(node.nftTablesReadFromIptables).toEqual(['ip nat']);
    expect(traceLbPacket(node, { src: '10.1.2.3', dst: '10.9.9.9', dport: 80 })).toEqual(
      expect.objectContaining({ dnat: '10.8.0.1:8080', uncertain: false }),
    );
  });

  it('beside a legacy iptables-save, an nft table named nat is another table, and is traced', () => {
    const legacy = `# Generated by iptables-save v1.8.9 (legacy) on Wed Dec  2 15:00:00 2026\n${iptables}`;
    const node = loadNodeDumps({ iptablesSave: { text: legacy, file: 'i' }, nftText: { text: nft, file: 'n' } });
    expect(node.nftTablesReadFromIptables).toEqual([]);
    expect(node.problems.map((p) => p.message)).toEqual([expect.stringContaining('"xt" is not an expression loopscope reads')]);
    expect(traceLbPacket(node, { src: '10.1.2.3', dst: '10.6.6.6', dport: 80 }).uncertain).toBe(true);
  });

  it('a packet the first copy does not translate still meets the later nat chains', () => {
    const node = loadNodeDumps({ iptablesSave: { text: iptables, file: 'i' }, nftText: { text: nft, file: 'n' } });
    const r = traceLbPacket(node, { src: '10.1.2.3', dst: '10.7.7.7', dport: 8080 });
    expect(r.dnat).toBe('10.8.0.2:8080');
  });
});

describe('nftables parser', () => {
  it('reads a hand-written ruleset: inet table, intervals, concatenated interval keys, anonymous sets, drop policy, unknowns', () => {
    const text = `table inet fw {
	set allowed { type ipv4_addr . inet_service ; flags interval ; elements = { 10.1.0.0/16 . 8000-8080, 192.168.5.5 . 22 } }
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ip saddr . tcp dport @allowed counter packets 3 bytes 120 accept comment "allowed"
		meta l4proto { tcp, udp } th dport 53 accept
		limit rate 10/second log prefix "x" accept
	}
	chain pre {
		type nat hook prerouting priority dstnat + 5; policy accept;
		iifname "eth*" ip daddr 10.9.0.1 tcp dport 80 dnat ip to 10.9.1.1:8080
	}
}
`;
    const { value, problems } = parseNft(text, 'fw.txt');
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('"limit" is not an expression loopscope reads')]);
    const node = loadNodeDumps({
      nftText: { text, file: 'fw.txt' },
      addr: { text: '2: eth0    inet 10.1.0.1/16 scope global eth0\n', file: 'addr.txt' },
    });
    expect(value.tables[0]?.chains.get('pre')?.base).toEqual({ type: 'nat', hook: 'prerouting', priority: -95, policy: 'accept' });
    const allowed = traceLbPacket(node, { src: '10.1.2.3', dst: '10.1.0.1', dport: 8042, filter: true });
    expect(allowed).toEqual(expect.objectContaining({ delivery: 'local', uncertain: false }));
    expect(allowed.rules.map((r) => r.ruleNumber)).toEqual([2]);
    const dropped = traceLbPacket(node, { src: '10.1.2.3', dst: '10.1.0.1', dport: 9000, filter: true });
    expect(dropped.delivery).toBe('dropped');
    expect(dropped.droppedBy?.text).toBe('policy drop');
    // The rule with `limit` is kept, marked and makes the trace uncertain, with the reason.
    expect(dropped.uncertain).toBe(true);
    expect(dropped.reasons.join('\n')).toMatch(/inet fw input rule 4 .*limit.*assumed the rule does not match/);
    const dns = traceLbPacket(node, { src: '10.1.2.3', dst: '10.1.0.1', dport: 53, proto: 'udp', filter: true });
    expect(dns.delivery).toBe('local');
    // iifname needs the packet's interface: uncertain without it, DNAT with it.
    const noIf = traceLbPacket(node, { src: '10.1.2.3', dst: '10.9.0.1', dport: 80 });
    expect(noIf.dnat).toBeNull();
    expect(noIf.reasons.join()).toMatch(/input interface is not known/);
    const withIf = traceLbPacket(node, { src: '10.1.2.3', dst: '10.9.0.1', dport: 80, inInterface: 'eth0' });
    expect(withIf.dnat).toBe('10.9.1.1:8080');
  });

  it('reports what it cannot read, with file and line, and never throws', () => {
    const { value, problems } = parseNft(
      'table ip t {\n chain c {\n  ip daddr 10.0.0.1 frobnicate 7 accept\n }\n}\nbogus line\n}\n',
      'bad.txt',
    );
    expect(value.tables[0]?.chains.get('c')?.rules[0]?.statements).toEqual([
      expect.objectContaining({ kind: 'match' }),
      expect.objectContaining({ kind: 'unknown', text: 'frobnicate 7 accept' }),
    ]);
    expect(problems.map((p) => `${p.file}:${p.line}`)).toEqual(['bad.txt:6', 'bad.txt:7', 'bad.txt:3']);
    expect(
      parseNft('{"nftables": [{"rule": {"family": "ip", "table": "x", "chain": "y", "expr": []}}]}', 'j.json').problems[0]?.message,
    ).toMatch(/does not list first/);
    expect(parseNft('{"nftables": 3', 'j.json').problems[0]?.message).toMatch(/^not JSON/);
  });
});
