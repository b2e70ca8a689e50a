import { parseIp, parseIpset, type SetProbe } from '../../src/netfilter';
import { fixture } from './fixtures';

function probe(p: Partial<Omit<SetProbe, 'src' | 'dst'>> & { src: string; dst: string }): SetProbe {
  const src = parseIp(p.src);
  const dst = parseIp(p.dst);
  if (!src || !dst) throw new Error('bad probe');
  return { protocol: 6, sport: 40000, dport: 80, mark: 0, inInterface: null, outInterface: null, ...p, src, dst };
}

describe('parseIpset', () => {
  it('reads `ipset save` with kube-proxy IPVS sets and member comments', () => {
    const { value, problems } = parseIpset(fixture('ipvs-local/ipset.txt').text, 'ipset.txt');
    expect(problems).toEqual([]);
    expect(value.sets.size).toBe(15);
    const lb = value.sets.get('KUBE-LOAD-BALANCER');
    expect(lb?.type).toBe('hash:ip,port');
    expect(lb?.family).toBe(4);
    expect(lb?.size).toBe(3);
    expect(lb?.test(['dst', 'dst'], probe({ src: '172.16.1.5', dst: '10.0.0.5' }))).toBe('match');
    expect(lb?.test(['dst', 'dst'], probe({ src: '172.16.1.5', dst: '10.0.0.5', dport: 81 }))).toBe('absent');
    expect(lb?.test(['dst', 'dst'], probe({ src: '172.16.1.5', dst: '10.0.0.5', protocol: 17 }))).toBe('absent');
    // src,dst: the source IP with the destination port
    expect(lb?.test(['src', 'dst'], probe({ src: '10.0.0.5', dst: '1.1.1.1' }))).toBe('match');
    // fewer flags than dimensions never match (the kernel refuses)
    expect(lb?.test(['dst'], probe({ src: '172.16.1.5', dst: '10.0.0.5' }))).toBe('absent');
  });

  it('reads `ipset list` output with the same meaning', () => {
    const { value, problems } = parseIpset(fixture('ipvs-cluster/ipset.txt').text, 'ipset-list.txt');
    expect(problems).toEqual([]);
    expect(value.sets.size).toBe(15);
    expect(value.sets.get('KUBE-LOAD-BALANCER')?.declaredEntries).toBe(3);
    expect(value.sets.get('KUBE-LOAD-BALANCER-LOCAL')?.size).toBe(0);
    expect(value.sets.get('KUBE-NODE-PORT-TCP')?.test(['dst'], probe({ src: '1.1.1.1', dst: '10.0.0.12', dport: 30080 }))).toBe('match');
  });

  it('hash:ip,port,ip (KUBE-LOOP-BACK) with dst,dst,src', () => {
    const loop = parseIpset(fixture('ipvs-local/ipset.txt').text, 'i').value.sets.get('KUBE-LOOP-BACK');
    expect(loop?.test(['dst', 'dst', 'src'], probe({ src: '172.16.1.9', dst: '172.16.1.9', dport: 8080 }))).toBe('match');
    expect(loop?.test(['dst', 'dst', 'src'], probe({ src: '172.16.1.8', dst: '172.16.1.9', dport: 8080 }))).toBe('absent');
    expect(loop?.test(['dst', 'dst', 'src'], probe({ src: '172.16.1.11', dst: '172.16.1.11', dport: 53, protocol: 17 }))).toBe('match');
  });

  it('hash:ip,port,net (KUBE-LOAD-BALANCER-SOURCE-CIDR) with dst,dst,src', () => {
    const cidr = parseIpset(fixture('ipvs-local/ipset.txt').text, 'i').value.sets.get('KUBE-LOAD-BALANCER-SOURCE-CIDR');
    expect(cidr?.test(['dst', 'dst', 'src'], probe({ src: '192.168.44.1', dst: '10.0.0.9', dport: 8443 }))).toBe('match');
    expect(cidr?.test(['dst', 'dst', 'src'], probe({ src: '172.16.1.5', dst: '10.0.0.9', dport: 8443 }))).toBe('absent');
  });

  it('hash:net with most-specific-first nomatch, IPv6, and --return-nomatch semantics', () => {
    const text =
      'create N hash:net family inet6 hashsize 1024 maxelem 65536\nadd N fd00::/64\nadd N fd00::1 nomatch\nadd N fd00:0:0:0:8000::/65 nomatch\ncreate V4 hash:net family inet\nadd V4 10.0.0.0/8\nadd V4 10.1.0.0/16 nomatch\nadd V4 10.1.2.0/24\n';
    const { value, problems } = parseIpset(text, 'n.txt');
    expect(problems).toEqual([]);
    const n = value.sets.get('N');
    const t = (ip: string) => n?.test(['dst'], probe({ src: '::1', dst: ip }));
    expect(t('fd00::2')).toBe('match');
    expect(t('fd00::1')).toBe('nomatch');
    expect(t('fd00::8000:0:0:1')).toBe('nomatch');
    expect(t('fd01::1')).toBe('absent');
    const v4 = value.sets.get('V4');
    const t4 = (ip: string) => v4?.test(['src'], probe({ src: ip, dst: '1.1.1.1' }));
    expect(t4('10.9.9.9')).toBe('match');
    expect(t4('10.1.9.9')).toBe('nomatch');
    expect(t4('10.1.2.3')).toBe('match');
    // an IPv4 packet never matches an inet6 set
    expect(n?.test(['dst'], probe({ src: '1.1.1.1', dst: '10.0.0.1' }))).toBe('absent');
  });

  it('hash:ip,port with IPv6 members, bitmap:port, hash:ip with netmask, hash:net,port, hash:ip,mark, list:set', () => {
    const text = [
      'create P6 hash:ip,port family inet6',
      'add P6 fd00:10::5,tcp:80',
      'add P6 fd00:10::5,udp:53',
      'add P6 fd00:10::6,sctp:80',
      'create BP bitmap:port range 0-65535',
      'add BP 30000-30002',
      'create NM hash:ip family inet netmask 24',
      'add NM 192.168.7.0',
      'create NP hash:net,port family inet',
      'add NP 10.0.0.0/8,tcp:443',
      'create IM hash:ip,mark family inet markmask 0xff00',
      'add IM 10.0.0.1,0x4000',
      'create L list:set size 8',
      'add L P6',
      'add L BP',
      'create PLAIN hash:ip,port family inet',
      'add PLAIN 10.0.0.1,8080',
    ].join('\n');
    const { value, problems } = parseIpset(text, 's.txt');
    expect(problems).toEqual([]);
    const s = value.sets;
    expect(s.get('P6')?.test(['dst', 'dst'], probe({ src: '::1', dst: 'fd00:10::5' }))).toBe('match');
    expect(s.get('P6')?.test(['dst', 'dst'], probe({ src: '::1', dst: 'fd00:10::5', dport: 53, protocol: 17 }))).toBe('match');
    expect(s.get('P6')?.test(['dst', 'dst'], probe({ src: '::1', dst: 'fd00:10::6', protocol: 132 }))).toBe('match');
    expect(s.get('BP')?.test(['dst'], probe({ src: '1.1.1.1', dst: '2.2.2.2', dport: 30001 }))).toBe('match');
    expect(s.get('BP')?.test(['src'], probe({ src: '1.1.1.1', dst: '2.2.2.2', sport: 30002 }))).toBe('match');
    expect(s.get('BP')?.test(['src'], probe({ src: '1.1.1.1', dst: '2.2.2.2', sport: null }))).toEqual({
      unknown: expect.stringContaining('source port'),
    });
    expect(s.get('NM')?.test(['dst'], probe({ src: '1.1.1.1', dst: '192.168.7.99' }))).toBe('match');
    expect(s.get('NP')?.test(['dst', 'dst'], probe({ src: '1.1.1.1', dst: '10.20.30.40', dport: 443 }))).toBe('match');
    expect(s.get('IM')?.test(['src', 'src'], probe({ src: '10.0.0.1', dst: '2.2.2.2', mark: 0x4001 }))).toBe('match');
    expect(s.get('L')?.test(['dst', 'dst'], probe({ src: '::1', dst: 'fd00:10::5' }), s)).toBe('match');
    expect(s.get('L')?.test(['dst'], probe({ src: '1.1.1.1', dst: '2.2.2.2', dport: 30000 }), s)).toBe('match');
    // a bare port means tcp
    expect(s.get('PLAIN')?.test(['dst', 'dst'], probe({ src: '1.1.1.1', dst: '10.0.0.1', dport: 8080 }))).toBe('match');
    expect(s.get('PLAIN')?.hasDestination(parseIp('10.0.0.1') as never, 6, 8080)).toBe(true);
  });

  it('hash:net,net (most specific pair first), hash:net,iface, bitmap:ip', () => {
    const text =
      'create NN hash:net,net family inet\nadd NN 10.0.0.0/8,192.168.0.0/16\nadd NN 10.1.0.0/16,192.168.1.0/24 nomatch\ncreate NI hash:net,iface family inet\nadd NI 10.0.0.0/8,eth0\ncreate BI bitmap:ip range 192.168.0.0/16\nadd BI 192.168.1.1\n';
    const { value, problems } = parseIpset(text, 'x.txt');
    expect(problems).toEqual([]);
    const nn = value.sets.get('NN');
    expect(nn?.test(['src', 'dst'], probe({ src: '10.9.9.9', dst: '192.168.7.7' }))).toBe('match');
    expect(nn?.test(['src', 'dst'], probe({ src: '10.1.9.9', dst: '192.168.1.7' }))).toBe('nomatch');
    expect(nn?.test(['src', 'dst'], probe({ src: '10.1.9.9', dst: '192.168.2.7' }))).toBe('match');
    expect(nn?.test(['src', 'dst'], probe({ src: '11.1.9.9', dst: '192.168.2.7' }))).toBe('absent');
    const ni = value.sets.get('NI');
    expect(ni?.test(['dst', 'dst'], probe({ src: '1.1.1.1', dst: '10.2.3.4', outInterface: 'eth0' }))).toBe('match');
    expect(ni?.test(['dst', 'dst'], probe({ src: '1.1.1.1', dst: '10.2.3.4', outInterface: 'eth1' }))).toBe('absent');
    expect(ni?.test(['dst', 'dst'], probe({ src: '1.1.1.1', dst: '10.2.3.4' }))).toEqual({
      unknown: expect.stringContaining('output interface'),
    });
    expect(value.sets.get('BI')?.test(['dst'], probe({ src: '1.1.1.1', dst: '192.168.1.1' }))).toBe('match');
  });

  it('unsupported set types are kept and answer unknown', () => {
    const { value, problems } = parseIpset('create M hash:mac\nadd M 00:11:22:33:44:55\n', 'm.txt');
    expect(problems).toEqual([
      {
        file: 'm.txt',
        line: 1,
        message: 'set type hash:mac matches MAC addresses, which a trace does not know; a trace that tests set M will be uncertain',
        severity: 'warning',
      },
    ]);
    expect(value.sets.get('M')?.test(['src'], probe({ src: '1.1.1.1', dst: '2.2.2.2' }))).toEqual({ unknown: expect.any(String) });
    expect(value.sets.get('M')?.members).toEqual(['00:11:22:33:44:55']);
  });

  it('reports bad members and orphans with line numbers, keeps the rest', () => {
    const text =
      'create A hash:ip,port family inet\nadd A 10.0.0.1,tcp:80\nadd A 10.0.0.1\nadd A 10.0.0.999,tcp:80\nadd B 1.1.1.1\nadd A fd00::1,tcp:80\nwat\nadd A 10.0.0.2,tcp:81 timeout 30 comment "x y"\n';
    const { value, problems } = parseIpset(text, 'bad.txt');
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [3, 'set A: member "10.0.0.1" does not have the 2 parts of a hash:ip,port set; skipped'],
      [4, 'set A: member "10.0.0.999,tcp:80": cannot read address "10.0.0.999"; skipped'],
      [5, 'member added to set B, which was not created before'],
      [6, 'set A: member "fd00::1,tcp:80": address family does not match the set (family inet); skipped'],
      [7, 'unrecognized line "wat"; skipped'],
    ]);
    expect(value.sets.get('A')?.size).toBe(2);
  });

  it('warns when `ipset list` shows fewer members than it declares (ipset list -t, or cut off)', () => {
    const { problems } = parseIpset(
      'Name: A\nType: hash:ip\nRevision: 4\nHeader: family inet hashsize 1024 maxelem 65536\nSize in memory: 1\nReferences: 0\nNumber of entries: 2\nMembers:\n10.0.0.1\n',
      'l.txt',
    );
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringContaining('declares 2 entries but 1 were read') }),
    ]);
  });
});
