/**
 * Every regex that reads outside data runs in linear time (or sees capped input): each is fed a
 * 1 MB string of the shape that makes a backtracking pattern quadratic, and must finish within a
 * budget a quadratic pattern misses by orders of magnitude (200,000 characters took 32–37 s before).
 *
 * Asserts: the call returns (no throw) within BUDGET_MS, and real values still parse.
 */
import { analyzeCluster, clusterFromObjects, explain, parseKubeVersion, imageTag } from '../../src';
import { hasModeLine, kubeProxyConfigMode } from '../../src/cluster/kubeProxyConfig';
import { awsPreserveClientIp } from '../../src/profile/signals';
import { closest, editDistance, editDistanceWithin } from '../../src/explain/similarity';
import { parseConntrack, parseIpAddr, parseIpset, parseIptablesSave, parseNft } from '../../src/netfilter';
import { parsePriority } from '../../src/netfilter/nftables/priority';
import { deploymentPods, kubeProxyPod, lbService, node, pod, workedExample } from '../model/builders';

const MB = 1 << 20;
/** Linear work on 1 MB is a few ms; a quadratic pattern on 1 MB takes hours. Generous for a shared CI core. */
const BUDGET_MS = 1500;

function timed<T>(f: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = f();
  return { value, ms: performance.now() - start };
}

const digits = '1'.repeat(MB);
const spaces = ' '.repeat(MB);

describe('kube-proxy and image versions (node status, image tags)', () => {
  test.each([
    ['a digit run', digits],
    ['"1." repeated', '1.'.repeat(MB / 2)],
    ['"v1.2" repeated', 'v1.2'.repeat(MB / 4)],
    ['"1.2.3-tke." repeated', '1.2.3-tke.'.repeat(MB / 10)],
  ])('parseKubeVersion on %s (1 MB) returns within the budget', (_name, text) => {
    const { value, ms } = timed(() => parseKubeVersion(text));
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(value).toBeUndefined();
  });

  test('the version pattern itself is linear on a capped-size digit run, and real versions still parse', () => {
    expect(timed(() => parseKubeVersion('1'.repeat(250))).ms).toBeLessThan(50);
    expect(parseKubeVersion('v1.20.6-tke.12')).toMatchObject({ major: 1, minor: 20, patch: 6, tke: 12 });
    expect(parseKubeVersion('v1.28.3-eks-1-28-25')).toMatchObject({ major: 1, minor: 28, patch: 3 });
    expect(parseKubeVersion('v1.28.3-eks-1-28-25')!.tke).toBeUndefined();
    expect(parseKubeVersion(imageTag('ccr.ccs.tencentyun.com/library/kube-proxy:v1.18.4-tke.20@sha256:abc'))).toMatchObject({
      minor: 18,
      tke: 20,
    });
    // A number glued to a longer digit run is not a version component.
    expect(parseKubeVersion('1234567890.1.1')).toBeUndefined();
  });

  test('a node with a 1 MB kubeProxyVersion and a pod with a 1 MB image tag: analysed within the budget', () => {
    const objects = workedExample('Local', { kubeProxyVersion: `v${digits}` });
    const { ms } = timed(() => analyzeCluster(clusterFromObjects(objects)));
    expect(ms).toBeLessThan(BUDGET_MS * 2);
  });
});

describe('the kube-proxy ConfigMap mode', () => {
  test.each([
    ['whitespace after mode:', `mode:${spaces}\tx!`],
    ['newlines after mode:', `mode:${'\n'.repeat(MB)}x!`],
    ['"mode:" lines', 'mode:\n'.repeat(MB / 6)],
    ['quotes', `mode: ${'"'.repeat(MB)}`],
  ])('%s (1 MB) is read within the budget', (_name, text) => {
    const { ms } = timed(() => [hasModeLine(text), kubeProxyConfigMode(text)]);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  test('real configs still give their mode', () => {
    expect(kubeProxyConfigMode('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "ipvs"\n')).toBe('ipvs');
    expect(kubeProxyConfigMode("mode: 'nftables' # since 1.31\n")).toBe('nftables');
    expect(kubeProxyConfigMode('mode: ""\n')).toBe('');
    expect(kubeProxyConfigMode('ipvs:\n  mode: ipvs\n')).toBe('');
    expect(hasModeLine('a: 1\nmode: ipvs')).toBe(true);
  });

  test('a 1 MB adversarial ConfigMap in a snapshot is analysed within the budget', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-proxy', namespace: 'kube-system' },
      data: { 'config.conf': `mode:${spaces}\tx!` },
    };
    const { ms } = timed(() => analyzeCluster(clusterFromObjects([...workedExample(), cm])));
    expect(ms).toBeLessThan(BUDGET_MS * 2);
  });
});

