/**
 * `loopscope trace` in-process with a fake CliIO. The command's '@loopscope/core' import is pointed
 * at the core's netfilter source, so these tests need no build; the last test checks that the
 * built package exports the same API.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '../src/commands/trace';
import { UsageError, type CliIO } from '../src/io';

jest.mock('@loopscope/core', () => jest.requireActual('../../../packages/core/src/netfilter'));

const FX = join(__dirname, '..', '..', '..', 'packages', 'core', 'test', 'fixtures', 'netfilter');
const fx = (p: string) => join(FX, p);

function fakeIO(stdin = ''): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
    readStdin: async () => stdin,
  };
  return io;
}

async function run(args: string[], stdin?: string) {
  const io = fakeIO(stdin);
  const code = await trace(args, io);
  return { code, out: io.out, err: io.err };
}

const IPVS_LOCAL = [
  '--iptables-save',
  fx('ipvs-local/iptables-save.txt'),
  '--ipset',
  fx('ipvs-local/ipset.txt'),
  '--addr',
  fx('ipvs-local/addr.txt'),
];
const IPVS_CLUSTER = [
  '--iptables-save',
  fx('ipvs-cluster/iptables-save.txt'),
  '--ipset',
  fx('ipvs-cluster/ipset.txt'),
  '--addr',
  fx('ipvs-cluster/addr.txt'),
];

describe('loopscope trace', () => {
  it('--help prints the usage', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: loopscope trace --iptables-save FILE/);
    expect(r.out).toContain('--hook H');
  });

  it('IPVS Local (the seed case): verdict first, then the numbered rules', async () => {
    const r = await run([...IPVS_LOCAL, '--src', '172.16.1.5', '--dst', '10.0.0.5:80']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('leaves the node to 10.0.0.5:80 without SNAT: the LB sees the pod IP 172.16.1.5');
    expect(r.out).toContain(
      `  3. nat KUBE-LOAD-BALANCER rule 1: -A KUBE-LOAD-BALANCER -m comment --comment "Kubernetes service load balancer ip + port with externalTrafficPolicy=local" -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN  (${fx('ipvs-local/iptables-save.txt')}:68)`,
    );
    expect(r.out).not.toContain('uncertain');
  });

  it('--format json carries captured, snat, snatRule, dnat and rules', async () => {
    const r = await run([
      ...IPVS_CLUSTER,
      '--src',
      '172.16.1.5',
      '--dst',
      '10.0.0.5:80',
      '--proto',
      'tcp',
      '--hook',
      'prerouting',
      '--format',
      'json',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ apiVersion: 'loopscope/v1', kind: 'Trace', captured: false, snat: true, dnat: null, uncertain: false });
    expect(j.snatRule).toMatchObject({ table: 'nat', chain: 'KUBE-POSTROUTING', ruleNumber: 4 });
    expect(j.rules.map((x: { chain: string; ruleNumber: number }) => `${x.chain}#${x.ruleNumber}`)).toEqual([
      'PREROUTING#1',
      'KUBE-SERVICES#2',
      'KUBE-LOAD-BALANCER#2',
      'KUBE-MARK-MASQ#1',
      'KUBE-SERVICES#6',
      'POSTROUTING#1',
      'KUBE-POSTROUTING#3',
      'KUBE-POSTROUTING#4',
    ]);
    expect(j.verdict).toMatch(/^leaves the node to 10.0.0.5:80 with SNAT/);
    expect(j.problems).toEqual([]);
  });

  it('iptables mode: captured by DNAT, outcomes with probabilities', async () => {
    const r = await run([
      '--iptables-save',
      fx('iptables-mode/iptables-save.txt'),
      '--addr',
      fx('iptables-mode/addr.txt'),
      '--src',
      '172.16.1.5',
      '--dst',
      '10.0.0.7:443',
      '--format',
      'json',
    ]);
    const j = JSON.parse(r.out);
    expect(j.captured).toBe(true);
    expect(j.how).toBe('dnat');
    expect(j.dnat).toBe('172.16.2.10:8443');
    expect(j.outcomes.map((o: { dnat: string; probability: number }) => [o.dnat, o.probability])).toEqual([
      ['172.16.2.10:8443', 0.5],
      ['172.16.3.11:8443', 0.5],
    ]);
    const text = await run([
      '--iptables-save',
      fx('iptables-mode/iptables-save.txt'),
      '--addr',
      fx('iptables-mode/addr.txt'),
      '--src',
      '172.16.1.5',
      '--dst',
      '10.0.0.7:443',
    ]);
    expect(text.out.split('\n')[0]).toBe('captured on the node by DNAT to one of 2 endpoints (172.16.2.10:8443 50%, 172.16.3.11:8443 50%)');
  });

  it('--filter shows the KUBE-PROXY-FIREWALL drop', async () => {
    const r = await run([
      '--iptables-save',
      fx('iptables-mode/iptables-save.txt'),
      '--addr',
      fx('iptables-mode/addr.txt'),
      '--src',
      '172.16.1.5',
      '--dst',
      '10.0.0.9:8443',
      '--filter',
    ]);
    expect(r.out.split('\n')[0]).toBe('dropped on the node by filter KUBE-PROXY-FIREWALL rule 1');
  });

  it('without --addr the answer is uncertain and says so', async () => {
    const r = await run([
      '--iptables-save',
      fx('ipvs-local/iptables-save.txt'),
      '--ipset',
      fx('ipvs-local/ipset.txt'),
      '--src',
      '172.16.1.5',
      '--dst',
      '10.0.0.5:80',
    ]);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/\[uncertain: see below\]$/);
    expect(r.out).toContain(
      '  - the node addresses are unknown (no addr.txt): assumed 10.0.0.5 is not bound on the node (in particular not on kube-ipvs0)',
    );
  });

  it('reads a dump from standard input and shows conntrack evidence', async () => {
    const r = await run(
      [
        '--iptables-save',
        '-',
        '--ipset',
        fx('ipvs-local/ipset.txt'),
        '--addr',
        fx('ipvs-local/addr.txt'),
        '--conntrack',
        fx('ipvs-local/conntrack.txt'),
        '--src',
        '172.16.1.5',
        '--dst',
        '10.0.0.5:80',
      ],
      readFileSync(fx('ipvs-local/iptables-save.txt'), 'utf8'),
    );
    expect(r.out).toContain('(iptables-save (stdin):68)');
    expect(r.out).toContain(
      'conntrack: 3 connection(s) from 172.16.1.5 to 10.0.0.5:80; 2 never answered [UNREPLIED]; source rewritten (SNAT) in 0',
    );
    expect(r.out).toContain('  - tcp 172.16.1.5:51234 -> 10.0.0.5:80 (reply 10.0.0.5:80 -> 172.16.1.5:51234) SYN_SENT [UNREPLIED]');
  });

  it('IPv6 with --ip6tables-save', async () => {
    const r = await run([
      '--ip6tables-save',
      fx('ipv6/ip6tables-save.txt'),
      '--ipset',
      fx('ipv6/ipset.txt'),
      '--addr',
      fx('ipv6/addr.txt'),
      '--src',
      'fd00:10:244:1::5',
      '--dst',
      '[fd00:10::5]:80',
      '--format',
      'json',
    ]);
    const j = JSON.parse(r.out);
    expect(j.snat).toBe(false);
    expect(j.finalDestination).toBe('[fd00:10::5]:80');
  });

  it('lists problems found in the dumps, with file and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-trace-'));
    const bad = join(dir, 'iptables-save.txt');
    writeFileSync(
      bad,
      readFileSync(fx('ipvs-local/iptables-save.txt'), 'utf8').replace(
        '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
        '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\nthis is not a rule',
      ),
    );
    const r = await run([
      '--iptables-save',
      bad,
      '--ipset',
      fx('ipvs-local/ipset.txt'),
      '--addr',
      fx('ipvs-local/addr.txt'),
      '--src',
      '172.16.1.5',
      '--dst',
      '10.0.0.5:80',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`1 problem(s) reading the dumps:\n  ${bad}:71: error: unrecognized line "this is not a rule"; skipped`);
  });

  describe('usage errors (exit 2 through main)', () => {
    const base = ['--src', '172.16.1.5', '--dst', '10.0.0.5:80'];
    it.each([
      [[...base], /--iptables-save FILE or --nft FILE is required/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), '--dst', '10.0.0.5:80'], /--src IP is required/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), '--src', '172.16.1.5'], /--dst IP:PORT is required/],
      [
        ['--iptables-save', '/nonexistent/iptables-save.txt', ...base],
        /cannot read --iptables-save \/nonexistent\/iptables-save.txt: no such file/,
      ],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), '--ipset', FX, ...base], /cannot read --ipset .*: is a directory/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), '--src', '172.16.1.5', '--dst', '10.0.0.5'], /give the port too/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), '--src', 'pod-a', '--dst', '10.0.0.5:80'], /--src pod-a: not an IP address/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), ...base, '--hook', 'forward'], /--hook forward: expected prerouting/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), ...base, '--proto', 'icmp'], /--proto icmp/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), ...base, '--format', 'yaml'], /--format yaml/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), ...base, '--sport', '99999'], /--sport 99999/],
      [['--iptables-save', fx('ipvs-local/iptables-save.txt'), ...base, '--bogus'], /trace: Unknown option '--bogus'/],
      [
        ['--iptables-save', fx('ipvs-local/iptables-save.txt'), '--src', 'fd00::1', '--dst', '[fd00::5]:80'],
        /the packet is IPv6 but .* holds IPv4 \(iptables-save\) rules/,
      ],
      [['--iptables-save', fx('ipvs-local/addr.txt'), ...base], /addr.txt: no iptables-save table found/],
      [['--iptables-save', '-', '--ipset', '-', ...base], /only one of the files can be -/],
    ])('%j', async (args, message) => {
      await expect(run(args as string[])).rejects.toThrow(UsageError);
      await expect(run(args as string[])).rejects.toThrow(message);
    });
  });

  describe('--nft (kube-proxy nftables mode)', () => {
    const NFT_TEXT = fx('upstream-kube-proxy/TestOverallNFTablesRules.nft-list.txt');
    const NFT_JSON = fx('upstream-kube-proxy/TestOverallNFTablesRules.nft.json');
    const addr = join(mkdtempSync(join(tmpdir(), 'loopscope-nft-')), 'addr.txt');
    writeFileSync(addr, '1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 192.168.0.2/24 scope global eth0\n');

    it('text and JSON (detected) give the same JSON answer: the VIP is captured by service-ips', async () => {
      const args = ['--addr', addr, '--src', '10.0.0.2', '--dst', '1.2.3.4:80', '--filter', '--format', 'json'];
      const [text, json] = await Promise.all([run(['--nft', NFT_TEXT, ...args]), run(['--nft', NFT_JSON, ...args])]);
      expect(text.code).toBe(0);
      const a = JSON.parse(text.out);
      const b = JSON.parse(json.out);
      for (const k of ['captured', 'how', 'dnat', 'snat', 'snatRule', 'droppedBy', 'uncertain', 'reasons'])
        expect([k, b[k]]).toEqual([k, a[k]]);
      expect(a).toEqual(expect.objectContaining({ captured: true, how: 'dnat', dnat: '10.180.0.2:80', snat: false, uncertain: false }));
      expect(a.rules.map((r: { chain: string }) => r.chain)).toContain('services');
      expect(b.rules.map((r: { handle?: number }) => r.handle).every((h: unknown) => typeof h === 'number')).toBe(true);
      expect(a.outcomes).toHaveLength(1);
    });

    it('text output cites family, table, chain, rule and handle; a blocked source is dropped with --filter', async () => {
      const r = await run(['--nft', NFT_TEXT, '--addr', addr, '--src', '203.0.113.130', '--dst', '5.6.7.8:80', '--filter']);
      expect(r.out.split('\n')[0]).toBe('dropped on the node by ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80 rule 1 (handle 102)');
      expect(r.out).toContain(
        `ip kube-proxy filter-prerouting-pre-dnat rule 1 (handle 43): ct state new jump firewall-check  (${NFT_TEXT}:73)`,
      );
    });

    it('an IPv6 packet against an IPv4-only nft ruleset is a usage error naming the file', async () => {
      await expect(run(['--nft', NFT_TEXT, '--src', 'fd00::2', '--dst', '[fd00::5]:80'])).rejects.toThrow(
        `--nft ${NFT_TEXT}: no ip6 or inet table for this IPv6 packet`,
      );
    });
  });

  it('the built @loopscope/core exports the netfilter API the command uses', () => {
    const dist = join(__dirname, '..', '..', '..', 'packages', 'core', 'dist', 'index.js');
    if (!existsSync(dist)) return; // not built: the source test above covers the command
    const core = jest.requireActual(dist) as Record<string, unknown>;
    for (const name of [
      'loadNodeDumps',
      'traceLbPacket',
      'formatTraceText',
      'traceVerdict',
      'parseEndpoint',
      'parseIp',
      'formatIp',
      'formatDumpProblem',
      'describeConntrackEntry',
      'TraceInputError',
    ]) {
      expect(typeof core[name]).toBe('function');
    }
  });
});
