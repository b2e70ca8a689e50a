import { formatTraceText, loadNodeDumps, traceLbPacket, TraceInputError, traceVerdict } from '../../src/netfilter';
import { fixture, loadFixtureNode, ruleIds } from './fixtures';

const POD = '172.16.1.5';
const WEB_LB = '10.0.0.5';

describe('kube-proxy IPVS mode, LB IP not bound on kube-ipvs0 (TKE before the fix)', () => {
  const local = loadFixtureNode({
    iptables: 'ipvs-local/iptables-save.txt',
    ipset: 'ipvs-local/ipset.txt',
    addr: 'ipvs-local/addr.txt',
    conntrack: 'ipvs-local/conntrack.txt',
  });
  const cluster = loadFixtureNode({
    iptables: 'ipvs-cluster/iptables-save.txt',
    ipset: 'ipvs-cluster/ipset.txt',
    addr: 'ipvs-cluster/addr.txt',
  });

  it('loads the dumps without problems', () => {
    expect(local.problems).toEqual([]);
    expect(cluster.problems).toEqual([]);
  });

  it('Local: KUBE-LOAD-BALANCER-LOCAL returns, no mark, the packet leaves without SNAT (the seed case)', () => {
    const r = traceLbPacket(local, { src: POD, dst: WEB_LB, dport: 80, proto: 'tcp', hook: 'PREROUTING' });
    expect(r.uncertain).toBe(false);
    expect(r.captured).toBe(false);
    expect(r.how).toBe('none');
    expect(r.delivery).toBe('forward');
    expect(r.snat).toBe(false);
    expect(r.snatRule).toBeNull();
    expect(r.dnat).toBeNull();
    expect(r.mark).toBe(0);
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]?.probability).toBe(1);
    expect(ruleIds(r.rules)).toEqual([
      'PREROUTING#1',
      'KUBE-SERVICES#2',
      'KUBE-LOAD-BALANCER#1',
      'KUBE-SERVICES#6',
      'POSTROUTING#1',
      'KUBE-POSTROUTING#2',
      'POSTROUTING#2',
      'IP-MASQ-AGENT#2',
    ]);
    expect(r.rules[2]?.text).toBe(
      '-A KUBE-LOAD-BALANCER -m comment --comment "Kubernetes service load balancer ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN',
    );
    expect(r.rules[2]?.line).toBe(68);
    expect(r.rules[2]?.file).toBe('ipvs-local/iptables-save.txt');
    expect(traceVerdict(r)).toBe('leaves the node to 10.0.0.5:80 without SNAT: the LB sees the pod IP 172.16.1.5');
  });

  it('Cluster: KUBE-LOAD-BALANCER marks 0x4000 and KUBE-POSTROUTING masquerades', () => {
    const r = traceLbPacket(cluster, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(false);
    expect(r.captured).toBe(false);
    expect(r.snat).toBe(true);
    expect(r.snatTarget).toBe('MASQUERADE');
    expect(r.snatRule?.chain).toBe('KUBE-POSTROUTING');
    expect(r.snatRule?.ruleNumber).toBe(4);
    expect(r.snatRule?.text).toContain('-j MASQUERADE --random-fully');
    // The mark is cleared (--set-xmark 0x4000/0x0 is --xor-mark) before MASQUERADE.
    expect(r.mark).toBe(0);
    expect(ruleIds(r.rules)).toEqual([
      'PREROUTING#1',
      'KUBE-SERVICES#2',
      'KUBE-LOAD-BALANCER#2',
      'KUBE-MARK-MASQ#1',
      'KUBE-SERVICES#6',
      'POSTROUTING#1',
      'KUBE-POSTROUTING#3',
      'KUBE-POSTROUTING#4',
    ]);
    expect(traceVerdict(r)).toBe(
      'leaves the node to 10.0.0.5:80 with SNAT (MASQUERADE by nat KUBE-POSTROUTING rule 4): the LB sees a node IP, not the pod IP 172.16.1.5',
    );
  });

  it('a Cluster service on the Local node (10.0.0.7) is masqueraded too', () => {
    const r = traceLbPacket(local, { src: POD, dst: '10.0.0.7', dport: 443 });
    expect(r.snat).toBe(true);
    expect(r.snatRule?.ruleNumber).toBe(4);
  });

  it('upstream kube-proxy binds the LB IP on kube-ipvs0: captured by the bound address', () => {
    const bound = loadFixtureNode({
      iptables: 'ipvs-local/iptables-save.txt',
      ipset: 'ipvs-local/ipset.txt',
      addr: 'ipvs-local/addr-bound.txt',
    });
    expect(bound.boundAddresses('kube-ipvs0')).toContain(WEB_LB);
    const r = traceLbPacket(bound, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(false);
    expect(r.captured).toBe(true);
    expect(r.how).toBe('bound-address');
    expect(r.boundInterface).toBe('kube-ipvs0');
    expect(r.delivery).toBe('local');
    expect(r.snat).toBe(false);
    // addrtype LOCAL now matches: KUBE-NODE-PORT is entered (80 is not a node port).
    expect(ruleIds(r.rules)).toEqual(['PREROUTING#1', 'KUBE-SERVICES#2', 'KUBE-LOAD-BALANCER#1', 'KUBE-SERVICES#4', 'KUBE-SERVICES#6']);
    expect(traceVerdict(r)).toBe('captured on the node: 10.0.0.5 is bound on kube-ipvs0, so IPVS serves it on the node');
  });

  it('a host process (OUTPUT) to the Cluster LB is masqueraded as well', () => {
    const r = traceLbPacket(cluster, { src: '10.0.0.12', dst: WEB_LB, dport: 80, hook: 'output' });
    expect(r.packet.hook).toBe('OUTPUT');
    expect(r.snat).toBe(true);
    expect(ruleIds(r.rules).slice(0, 2)).toEqual(['OUTPUT#1', 'KUBE-SERVICES#2']);
  });

  it('host traffic from 127.0.0.1 returns early from KUBE-SERVICES', () => {
    const r = traceLbPacket(cluster, { src: '127.0.0.1', dst: WEB_LB, dport: 80, hook: 'OUTPUT' });
    expect(ruleIds(r.rules).slice(0, 2)).toEqual(['OUTPUT#1', 'KUBE-SERVICES#1']);
    expect(r.snat).toBe(false);
  });

  it('a node port on a node address hits KUBE-NODE-PORT (bitmap:port, Local returns)', () => {
    const r = traceLbPacket(local, { src: '192.168.7.7', dst: '10.0.0.12', dport: 30080 });
    expect(r.how).toBe('bound-address');
    expect(r.boundInterface).toBe('eth0');
    expect(ruleIds(r.rules)).toContain('KUBE-NODE-PORT#1');
    const c = traceLbPacket(cluster, { src: '192.168.7.7', dst: '10.0.0.12', dport: 30080 });
    expect(ruleIds(c.rules)).toEqual(['PREROUTING#1', 'KUBE-SERVICES#4', 'KUBE-NODE-PORT#2', 'KUBE-MARK-MASQ#1']);
    expect(c.mark).toBe(0x4000);
  });

  it('reads the failed connections from conntrack', () => {
    const failed = local.connectionsTo(WEB_LB, 80).filter((e) => e.unreplied);
    expect(failed).toHaveLength(2);
    expect(failed.every((e) => !e.snat)).toBe(true);
  });

  it('without ipset.txt the answer is uncertain and says why', () => {
    const node = loadFixtureNode({ iptables: 'ipvs-local/iptables-save.txt', addr: 'ipvs-local/addr.txt' });
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(true);
    expect(r.reasons[0]).toMatch(
      /nat KUBE-SERVICES rule 2 \(ipvs-local\/iptables-save.txt:78\): .*KUBE-LOAD-BALANCER dst,dst: no ipset dump was given.*assumed the rule does not match/,
    );
  });

  it('a set missing from ipset.txt is named', () => {
    const text = fixture('ipvs-local/ipset.txt').text.replace(/^(create|add) KUBE-LOAD-BALANCER-LOCAL .*$/gm, '');
    const node = loadNodeDumps({
      iptablesSave: fixture('ipvs-local/iptables-save.txt'),
      ipset: { text, file: 'ipset.txt' },
      addr: fixture('ipvs-local/addr.txt'),
    });
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(true);
    expect(r.reasons.join('\n')).toContain('set KUBE-LOAD-BALANCER-LOCAL is not in ipset.txt');
    // Assumed no match: the packet falls through to KUBE-MARK-MASQ.
    expect(r.snat).toBe(true);
  });

  it('without addr.txt, whether the LB IP is bound is unknown: uncertain', () => {
    const node = loadFixtureNode({ iptables: 'ipvs-local/iptables-save.txt', ipset: 'ipvs-local/ipset.txt' });
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(true);
    expect(r.reasons.join('\n')).toMatch(/node addresses are unknown.*10\.0\.0\.5/);
    expect(r.captured).toBe(false);
  });
});

