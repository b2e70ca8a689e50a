/**
 * Conformance with upstream kube-proxy: the rules and packet-flow cases of
 * `TestTracePacket` (kubernetes/kubernetes pkg/proxy/iptables/proxier_test.go,
 * Apache-2.0), traced the way the kernel runs them. Upstream's tracer reports
 * the DNAT destinations (all statistic branches, comma-joined), or the filter
 * verdict (ACCEPT, DROP, REJECT), and whether the packet was marked for
 * masquerade; our trace must say the same, and be certain about it.
 */

import { loadNodeDumps, type TraceResult, traceLbPacket } from '../../src/netfilter';
import { fixture } from './fixtures';

// Upstream's conventions for NewFakeProxier (same file).
const testNodeIP = '192.168.0.2';
const testNodeIPAlt = '192.168.1.2';
const testExternalIP = '192.168.99.11';
const testNodeIPv6 = '2001:db8::1';
const testNodeIPv6Alt = '2001:db8:1::2';
const testExternalClient = '203.0.113.2';
const testNodeIPs = [testNodeIP, testNodeIPAlt, testExternalIP, testNodeIPv6, testNodeIPv6Alt];

interface PacketFlowTest {
  name: string;
  sourceIP: string;
  destIP: string;
  destPort: number;
  output: string;
  masq?: boolean;
}

// The cases of TestTracePacket, verbatim.
const cases: PacketFlowTest[] = [
  { name: 'no match', sourceIP: '10.0.0.2', destIP: '10.0.0.3', destPort: 80, output: '' },
  { name: 'single endpoint', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80' },
  { name: 'multiple endpoints', sourceIP: '10.0.0.2', destIP: '172.30.0.44', destPort: 80, output: '10.180.0.4:80, 10.180.0.5:80' },
  { name: 'LOCAL, KUBE-MARK-MASQ', sourceIP: testNodeIP, destIP: '192.168.99.22', destPort: 80, output: '10.180.0.2:80', masq: true },
  { name: 'DROP', sourceIP: testExternalClient, destIP: '192.168.99.22', destPort: 80, output: 'DROP' },
  { name: 'ACCEPT (NodePortHealthCheck)', sourceIP: testNodeIP, destIP: testNodeIP, destPort: 30000, output: 'ACCEPT' },
  { name: 'REJECT', sourceIP: '10.0.0.2', destIP: '172.30.0.46', destPort: 80, output: 'REJECT' },
];

// The node's interfaces holding upstream's node IPs, as `ip -o addr` prints them.
const addr = [
  '1: lo    inet 127.0.0.1/8 scope host lo',
  '2: eth0    inet 192.168.0.2/24 brd 192.168.0.255 scope global eth0',
  '2: eth0    inet 192.168.99.11/32 scope global eth0',
  '3: eth1    inet 192.168.1.2/24 brd 192.168.1.255 scope global eth1',
  '2: eth0    inet6 2001:db8::1/64 scope global',
  '3: eth1    inet6 2001:db8:1::2/64 scope global',
].join('\n');

const node = loadNodeDumps({
  iptablesSave: fixture('upstream-kube-proxy/TestTracePacket.iptables'),
  addr: { text: addr + '\n', file: 'addr.txt' },
});

/** Upstream's `output`: DNAT destinations, or the filter verdict, of every outcome. */
function upstreamOutput(r: TraceResult): string {
  const outputs = new Set<string>();
  for (const o of r.outcomes) {
    if (o.delivery === 'dropped') outputs.add(/ -j REJECT\b/.test(o.droppedBy?.text ?? '') ? 'REJECT' : 'DROP');
    else if (o.dnat) outputs.add(o.dnat);
    else if (o.rules.some((m) => m.table === 'filter' && / -j ACCEPT$/.test(m.text))) outputs.add('ACCEPT');
  }
  return [...outputs].sort().join(', ');
}

describe("upstream kube-proxy's TestTracePacket", () => {
  it('parses the rules as upstream writes them: only the restore-style "-" policies are worth a word', () => {
    expect(node.problems.map((p) => p.message.replace(/chain \S+/, 'chain X'))).toEqual(
      Array(7).fill('built-in chain X has no policy ("-", as in iptables-restore input); assumed ACCEPT'),
    );
  });

  it.each(cases)('$name', (tc) => {
    // A packet from one of the node's own addresses is a host process's: it enters at OUTPUT.
    const hook = testNodeIPs.includes(tc.sourceIP) ? 'OUTPUT' : 'PREROUTING';
    const r = traceLbPacket(node, { src: tc.sourceIP, dst: tc.destIP, dport: tc.destPort, proto: 'tcp', hook, filter: true });
    expect({ output: upstreamOutput(r), masq: r.outcomes.every((o) => o.snat) }).toEqual({
      output: tc.output.split(', ').sort().join(', '),
      masq: tc.masq ?? false,
    });
    expect(r.outcomes.every((o) => o.snat === (tc.masq ?? false))).toBe(true);
    expect(r.reasons).toEqual([]);
    expect(r.uncertain).toBe(false);
  });

  it('reads an unquoted multi-word --comment as a comment, which never affects matching', () => {
    const input = node.iptables.ipv4?.tables.get('filter')?.chains.get('INPUT')?.rules[0];
    expect(input?.matches).toEqual([
      {
        kind: 'comment',
        comment: 'kubernetes health check service ports',
        text: '-m comment --comment kubernetes health check service ports',
      },
    ]);
    expect(input?.target).toEqual(expect.objectContaining({ kind: 'chain', chain: 'KUBE-NODEPORTS' }));
  });
});