describe('Service annotations, owner names and kube-proxy args', () => {
  test('AWS target-group attributes (1 MB) are read within the budget', () => {
    const attrs = `preserve_client_ip.enabled${spaces}x`;
    const { ms } = timed(() => awsPreserveClientIp({ 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': attrs }));
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  test('a 1 MB Job owner name and 1 MB kube-proxy args are analysed within the budget', () => {
    const job = pod('shop', 'cron-x', 'n1', { owner: { kind: 'Job', name: `${'a-1'.repeat(MB / 3)}-` } });
    const kp = kubeProxyPod('n2', [`--proxy-mode=${'a'.repeat(MB)}`, `--v${'-'.repeat(MB)}`]);
    const svc = lbService('pay', 'aws', {
      annotations: { 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': `preserve_client_ip.enabled${spaces}=` },
    });
    const { ms } = timed(() =>
      analyzeCluster(
        clusterFromObjects([node('n1', '10.0.0.1'), node('n2', '10.0.0.2'), job, kp, svc, ...deploymentPods('pay', 'aws', ['n1'])]),
      ),
    );
    expect(ms).toBeLessThan(BUDGET_MS * 2);
  });
});

describe('explain targets (HTTP queries, Slack questions, CLI arguments)', () => {
  const analysis = analyzeCluster(clusterFromObjects(workedExample()));

  test.each([
    ['letters', 'a'.repeat(MB)],
    ['".elb." repeated', '.elb.'.repeat(MB / 5) + '!'],
    ['colons', ':'.repeat(MB) + 'x'],
    ['"[" and hex', '[' + 'f'.repeat(MB) + ']x'],
  ])('a 1 MB target of %s is refused within the budget, by the cap and without it', (_name, text) => {
    const capped = timed(() => explain(analysis, text));
    expect(capped.ms).toBeLessThan(BUDGET_MS);
    expect(capped.value).toMatchObject({ ok: false, message: expect.stringMatching(/^the target is \d+ characters long/) });
    // Behind the cap the patterns are linear too: lift it and the answer still comes in time.
    const uncapped = timed(() => explain(analysis, text, { maxTargetChars: 2 * MB }));
    expect(uncapped.ms).toBeLessThan(BUDGET_MS * 2);
    expect(uncapped.value.ok).toBe(false);
  });

  test('AWS NLB hostnames are still recognised as LB addresses', () => {
    const r = explain(analysis, 'k8s-pay-payments-0123456789.elb.us-west-2.amazonaws.com');
    expect(r).toMatchObject({
      ok: false,
      message: expect.stringContaining('no Service has the LB ingress k8s-pay-payments-0123456789.elb'),
    });
  });
});

describe('"did you mean": bounded edit distance', () => {
  test('agrees with the full edit distance wherever that is within the bound', () => {
    const words = ['', 'a', 'payments', 'paymnts', 'payments-api', 'checkout', 'chekcout', 'kube-dns', 'x'.repeat(40), 'abcdefghij'];
    for (const a of words)
      for (const b of words)
        for (const max of [0, 1, 2, 3, 5, 50]) {
          const full = editDistance(a, b);
          expect(editDistanceWithin(a, b, max)).toBe(full <= max ? full : max + 1);
        }
  });

  test('a 1 MB query against 30,000 names returns within the budget', () => {
    const names = Array.from({ length: 30_000 }, (_, i) => `ns-${i % 97}/app-${i.toString(36)}-api`);
    const { ms } = timed(() => closest('a'.repeat(MB), names));
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(closest('app-zz-apl', names)).toContain('ns-34/app-zz-api');
  });

  test('the scan stops at its time budget and returns what it found', () => {
    let t = 0;
    const names = Array.from({ length: 100_000 }, (_, i) => `n/app-${i}`);
    // A clock that advances 1 ms per read: the check every 256 candidates passes the 5 ms deadline soon.
    const found = closest('app-1', names, { budgetMs: 5, now: () => t++ });
    expect(found.length).toBeGreaterThan(0);
    expect(t).toBeLessThan(20);
  });
});

/**
 * The dump parsers' patterns (grep of `new RegExp` and quantified literals over core/src and
 * cli/src): each parser is fed 1 MB lines of the shapes its patterns would backtrack on.
 */
describe('node dump parsers (iptables-save, ipset, conntrack, ip addr, nft)', () => {
  const dumpCases: Array<[string, () => unknown]> = [
    ['conntrack footer after a digit run', () => parseConntrack(`${digits}x flow entries have been shown.\n`, 'c')],
    ['conntrack entry of spaces', () => parseConntrack(`tcp 6 ${spaces} x\n`, 'c')],
    ['nft priority with a blank run', () => parsePriority(`1${spaces}x`, 'ip')],
    ['nft priority "dstnat +" run', () => parsePriority(`dstnat${' +'.repeat(MB / 2)}`, 'ip')],
    ['nft ruleset text of braces', () => parseNft(`table ip t {${' chain c {'.repeat(MB / 10)}`, 'n')],
    ['iptables chain declaration with blanks', () => parseIptablesSave(`*nat\n:A B${spaces}x\nCOMMIT\n`, 'd')],
    ['iptables "Generated by" header', () => parseIptablesSave(`# Generated by iptables-save${'v'.repeat(MB)} (${'('.repeat(MB)}\n`, 'd')],
    ['iptables quoted word with escapes', () => parseIptablesSave(`*nat\n-A X -m comment --comment "${'\\"'.repeat(MB / 2)}\n`, 'd')],
    ['iptables counters and -I digits', () => parseIptablesSave(`*nat\n[${digits}:${digits}] -I X ${digits}\nCOMMIT\n`, 'd')],
    ['ipset list field line', () => parseIpset(`Name: x\nHeader${' a'.repeat(MB / 2)}: y\nNumber of entries: ${digits}\n`, 'i')],
    ['ip addr line', () => parseIpAddr(`1: ${'a'.repeat(MB)} link/ether\n2:${spaces}eth0: x\n`, 'a')],
  ];
  test.each(dumpCases)('%s (1 MB) is read within the budget', (_name, f) => {
    const { ms } = timed(f);
    expect(ms).toBeLessThan(BUDGET_MS);
  });

  test('real values still parse', () => {
    expect(parsePriority('dstnat - 10', 'ip')).toBe(-110);
    expect(parsePriority('  filter  ', 'ip')).toBe(0);
    expect(parsePriority('-150', 'ip')).toBe(-150);
    expect(
      parseConntrack(
        'tcp      6 117 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=1 dport=80 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=80 dport=1 mark=0 use=1\nconntrack v1.4.6 (conntrack-tools): 1 flow entries have been shown.\n',
        'c',
      ).problems,
    ).toEqual([]);
  });
});