describe('kube-proxy iptables mode', () => {
  const node = loadFixtureNode({ iptables: 'iptables-mode/iptables-save.txt', addr: 'iptables-mode/addr.txt' });

  it('parses counters and the unknown nfacct match without error', () => {
    expect(node.problems).toEqual([]);
    const nat = node.iptables.ipv4?.tables.get('nat');
    const rule = nat?.chains.get('KUBE-NODEPORTS')?.rules[0];
    expect(rule?.counters).toEqual({ packets: 0, bytes: 0 });
    expect(rule?.matches.some((m) => m.kind === 'unknown' && m.module === 'nfacct')).toBe(true);
  });

  it('Local service: KUBE-EXT short-circuits pod traffic to KUBE-SVC, three DNAT outcomes of 1/3', () => {
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(false);
    expect(r.captured).toBe(true);
    expect(r.how).toBe('dnat');
    expect(r.captureProbability).toBe(1);
    expect(r.snatProbability).toBe(0);
    expect(r.outcomes.map((o) => o.dnat)).toEqual(['172.16.1.9:8080', '172.16.2.7:8080', '172.16.3.4:8080']);
    for (const o of r.outcomes) expect(o.probability).toBeCloseTo(1 / 3, 6);
    expect(r.outcomes.reduce((a, o) => a + o.probability, 0)).toBeCloseTo(1, 12);
    expect(r.dnat).toBe('172.16.1.9:8080');
    expect(ruleIds(r.outcomes[0]?.rules ?? [])).toEqual([
      'PREROUTING#1',
      'KUBE-SERVICES#3',
      'KUBE-EXT-QN5HIEVYUPDP6UNK#1',
      'KUBE-SVC-QN5HIEVYUPDP6UNK#2',
      'KUBE-SEP-LPCTTTJWMC2F5PFB#2',
      'POSTROUTING#1',
      'KUBE-POSTROUTING#1',
    ]);
    expect(ruleIds(r.outcomes[2]?.rules ?? [])).toContain('KUBE-SEP-V4ZBWNHA3XNJNDH3#2');
    expect(r.outcomes[2]?.branches).toEqual([
      'KUBE-SVC-QN5HIEVYUPDP6UNK rule 2: not taken (p=0.666667)',
      'KUBE-SVC-QN5HIEVYUPDP6UNK rule 3: not taken (p=0.5)',
    ]);
    expect(r.rules[2]?.text).toContain('"pod traffic for shop/web:http external destinations"');
    expect(traceVerdict(r)).toBe(
      'captured on the node by DNAT to one of 3 endpoints (172.16.1.9:8080 33.3%, 172.16.2.7:8080 33.3%, 172.16.3.4:8080 33.3%)',
    );
  });

  it('a host process to the Local LB: masqueraded LOCAL traffic routed to KUBE-SVC', () => {
    const r = traceLbPacket(node, { src: '10.0.0.12', dst: WEB_LB, dport: 80, hook: 'OUTPUT' });
    expect(r.captured).toBe(true);
    expect(r.snatProbability).toBe(1);
    expect(ruleIds(r.rules).slice(0, 5)).toEqual([
      'OUTPUT#1',
      'KUBE-SERVICES#3',
      'KUBE-EXT-QN5HIEVYUPDP6UNK#2',
      'KUBE-MARK-MASQ#1',
      'KUBE-EXT-QN5HIEVYUPDP6UNK#3',
    ]);
  });

  it('an outside client to the Local LB only reaches the local endpoint (KUBE-SVL)', () => {
    const r = traceLbPacket(node, { src: '192.168.3.3', dst: WEB_LB, dport: 80 });
    expect(r.outcomes).toHaveLength(1);
    expect(r.dnat).toBe('172.16.1.9:8080');
    expect(ruleIds(r.rules)).toContain('KUBE-SVL-QN5HIEVYUPDP6UNK#1');
  });

  it('Cluster service: marked for masquerade, DNAT to two endpoints, SNAT after', () => {
    const r = traceLbPacket(node, { src: POD, dst: '10.0.0.7', dport: 443 });
    expect(r.outcomes).toHaveLength(2);
    expect(r.outcomes.map((o) => [o.dnat, o.probability, o.snat])).toEqual([
      ['172.16.2.10:8443', 0.5, true],
      ['172.16.3.11:8443', 0.5, true],
    ]);
    expect(r.snatRule?.chain).toBe('KUBE-POSTROUTING');
  });

  it('hairpin: an endpoint calling its own Service is masqueraded by KUBE-SEP', () => {
    const r = traceLbPacket(node, { src: '172.16.1.9', dst: '10.96.45.12', dport: 80 });
    const self = r.outcomes.find((o) => o.dnat === '172.16.1.9:8080');
    expect(self?.snat).toBe(true);
    expect(ruleIds(self?.rules ?? [])).toContain('KUBE-SEP-LPCTTTJWMC2F5PFB#1');
    expect(r.outcomes.filter((o) => o.snat)).toHaveLength(1);
  });

  it('loadBalancerSourceRanges: KUBE-FW lets the pod through nat, the filter table drops it', () => {
    const natOnly = traceLbPacket(node, { src: POD, dst: '10.0.0.9', dport: 8443 });
    expect(natOnly.captured).toBe(false);
    expect(ruleIds(natOnly.rules)).toContain('KUBE-FW-PKTVPEUM4ZRM3JPJ#2');
    expect(natOnly.notes.join('\n')).toContain('says this traffic is dropped in the filter table');
    const withFilter = traceLbPacket(node, { src: POD, dst: '10.0.0.9', dport: 8443, filter: true });
    expect(withFilter.delivery).toBe('dropped');
    expect(withFilter.droppedBy?.table).toBe('filter');
    expect(ruleIds(withFilter.rules).slice(-2)).toEqual(['filter:FORWARD#1', 'filter:KUBE-PROXY-FIREWALL#1']);
    expect(traceVerdict(withFilter)).toBe('dropped on the node by filter KUBE-PROXY-FIREWALL rule 1');
    const allowed = traceLbPacket(node, { src: '192.168.9.9', dst: '10.0.0.9', dport: 8443, filter: true });
    expect(allowed.dnat).toBe('172.16.2.12:8443');
    expect(allowed.delivery).toBe('forward');
  });

  it('the Docker MASQUERADE rule is not crossed for pod sources, so the unknown -o does not matter', () => {
    const r = traceLbPacket(node, { src: POD, dst: '10.0.0.200', dport: 80 });
    expect(r.uncertain).toBe(false);
    expect(r.snat).toBe(false);
  });

  it('docker0 sources reach `! -o docker0`: uncertain without the output interface, certain with it', () => {
    const r = traceLbPacket(node, { src: '169.254.32.2', dst: '10.0.0.200', dport: 80 });
    expect(r.uncertain).toBe(true);
    expect(r.reasons[0]).toMatch(/nat POSTROUTING rule 2 .*! -o docker0.*output interface is not known.*assumed the rule does not match/);
    const known = traceLbPacket(node, { src: '169.254.32.2', dst: '10.0.0.200', dport: 80, outInterface: 'eth0' });
    expect(known.uncertain).toBe(false);
    expect(known.snat).toBe(true);
    expect(known.snatRule?.ruleNumber).toBe(2);
  });

  it('prints a report with the verdict first and numbered rules', () => {
    const text = formatTraceText(traceLbPacket(node, { src: POD, dst: '10.0.0.7', dport: 443 }));
    const lines = text.split('\n');
    expect(lines[0]).toBe('captured on the node by DNAT to one of 2 endpoints (172.16.2.10:8443 50%, 172.16.3.11:8443 50%)');
    expect(text).toContain(
      '  1. nat PREROUTING rule 1: -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES  (iptables-mode/iptables-save.txt:60)',
    );
  });
});

