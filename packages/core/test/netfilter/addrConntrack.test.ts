import {
  cidrContains,
  describeConntrackEntry,
  formatCidr,
  formatEndpoint,
  formatIp,
  parseCidr,
  parseConntrack,
  parseEndpoint,
  parseIp,
  parseIpAddr,
} from '../../src/netfilter';
import { fixture, loadFixtureNode } from './fixtures';

describe('addresses and CIDRs', () => {
  it('parses and formats IPv4 and IPv6 canonically', () => {
    expect(formatIp(parseIp('010.0.0.1') as never)).toBe('10.0.0.1');
    expect(parseIp('256.0.0.1')).toBeNull();
    expect(parseIp('1.2.3')).toBeNull();
    expect(formatIp(parseIp('FD00:0:0:0:0:0:0:1') as never)).toBe('fd00::1');
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1') as never)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('::ffff:10.0.0.1') as never)).toBe('::ffff:a00:1');
    expect(formatIp(parseIp('::') as never)).toBe('::');
    expect(parseIp('1::2::3')).toBeNull();
    expect(parseIp('fd00::g')).toBeNull();
  });

  it('contains with prefixes, host bits and dotted masks', () => {
    const c = parseCidr('10.1.2.3/16');
    expect(c && formatCidr(c)).toBe('10.1.0.0/16');
    expect(c && cidrContains(c, parseIp('10.1.255.255') as never)).toBe(true);
    expect(c && cidrContains(c, parseIp('10.2.0.0') as never)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0') as never, parseIp('255.255.255.255') as never)).toBe(true);
    const odd = parseCidr('10.0.0.0/255.0.255.0');
    expect(odd?.prefix).toBe(-1);
    expect(odd && cidrContains(odd, parseIp('10.9.0.7') as never)).toBe(true);
    expect(odd && cidrContains(odd, parseIp('10.9.1.7') as never)).toBe(false);
    const v6 = parseCidr('fd00:10:244::/56');
    expect(v6 && cidrContains(v6, parseIp('fd00:10:244:1::5') as never)).toBe(true);
    expect(v6 && cidrContains(v6, parseIp('10.0.0.1') as never)).toBe(false);
    expect(parseCidr('10.0.0.0/33')).toBeNull();
  });

  it('parses endpoints', () => {
    expect(parseEndpoint('10.0.0.5:80')).toEqual({ ip: { family: 4, value: 0x0a000005 }, port: 80 });
    expect(parseEndpoint('[fd00::5]:8080')?.port).toBe(8080);
    expect(parseEndpoint('fd00::5')?.port).toBeNull();
    expect(parseEndpoint('10.0.0.5:99999')).toBeNull();
    expect(formatEndpoint(parseIp('fd00::5') as never, 80)).toBe('[fd00::5]:80');
  });
});

describe('parseIpAddr', () => {
  it('reads `ip -o addr`: interfaces, kube-ipvs0 bindings, node addresses', () => {
    const { value, problems } = parseIpAddr(fixture('ipvs-local/addr-bound.txt').text, 'addr.txt');
    expect(problems).toEqual([]);
    expect(value[2]).toEqual(expect.objectContaining({ iface: 'eth0', text: '10.0.0.12', prefix: 16, scope: 'global', line: 3 }));
    expect(value.find((a) => a.iface === 'veth7a3f0c21')?.family).toBe(6);
    const node = loadFixtureNode({ addr: 'ipvs-local/addr-bound.txt' });
    expect(node.boundAddresses('kube-ipvs0')).toEqual([
      '10.96.0.1',
      '10.96.0.10',
      '10.96.45.12',
      '10.96.77.3',
      '10.96.80.9',
      '10.0.0.5',
      '10.0.0.7',
      '10.0.0.9',
    ]);
    expect(node.isBound('10.0.0.5')).toBe(true);
    expect(node.isBound('10.0.0.12')).toBe(false);
    expect(node.nodeAddresses()).toEqual(['10.0.0.12', '169.254.32.1', '172.16.1.1']);
    // 127.0.0.0/8 is local as a whole
    expect(node.addressBook.isLocal(parseIp('127.3.4.5') as never)).toBe(true);
    expect(node.addressBook.isBroadcast(parseIp('10.0.255.255') as never)).toBe(true);
    expect(loadFixtureNode({}).isBound('10.0.0.5')).toBeNull();
  });

  it('also reads plain `ip addr` and `ip -j addr`', () => {
    const plain = `1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
5: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default
    link/ether 6e:1b:3c:aa:bb:cc brd ff:ff:ff:ff:ff:ff
    inet 10.0.0.5/32 scope global kube-ipvs0
       valid_lft forever preferred_lft forever
    altname enp0s1
`;
    const p = parseIpAddr(plain, 'plain.txt');
    expect(p.problems).toEqual([]);
    expect(p.value.map((a) => [a.iface, a.text])).toEqual([
      ['lo', '127.0.0.1'],
      ['kube-ipvs0', '10.0.0.5'],
    ]);
    const json = JSON.stringify([
      { ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.0.0.12', prefixlen: 16, broadcast: '10.0.255.255', scope: 'global' }] },
    ]);
    expect(parseIpAddr(json, 'j.json').value[0]).toEqual(expect.objectContaining({ iface: 'eth0', text: '10.0.0.12', prefix: 16 }));
    expect(parseIpAddr('[{"oops"', 'bad.json').problems[0]?.message).toMatch(/not valid JSON/);
  });

  it('reports garbage lines', () => {
    const { value, problems } = parseIpAddr(
      '2: eth0    inet 10.0.0.300/24 scope global eth0\nblah blah\n2: eth0    inet 10.0.0.12/24 scope global eth0\n',
      'a.txt',
    );
    expect(value).toHaveLength(1);
    expect(problems.map((p) => p.line)).toEqual([1, 2]);
  });
});

describe('parseConntrack', () => {
  it('reads both tuples, state, flags, mark, zone, use; ignores the footer', () => {
    const { value, problems } = parseConntrack(fixture('ipvs-local/conntrack.txt').text, 'conntrack.txt');
    expect(problems).toEqual([]);
    expect(value).toHaveLength(8);
    const first = value[0];
    expect(first).toEqual(
      expect.objectContaining({
        family: 4,
        protocol: 'tcp',
        protocolNumber: 6,
        timeout: 117,
        state: 'SYN_SENT',
        unreplied: true,
        assured: false,
        mark: 0,
        use: 1,
        snat: false,
        dnat: false,
        line: 1,
      }),
    );
    expect(first && describeConntrackEntry(first)).toBe(
      'tcp 172.16.1.5:51234 -> 10.0.0.5:80 (reply 10.0.0.5:80 -> 172.16.1.5:51234) SYN_SENT [UNREPLIED]',
    );
    const dns = value[3];
    expect(dns?.dnat).toBe(true);
    expect(dns?.assured).toBe(true);
    const udp = value[4];
    expect(udp?.state).toBeNull();
    const icmp = value[6];
    expect(icmp?.original.sport).toBeNull();
    expect(icmp?.original.fields).toEqual({ type: '8', code: '0', id: '4711' });
    expect(value[7]?.zone).toBe(0);
  });

  it('reads /proc/net/nf_conntrack lines and sees SNAT', () => {
    const { value } = parseConntrack(fixture('ipvs-cluster/conntrack.txt').text, 'c.txt');
    expect(value.map((e) => [e.snat, e.dnat])).toEqual([
      [true, false],
      [true, false],
    ]);
  });

  it('reads IPv6 entries and reports broken lines', () => {
    const text = [
      'tcp      6 20 SYN_SENT src=fd00:10:244:1::5 dst=fd00:10::5 sport=4000 dport=80 [UNREPLIED] src=fd00:10::5 dst=fd00:10:244:1::5 sport=80 dport=4000 mark=0 use=1',
      'icmpv6   58 29 src=fd00::1 dst=fd00::2 type=128 code=0 id=7 src=fd00::2 dst=fd00::1 type=129 code=0 id=7 mark=0 use=1',
      'tcp      6 20 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1',
      'garbage',
      'conntrack v1.4.7 (conntrack-tools): 4 flow entries have been shown.',
    ].join('\n');
    const { value, problems } = parseConntrack(text, 'v6.txt');
    expect(value.map((e) => e.family)).toEqual([6, 6]);
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [3, 'an entry needs an original and a reply tuple (src=… dst=… twice); skipped'],
      [4, 'not a conntrack entry (expected "PROTO NUMBER TIMEOUT …"); skipped'],
    ]);
  });
});
