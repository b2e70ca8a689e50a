import { parseIptablesSave, type RuleMatch, type RuleTarget } from '../../src/netfilter';
import { fixture } from './fixtures';

const wrap = (rules: string, chains = '') =>
  `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${chains}${rules}\nCOMMIT\n`;

function rule(line: string, chains = '') {
  const parsed = parseIptablesSave(wrap(line, chains), 'r.txt');
  const chainName = /-A (\S+)/.exec(line)?.[1] ?? 'PREROUTING';
  const r = parsed.value.tables.get('nat')?.chains.get(chainName)?.rules[0];
  if (!r) throw new Error(`no rule parsed from ${line}: ${JSON.stringify(parsed.problems)}`);
  return { rule: r, problems: parsed.problems };
}

const kinds = (ms: RuleMatch[]) => ms.map((m) => m.kind);

describe('parseIptablesSave', () => {
  it('reads tables, chains, policies, counters and rule numbers of a real dump', () => {
    const { value, problems } = parseIptablesSave(fixture('iptables-mode/iptables-save.txt').text, 'iptables-save.txt');
    expect(problems).toEqual([]);
    expect([...value.tables.keys()]).toEqual(['filter', 'nat']);
    expect(value.family).toBe(4);
    expect(value.generator).toBe('iptables-save v1.8.9 (nf_tables)');
    const nat = value.tables.get('nat');
    const pre = nat?.chains.get('PREROUTING');
    expect(pre).toMatchObject({ builtin: true, policy: 'ACCEPT', counters: { packets: 41, bytes: 2460 }, line: 34 });
    const svc = nat?.chains.get('KUBE-SERVICES');
    expect(svc?.builtin).toBe(false);
    expect(svc?.policy).toBeNull();
    expect(svc?.rules.map((r) => r.ruleNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(svc?.rules[7]?.counters).toEqual({ packets: 41, bytes: 2460 });
    expect(svc?.rules[7]?.text.startsWith('-A KUBE-SERVICES -m comment')).toBe(true);
    let count = 0;
    for (const t of value.tables.values()) for (const c of t.chains.values()) count += c.rules.length;
    expect(count).toBe(71); // every -A line of the file
  });

  it('reads addresses with ! and CIDRs, protocols and interfaces', () => {
    const { rule: r } = rule('-A PREROUTING ! -s 10.0.0.0/8 -d 192.168.1.7/32 ! -p udp -i eth+ ! -o lo -j ACCEPT');
    expect(r.matches).toEqual([
      expect.objectContaining({ kind: 'source', negated: true }),
      expect.objectContaining({ kind: 'destination', negated: false }),
      expect.objectContaining({ kind: 'protocol', negated: true, protocol: 17 }),
      expect.objectContaining({ kind: 'inInterface', negated: false, name: 'eth+' }),
      expect.objectContaining({ kind: 'outInterface', negated: true, name: 'lo' }),
    ]);
    expect(r.target).toEqual({ kind: 'accept', text: '-j ACCEPT' });
  });

  it('reads tcp/udp ports, ranges and multiport lists', () => {
    const { rule: r } = rule(
      '-A PREROUTING -p tcp -m tcp --sport 1024:65535 ! --dport 80 -m multiport --dports 80,443,8000:8100 -m multiport ! --ports 53',
    );
    expect(r.matches.slice(1)).toEqual([
      expect.objectContaining({ kind: 'port', which: 'sport', negated: false, ranges: [{ from: 1024, to: 65535 }] }),
      expect.objectContaining({ kind: 'port', which: 'dport', negated: true, ranges: [{ from: 80, to: 80 }] }),
      expect.objectContaining({
        kind: 'port',
        which: 'dport',
        ranges: [
          { from: 80, to: 80 },
          { from: 443, to: 443 },
          { from: 8000, to: 8100 },
        ],
      }),
      expect.objectContaining({ kind: 'port', which: 'either', negated: true }),
    ]);
    expect(r.target.kind).toBe('none');
  });

  it('accepts --dport after -p without -m (iptables-restore input) and the old `--dport ! 80` form', () => {
    const { rule: r } = rule('-A PREROUTING -p udp --dport ! 53 -j RETURN');
    expect(r.matches[1]).toEqual(expect.objectContaining({ kind: 'port', which: 'dport', negated: true }));
  });

  it('reads -m set with flags and !, and --return-nomatch', () => {
    const { rule: r } = rule(
      '-A PREROUTING -m set ! --match-set KUBE-LOOP-BACK dst,dst,src --return-nomatch ! --update-counters -j RETURN',
    );
    expect(r.matches).toEqual([
      {
        kind: 'set',
        negated: true,
        setName: 'KUBE-LOOP-BACK',
        flags: ['dst', 'dst', 'src'],
        returnNomatch: true,
        text: '-m set ! --match-set KUBE-LOOP-BACK dst,dst,src --return-nomatch',
      },
    ]);
  });

  it('reads -m mark with and without mask and with !', () => {
    expect(rule('-A POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN').rule.matches[0]).toEqual(
      expect.objectContaining({ kind: 'mark', negated: true, value: 0x4000, mask: 0x4000 }),
    );
    expect(rule('-A POSTROUTING -m mark --mark 7 -j RETURN').rule.matches[0]).toEqual(
      expect.objectContaining({ value: 7, mask: 0xffffffff }),
    );
  });

  it('reads -m addrtype with limit-iface and negation', () => {
    const { rule: r } = rule('-A PREROUTING -m addrtype ! --src-type LOCAL --dst-type LOCAL,BROADCAST --limit-iface-in -j RETURN');
    expect(r.matches[0]).toEqual({
      kind: 'addrtype',
      src: { negated: true, types: ['LOCAL'] },
      dst: { negated: false, types: ['LOCAL', 'BROADCAST'] },
      limitIfaceIn: true,
      limitIfaceOut: false,
      text: '-m addrtype ! --src-type LOCAL --dst-type LOCAL,BROADCAST --limit-iface-in',
    });
  });

  it('reads quoted comments with spaces and escaped quotes, and single quotes', () => {
    const { rule: r } = rule(
      '-A PREROUTING -m comment --comment "say \\"hi\\" to ns/svc:p -j X" -m comment --comment \'single quoted\' -j RETURN',
    );
    expect(r.matches).toEqual([
      expect.objectContaining({ kind: 'comment', comment: 'say "hi" to ns/svc:p -j X' }),
      expect.objectContaining({ kind: 'comment', comment: 'single quoted' }),
    ]);
    expect(r.target.kind).toBe('return');
  });

  it('reads statistic and conntrack', () => {
    const { rule: r } = rule(
      '-A PREROUTING -m statistic --mode random --probability 0.33333333349 -m conntrack ! --ctstate RELATED,ESTABLISHED -j RETURN',
    );
    expect(r.matches[0]).toEqual(expect.objectContaining({ kind: 'statistic', probability: 0.33333333349, negated: false }));
    expect(r.matches[1]).toEqual(expect.objectContaining({ kind: 'ctstate', negated: true, states: ['RELATED', 'ESTABLISHED'] }));
  });

  it('reads targets: jumps, goto, MARK forms, MASQUERADE, SNAT, DNAT (IPv4 and IPv6), REJECT', () => {
    const t = (line: string, chains = ':KUBE-SVC-X - [0:0]\n'): RuleTarget => rule(line, chains).rule.target;
    expect(t('-A PREROUTING -j KUBE-SVC-X')).toEqual({ kind: 'chain', chain: 'KUBE-SVC-X', goto: false, text: '-j KUBE-SVC-X' });
    expect(t('-A PREROUTING -g KUBE-SVC-X')).toEqual(expect.objectContaining({ kind: 'chain', goto: true }));
    expect(t('-A PREROUTING -j MARK --set-xmark 0x4000/0x4000')).toEqual(
      expect.objectContaining({ kind: 'mark', value: 0x4000, mask: 0x4000 }),
    );
    expect(t('-A PREROUTING -j MARK --set-xmark 0x4000/0x0')).toEqual(expect.objectContaining({ kind: 'mark', value: 0x4000, mask: 0 }));
    expect(t('-A PREROUTING -j MARK --or-mark 0x4000')).toEqual(expect.objectContaining({ value: 0x4000, mask: 0x4000 }));
    expect(t('-A PREROUTING -j MARK --xor-mark 0x4000')).toEqual(expect.objectContaining({ value: 0x4000, mask: 0 }));
    expect(t('-A PREROUTING -j MARK --set-mark 0x1')).toEqual(expect.objectContaining({ value: 1, mask: 0xffffffff }));
    expect(t('-A PREROUTING -j MARK --set-mark 0x20/0xf0')).toEqual(expect.objectContaining({ value: 0x20, mask: 0xf0 }));
    expect(t('-A POSTROUTING -j MASQUERADE --to-ports 1024-2048 --random-fully')).toEqual(
      expect.objectContaining({ kind: 'masquerade', randomFully: true, toPorts: { from: 1024, to: 2048 } }),
    );
    const snat = t('-A POSTROUTING -j SNAT --to-source 10.0.0.12');
    expect(snat.kind === 'snat' && snat.to.from?.value).toBe(0x0a00000c);
    const dnat = t('-A PREROUTING -p tcp -j DNAT --to-destination 10.1.2.3:8080');
    expect(dnat.kind === 'dnat' && [dnat.to.from?.value, dnat.to.ports]).toEqual([0x0a010203, { from: 8080, to: 8080 }]);
    const dnat6 = t('-A PREROUTING -p tcp -j DNAT --to-destination [fd00::5]:8080');
    expect(dnat6.kind === 'dnat' && [dnat6.to.from?.family, dnat6.to.ports?.from]).toEqual([6, 8080]);
    const dnat6bare = t('-A PREROUTING -j DNAT --to-destination fd00::5');
    expect(dnat6bare.kind === 'dnat' && dnat6bare.to.from?.family).toBe(6);
    const range = t('-A PREROUTING -p tcp -j DNAT --to-destination 10.1.2.3-10.1.2.9:80-81');
    expect(range.kind === 'dnat' && [range.to.to?.value, range.to.ports]).toEqual([0x0a010209, { from: 80, to: 81 }]);
    expect(t('-A PREROUTING -j REJECT --reject-with icmp-port-unreachable')).toEqual(
      expect.objectContaining({ kind: 'reject', rejectWith: 'icmp-port-unreachable' }),
    );
  });

  it('keeps unknown matches and targets, marked, with their text', () => {
    const { rule: r, problems } = rule('-A PREROUTING -m physdev ! --physdev-is-in -m owner --uid-owner 0 -j TPROXY --on-port 1');
    expect(problems).toEqual([]);
    expect(r.matches).toEqual([
      {
        kind: 'unknown',
        module: 'physdev',
        reason: 'match extension -m physdev is not evaluated by loopscope',
        text: '-m physdev ! --physdev-is-in',
      },
      expect.objectContaining({ kind: 'unknown', module: 'owner', text: '-m owner --uid-owner 0' }),
    ]);
    expect(r.target).toEqual(expect.objectContaining({ kind: 'unknown', name: 'TPROXY', text: '-j TPROXY --on-port 1' }));
    const known = rule('-A PREROUTING -m conntrack --ctorigdst 10.0.0.1 -j RETURN').rule;
    expect(known.matches[0]).toEqual(
      expect.objectContaining({ kind: 'unknown', module: 'conntrack', reason: expect.stringContaining('--ctorigdst') }),
    );
  });

  it('reports words it cannot read with file and line, keeps the rule', () => {
    const { rule: r, problems } = rule('-A PREROUTING -s not-an-ip -j RETURN');
    expect(r.target.kind).toBe('return');
    expect(r.matches[0]).toEqual(expect.objectContaining({ kind: 'unknown', reason: 'cannot read address "not-an-ip"' }));
    expect(problems).toEqual([
      {
        file: 'r.txt',
        line: 6,
        message: 'cannot read address "not-an-ip"; kept as a condition loopscope cannot evaluate',
        severity: 'warning',
      },
    ]);
  });

  it('handles -N, -I with position, -P and rules for undeclared chains', () => {
    const text =
      '*nat\n:PREROUTING ACCEPT [0:0]\n-N KUBE-A\n-A KUBE-A -j RETURN\n-A KUBE-A -j ACCEPT\n-I KUBE-A 2 -j DROP\n-I KUBE-A -j MARK --set-mark 1\n-P PREROUTING DROP\n-A KUBE-B -j RETURN\nCOMMIT\n';
    const { value, problems } = parseIptablesSave(text, 'restore.txt');
    const a = value.tables.get('nat')?.chains.get('KUBE-A');
    expect(a?.rules.map((r) => [r.ruleNumber, r.target.kind])).toEqual([
      [1, 'mark'],
      [2, 'return'],
      [3, 'drop'],
      [4, 'accept'],
    ]);
    expect(value.tables.get('nat')?.chains.get('PREROUTING')?.policy).toBe('DROP');
    expect(problems).toEqual([
      {
        file: 'restore.txt',
        line: 9,
        message: 'rule for chain KUBE-B, which table nat does not declare; chain created',
        severity: 'warning',
      },
    ]);
  });

  it('recognizes ip6tables-save dumps and warns about legacy tables', () => {
    const { value, problems } = parseIptablesSave(
      '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n# Generated by ip6tables-save v1.8.9 (nf_tables) on x\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n',
      'v6.txt',
    );
    expect(value.family).toBe(6);
    expect(problems[0]).toEqual(
      expect.objectContaining({ line: 1, severity: 'warning', message: expect.stringContaining('iptables-legacy') }),
    );
  });

  it('survives truncated, mixed and garbage input, keeping every good line', () => {
    const good = fixture('ipvs-local/iptables-save.txt').text;
    const cut = good.slice(0, good.indexOf('-A KUBE-SERVICES -m addrtype') + 20);
    const { value, problems } = parseIptablesSave(cut, 'cut.txt');
    expect(value.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules).toHaveLength(4);
    // The cut rule is kept with its unreadable tail marked; the file is flagged as cut off.
    expect(problems.map((p) => p.message)).toEqual([
      '-m needs a module name; kept as a condition loopscope cannot evaluate',
      expect.stringContaining('table nat has no COMMIT'),
      'the last line has no newline: the file looks cut off',
    ]);
    const garbage = parseIptablesSave(
      'hello\n-A X -j Y\n*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m comment --comment "unterminated\nfoo bar\nCOMMIT\n*nat\n-A PREROUTING -j DROP\nCOMMIT\n',
      'g.txt',
    );
    expect(garbage.problems.map((p) => [p.line, p.message])).toEqual([
      [1, 'line outside a table (no *nat / *filter before it); skipped'],
      [2, 'line outside a table (no *nat / *filter before it); skipped'],
      [5, 'unterminated double quote (truncated line?); rule skipped'],
      [6, 'unrecognized line "foo bar"; skipped'],
      [8, 'table nat appears again (two dumps concatenated?); the second copy is ignored'],
    ]);
    expect(garbage.value.tables.get('nat')?.chains.get('PREROUTING')?.rules).toHaveLength(0);
  });

  it('never throws on non-text input', () => {
    expect(parseIptablesSave(undefined as unknown as string, 'u').problems[0]?.message).toBe('not text');
  });

  it('keeps kind names the trace relies on', () => {
    const { rule: r } = rule(
      '-A PREROUTING -f -m iprange --src-range 10.0.0.1-10.0.0.9 -m pkttype --pkt-type unicast -p tcp -m tcp --syn -j RETURN',
    );
    expect(kinds(r.matches)).toEqual(['fragment', 'iprange', 'pkttype', 'protocol', 'tcpFlags']);
  });
});