describe('CNI masquerade: ip-masq-agent', () => {
  it('a Service with ipMode Proxy (no kube-proxy rule) is masqueraded by IP-MASQ-AGENT when the VPC is not listed', () => {
    const node = loadFixtureNode({ iptables: 'ip-masq-agent/iptables-save.txt', addr: 'ip-masq-agent/addr.txt' });
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(false);
    expect(r.captured).toBe(false);
    expect(r.snat).toBe(true);
    expect(r.snatRule?.chain).toBe('IP-MASQ-AGENT');
    expect(r.snatRule?.ruleNumber).toBe(3);
    expect(ruleIds(r.rules)).toEqual(['PREROUTING#1', 'POSTROUTING#1', 'KUBE-POSTROUTING#1', 'POSTROUTING#2', 'IP-MASQ-AGENT#3']);
  });

  it('with the VPC in nonMasqueradeCIDRs the pod IP goes out unchanged', () => {
    const node = loadFixtureNode({ iptables: 'ip-masq-agent/iptables-save-vpc-nonmasq.txt', addr: 'ip-masq-agent/addr.txt' });
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.snat).toBe(false);
    expect(ruleIds(r.rules).slice(-1)).toEqual(['IP-MASQ-AGENT#3']);
    expect(r.rules.at(-1)?.text).toContain('-d 10.0.0.0/8');
  });

  it('pod-to-pod traffic is never masqueraded', () => {
    const node = loadFixtureNode({ iptables: 'ip-masq-agent/iptables-save.txt', addr: 'ip-masq-agent/addr.txt' });
    const r = traceLbPacket(node, { src: POD, dst: '172.16.3.3', dport: 80 });
    expect(r.snat).toBe(false);
    expect(ruleIds(r.rules).slice(-1)).toEqual(['IP-MASQ-AGENT#2']);
  });
});

describe('IPv6', () => {
  const POD6 = 'fd00:10:244:1::5';
  it('IPVS Local on an IPv6 node: KUBE-6-LOAD-BALANCER-LOCAL returns, no SNAT', () => {
    const node = loadFixtureNode({ ip6tables: 'ipv6/ip6tables-save.txt', ipset: 'ipv6/ipset.txt', addr: 'ipv6/addr.txt' });
    expect(node.problems).toEqual([]);
    const r = traceLbPacket(node, { src: POD6, dst: 'fd00:10::5', dport: 80 });
    expect(r.uncertain).toBe(false);
    expect(r.snat).toBe(false);
    expect(r.captured).toBe(false);
    expect(ruleIds(r.rules)).toEqual([
      'PREROUTING#1',
      'KUBE-SERVICES#2',
      'KUBE-LOAD-BALANCER#1',
      'KUBE-SERVICES#6',
      'POSTROUTING#1',
      'KUBE-POSTROUTING#2',
    ]);
    expect(r.finalDestination).toBe('[fd00:10::5]:80');
    const c = traceLbPacket(node, { src: POD6, dst: 'fd00:10::7', dport: 443 });
    expect(c.snat).toBe(true);
  });

  it('an ip6tables dump given as iptablesSave is recognized by its header', () => {
    const node = loadNodeDumps({ iptablesSave: fixture('ipv6/ip6tables-save-iptables-mode.txt'), addr: fixture('ipv6/addr.txt') });
    expect(node.iptables.ipv6).not.toBeNull();
    expect(node.iptables.ipv4).toBeNull();
    const r = traceLbPacket(node, { src: POD6, dst: 'fd00:10::5', dport: 80 });
    expect(r.outcomes.map((o) => [o.dnat, o.probability, o.snat])).toEqual([
      ['[fd00:10:244:1::9]:8080', 0.5, true],
      ['[fd00:10:244:2::7]:8080', 0.5, true],
    ]);
    // The IPv4 side has no dump: a v4 trace is uncertain, not an error.
    const v4 = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(v4.uncertain).toBe(true);
    expect(v4.reasons[0]).toContain('no iptables-save dump for IPv4 was given');
  });
});

describe('trace semantics', () => {
  const dump = (nat: string) =>
    loadNodeDumps({
      iptablesSave: {
        text: `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${nat}\nCOMMIT\n`,
        file: 'x.txt',
      },
      addr: { text: '2: eth0    inet 10.0.0.12/16 brd 10.0.255.255 scope global eth0\n', file: 'addr.txt' },
    });

  it('goto does not come back to the chain that jumped', () => {
    const node = dump(
      ':A - [0:0]\n:B - [0:0]\n-A PREROUTING -j A\n-A PREROUTING -j MARK --set-mark 0x1\n-A A -g B\n-A A -j MARK --set-mark 0x2\n-A B -j RETURN',
    );
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.mark).toBe(1);
    expect(ruleIds(r.rules)).toEqual(['PREROUTING#1', 'A#1', 'B#1', 'PREROUTING#2']);
  });

  it('mark arithmetic: or, and, xor, set-mark with mask', () => {
    const node = dump(
      '-A PREROUTING -j MARK --or-mark 0xff00\n-A PREROUTING -j MARK --and-mark 0x0ff0\n-A PREROUTING -j MARK --xor-mark 0x0001\n-A PREROUTING -j MARK --set-mark 0x20/0xf0\n-A POSTROUTING -m mark --mark 0x21/0xff -j MASQUERADE',
    );
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80, mark: 0x10000 });
    // 0x10000|0xff00=0x1ff00; &0x0ff0=0x0f00; ^1=0x0f01; (x&~0xf0)|0x20=0x0f21
    expect(r.mark).toBe(0x0f21);
    expect(r.snat).toBe(true);
  });

  it('a DROP policy drops', () => {
    const node = loadNodeDumps({
      iptablesSave: { text: '*nat\n:PREROUTING DROP [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n', file: 'p.txt' },
    });
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.delivery).toBe('dropped');
    expect(r.droppedBy?.text).toBe(':PREROUTING DROP (chain policy)');
    expect(r.uncertain).toBe(false);
    expect(traceVerdict(r)).toBe('dropped on the node by nat PREROUTING policy');
  });

  it('unknown targets and jumps to missing chains are reported, not guessed', () => {
    const node = dump(
      '-A PREROUTING -j CONNMARK --restore-mark\n-A PREROUTING -j KUBE-NOWHERE\n-A PREROUTING -m physdev --physdev-is-in -j DNAT --to-destination 1.2.3.4',
    );
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(true);
    expect(r.reasons).toHaveLength(3);
    expect(r.reasons[0]).toMatch(
      /PREROUTING rule 1 \(x.txt:6\): -j CONNMARK --restore-mark: .*assumed it neither changes nor stops the packet/,
    );
    expect(r.reasons[1]).toMatch(/jumps to KUBE-NOWHERE, which the nat table does not define/);
    expect(r.reasons[2]).toMatch(
      /-m physdev --physdev-is-in: match extension -m physdev is not evaluated by loopscope; assumed the rule does not match/,
    );
    expect(r.dnat).toBeNull();
    expect(node.problems.map((p) => p.message)).toContain(
      'rule jumps to chain KUBE-NOWHERE, which table nat does not define (truncated dump, or a target extension loopscope does not know)',
    );
  });

  it('an unknown match on a LOG rule does not make the answer uncertain', () => {
    const node = dump('-A PREROUTING -m limit --limit 5/min -j LOG --log-prefix "nat: "');
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(false);
  });

  it('source port rules need sport', () => {
    const node = dump('-A PREROUTING -p tcp -m tcp --sport 1024:65535 -j DNAT --to-destination 10.9.9.9:80');
    expect(traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 }).uncertain).toBe(true);
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80, sport: 40000 });
    expect(r.uncertain).toBe(false);
    expect(r.dnat).toBe('10.9.9.9:80');
  });

  it('REDIRECT captures locally', () => {
    const node = dump('-A PREROUTING -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 15001');
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.how).toBe('redirect');
    expect(r.captured).toBe(true);
    expect(traceVerdict(r)).toBe('captured on the node by REDIRECT to local port 15001');
  });

  it('DNAT to a node address is delivered locally', () => {
    const node = dump('-A PREROUTING -d 10.0.0.5/32 -p tcp -j DNAT --to-destination 10.0.0.12:30080');
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.delivery).toBe('local');
    expect(r.dnat).toBe('10.0.0.12:30080');
  });

  it('SNAT --to-source names the new source', () => {
    const node = dump('-A POSTROUTING -s 172.16.0.0/16 -d 10.0.0.0/16 -j SNAT --to-source 10.0.0.12');
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.snatTarget).toBe('SNAT');
    expect(r.snatTo).toBe('10.0.0.12');
    expect(traceVerdict(r)).toContain('the LB sees 10.0.0.12');
  });

  it('nested statistic branches multiply and sum to 1', () => {
    const node = dump(
      ':S1 - [0:0]\n:S2 - [0:0]\n-A PREROUTING -m statistic --mode random --probability 0.25 -j S1\n-A PREROUTING -j S2\n-A S1 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 1.1.1.1:80\n-A S1 -j DNAT --to-destination 1.1.1.2:80\n-A S2 -m statistic --mode nth --every 3 --packet 0 -j DNAT --to-destination 1.1.1.3:80',
    );
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    const byDnat = Object.fromEntries(r.outcomes.map((o) => [o.dnat ?? 'none', o.probability]));
    expect(byDnat['1.1.1.1:80']).toBeCloseTo(0.125);
    expect(byDnat['1.1.1.2:80']).toBeCloseTo(0.125);
    expect(byDnat['1.1.1.3:80']).toBeCloseTo(0.25);
    expect(byDnat['none']).toBeCloseTo(0.5);
    expect(r.outcomes.reduce((a, o) => a + o.probability, 0)).toBeCloseTo(1, 12);
    expect(r.captureProbability).toBeCloseTo(0.5);
  });

  it('a loop in a corrupt dump stops with a reason', () => {
    const node = dump(':A - [0:0]\n-A PREROUTING -j A\n-A A -g A');
    const r = traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80 });
    expect(r.uncertain).toBe(true);
    expect(r.reasons[0]).toMatch(/loops|steps/);
  });

  it('rejects malformed packets with TraceInputError', () => {
    const node = dump('');
    expect(() => traceLbPacket(node, { src: 'nope', dst: WEB_LB, dport: 80 })).toThrow(TraceInputError);
    expect(() => traceLbPacket(node, { src: POD, dst: 'fd00::1', dport: 80 })).toThrow(/different address families/);
    expect(() => traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 70000 })).toThrow(/port/);
    expect(() => traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80, proto: 'bogus' })).toThrow(/protocol/);
    expect(() => traceLbPacket(node, { src: POD, dst: WEB_LB, dport: 80, hook: 'FORWARD' as 'OUTPUT' })).toThrow(/hook/);
  });
});
