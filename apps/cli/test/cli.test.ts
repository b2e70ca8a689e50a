/**
 * The CLI as a process: exit codes, the loopscope/v1 JSON contract, messages without stack traces.
 * Runs the built `dist/main.js` (turbo builds before testing).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoSnapshotPath } from '@loopscope/demo';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

const tmp = mkdtempSync(join(tmpdir(), 'loopscope-cli-'));
/** No kubeconfig of the machine's user leaks into a test; nor a terminal width (stdout is a pipe: 100 columns). */
const HERMETIC: NodeJS.ProcessEnv = { ...process.env, HOME: tmp, KUBECONFIG: '', COLUMNS: '' };

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: HERMETIC });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function noStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

describe('loopscope analyze', () => {
  it('runs on the bundled demo cluster and finds the seed case', () => {
    const r = cli(['analyze', '--demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/payments\/payments-api\s+loopback/);
    expect(r.stdout).toMatch(/orders\/orders-api\s+safe/);
    expect(r.stdout).toMatch(/inventory\/inventory-api\s+safe/);
    // 100 columns (not a terminal): "n/a" stands for not-applicable; the worst-client figure leads.
    expect(r.stdout).toMatch(/web\/storefront\s+n\/a/);
    expect(r.stdout).toMatch(/payments\/payments-api\s+loopback\s+up to 50%\s+18\.1%/);
    for (const l of r.stdout.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
    expect(r.stdout).toContain('Explain one: loopscope explain');
  });

  it('the table takes the width from COLUMNS', () => {
    const r = spawnSync(process.execPath, [MAIN, 'analyze', '--demo'], { encoding: 'utf8', env: { ...HERMETIC, COLUMNS: '250' } });
    expect(r.stdout).toMatch(/web\/storefront\s+not-applicable.*PUBLIC_LB/);
    expect(r.stdout).toMatch(/^SERVICE\s+VERDICT\s+WORST CLIENT\s+EXPOSURE\s+CALLERS\s+AT RISK\s+POLICY\s+LB IP\s+WORKLOADS\s+WHY$/m);
  });

  it('--format json is the loopscope/v1 contract', () => {
    const r = cli(['analyze', '--demo', '--format', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.apiVersion).toBe('loopscope/v1');
    expect(Array.isArray(report.services)).toBe(true);
    expect(Array.isArray(report.links)).toBe(true);
    for (const s of report.services) {
      expect(s).toEqual(
        expect.objectContaining({
          namespace: expect.any(String),
          name: expect.any(String),
          verdict: expect.stringMatching(/^(loopback|safe|not-applicable|unknown)$/),
          loopbackProbability: expect.any(Number),
          atRiskNodes: expect.any(Array),
          affectedWorkloads: expect.any(Array),
          reasons: expect.any(Array),
          fixes: expect.any(Array),
        }),
      );
      expect(s.loopbackProbability).toBeGreaterThanOrEqual(0);
      expect(s.loopbackProbability).toBeLessThanOrEqual(1);
    }
    expect(report.links.length).toBeGreaterThan(0);
    for (const l of report.links) {
      expect(l).toEqual(
        expect.objectContaining({
          client: expect.objectContaining({ node: expect.any(String), namespace: expect.any(String), workload: expect.any(String) }),
          service: expect.objectContaining({ namespace: expect.any(String), name: expect.any(String) }),
          ingress: expect.objectContaining({ port: expect.any(Number) }),
          backend: expect.any(Object),
          probability: expect.any(Number),
        }),
      );
      expect(l.probability).toBeGreaterThan(0);
    }
    const kinds = new Set(report.links.map((l: { ingress: { ip?: string } }) => typeof l.ingress.ip));
    expect(kinds).toEqual(new Set(['string']));
    const payments = report.services.find((s: { name: string }) => s.name === 'payments-api');
    expect(payments.verdict).toBe('loopback');
    expect(payments.fixes[0].id).toBe('use-cluster-ip');
  });

  it('--fail-on-risk exits 1 when a Service is at risk', () => {
    expect(cli(['analyze', '--demo', '--fail-on-risk']).code).toBe(1);
  });

  it('--format markdown', () => {
    const r = cli(['analyze', '--demo', '--format', 'markdown']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('| Service | Verdict |');
  });

  it('reads a snapshot from stdin and from a directory of files', () => {
    const demo = cli(['analyze', '--demo', '--format', 'json']).stdout;
    const demoText = readFileSync(demoSnapshotPath(), 'utf8');
    const fromStdin = cli(['analyze', '--snapshot', '-', '--format', 'json'], demoText);
    expect(fromStdin.code).toBe(0);
    const strip = (s: string) =>
      JSON.parse(s).services.map((x: { name: string; loopbackProbability: number }) => [x.name, x.loopbackProbability]);
    expect(strip(fromStdin.stdout)).toEqual(strip(demo));
    const dir = join(tmp, 'split');
    mkdirSync(dir);
    const items = JSON.parse(demoText).items as Array<{ kind: string }>;
    writeFileSync(
      join(dir, 'nodes.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.filter((i) => i.kind === 'Node') }),
    );
    writeFileSync(
      join(dir, 'rest.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.filter((i) => i.kind !== 'Node') }),
    );
    expect(strip(cli(['analyze', '--snapshot', dir, '--format', 'json']).stdout)).toEqual(strip(demo));
  });

  it('a missing file is a usage error naming it, exit 2, no stack trace', () => {
    const r = cli(['analyze', '--snapshot', '/nonexistent/snap.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('snapshot /nonexistent/snap.json: no such file or directory');
    noStack(r.stderr);
  });

  it('a file that is not JSON at all: exit 2 naming it', () => {
    const f = join(tmp, 'garbage.json');
    writeFileSync(f, 'this is not json');
    const r = cli(['analyze', '--snapshot', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}: not valid JSON`);
    noStack(r.stderr);
  });

  it('a partly bad snapshot warns per object and analyses the rest', () => {
    const demo = JSON.parse(readFileSync(demoSnapshotPath(), 'utf8'));
    demo.items.push({ kind: 'Pod', metadata: { namespace: 'x' } }, 'junk');
    const f = join(tmp, 'partly.json');
    writeFileSync(f, JSON.stringify(demo));
    const r = cli(['analyze', '--snapshot', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*partly\.json: item \d+ \(Pod x\/\?\): metadata\.name: has no metadata\.name; skipped/);
    expect(r.stdout).toMatch(/payments\/payments-api\s+loopback/);
  });

  it('bad flags and values: exit 2 with the reason', () => {
    const r1 = cli(['analyze', '--demo', '--frobnicate']);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain("analyze: Unknown option '--frobnicate'");
    const r2 = cli(['analyze', '--demo', '--proxy-mode', 'userspace']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--proxy-mode userspace: expected one of iptables, ipvs, nftables, cilium-kpr');
    const r3 = cli(['analyze', '--demo', '--format', 'yaml']);
    expect(r3.code).toBe(2);
    expect(cli(['nope']).code).toBe(2);
  });

  it('profile overrides change the answer', () => {
    const r = JSON.parse(cli(['analyze', '--demo', '--format', 'json', '--proxy-mode', 'iptables']).stdout);
    expect(r.summary.loopback).toBe(0);
  });

  it('--help on each command', () => {
    for (const c of ['analyze', 'explain', 'whatif', 'trace', 'generate']) {
      const r = cli([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: loopscope/);
    }
    expect(cli(['--help']).stdout).toContain('Commands:');
  });
});

describe('loopscope explain', () => {
  it('explains the looping Service with the path and the fixes', () => {
    const r = cli(['explain', '--demo', 'payments-api']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Packet path');
    expect(r.stdout).toContain('<-- fails here');
    expect(r.stdout).toContain('Fixes (predicted figure after each)');
  });
  it('--format json and markdown', () => {
    expect(JSON.parse(cli(['explain', '--demo', 'payments/payments-api', '--format', 'json']).stdout).verdict).toBe('loopback');
    expect(cli(['explain', '--demo', 'payments/payments-api', '--format', 'markdown']).stdout).toContain('#### Packet path');
  });
  it('an unknown target: exit 2 with the closest names', () => {
    const r = cli(['explain', '--demo', 'paymnts-api']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Did you mean: payments/payments-api');
    noStack(r.stderr);
  });
  it('no target: exit 2', () => {
    expect(cli(['explain']).code).toBe(2);
  });
});

describe('--node-dumps', () => {
  const dumps = join(__dirname, '..', '..', '..', 'packages', 'demo', 'node-dumps');
  it('analyze shows observed failures and uses the traced datapath', () => {
    // -o wide: never cut to the terminal (at 100 columns the names and reasons may be).
    const r = cli(['analyze', '--demo', '--node-dumps', dumps, '-o', 'wide']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node dumps for 1 node(s)');
    expect(r.stdout).toMatch(/payments\/payments-api\s+loopback.*3 unreplied/);
    expect(r.stdout).toMatch(/inventory\/inventory-api\s+safe.*CAPTURED_EVIDENCE/);
    // The table at 100 columns adds OBSERVED and keeps the Services' names whole.
    const table = cli(['analyze', '--demo', '--node-dumps', dumps]).stdout;
    expect(table).toMatch(/OBSERVED/);
    expect(table).toMatch(/payments\/payments-api\s+loopback.*3 unreplied/);
  });
  it('explain cites the rules and separates observed from inferred', () => {
    const r = cli(['explain', '--demo', 'payments-api', '--node-dumps', dumps]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[observed]');
    expect(r.stdout).toContain('observed: 3 connection(s) from local pods to its LB were seen unanswered');
    expect(r.stdout).toContain('10.0.1.11/iptables-save.txt:58');
  });
  it('an nftables node (nft.txt, kube-proxy nftables mode): traced, and the rules are cited by table, chain and handle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-nft-dumps-'));
    const node = join(dir, '10.0.1.11');
    mkdirSync(node);
    copyFileSync(join(dumps, '10.0.1.11', 'addr.txt'), join(node, 'addr.txt'));
    // inventory-api's LB IP has an element in service-ips (VIP mode); payments-api's has none (ipMode: Proxy).
    writeFileSync(
      join(node, 'nft.txt'),
      [
        'table ip kube-proxy { # handle 1',
        '\tmap service-ips { # handle 2',
        '\t\ttype ipv4_addr . inet_proto . inet_service : verdict',
        '\t\telements = { 10.0.3.17 . tcp . 80 : goto external-inventory }',
        '\t}',
        '\tchain nat-prerouting { # handle 3',
        '\t\ttype nat hook prerouting priority dstnat; policy accept;',
        '\t\tjump services # handle 10',
        '\t}',
        '\tchain nat-postrouting { # handle 4',
        '\t\ttype nat hook postrouting priority srcnat; policy accept;',
        '\t\tjump masquerading # handle 11',
        '\t}',
        '\tchain masquerading { # handle 5',
        '\t\tmeta mark & 0x00004000 == 0x00000000 return # handle 12',
        '\t\tmeta mark set meta mark ^ 0x00004000 # handle 13',
        '\t\tmasquerade fully-random # handle 14',
        '\t}',
        '\tchain services { # handle 6',
        '\t\tip daddr . meta l4proto . th dport vmap @service-ips # handle 15',
        '\t}',
        '\tchain external-inventory { # handle 7',
        '\t\tip saddr 172.16.0.0/16 goto service-inventory comment "short-circuit pod traffic" # handle 16',
        '\t}',
        '\tchain service-inventory { # handle 8',
        '\t\tnumgen random mod 1 vmap { 0 : goto endpoint-inventory } # handle 17',
        '\t}',
        '\tchain endpoint-inventory { # handle 9',
        '\t\tmeta l4proto tcp dnat to 172.16.0.9:8080 # handle 18',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
    const inventory = cli(['explain', 'inventory-api', '--demo', '--node-dumps', dir]);
    expect(inventory.code).toBe(0);
    expect(inventory.stdout).toContain('ip kube-proxy endpoint-inventory rule 1 (handle 18) (10.0.1.11/nft.txt:29)');
    const payments = cli(['explain', 'payments-api', '--demo', '--node-dumps', dir]);
    expect(payments.code).toBe(0);
    expect(payments.stdout).toMatch(/node 10\.0\.1\.11 egress: not captured: .*\[observed\]/);
    expect(payments.stdout).toMatch(/no SNAT on the way out: the LB sees the pod IP.*\[observed\]/);
  });
  it('a missing folder is a usage error', () => {
    const r = cli(['analyze', '--demo', '--node-dumps', '/nonexistent']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--node-dumps /nonexistent: not a readable directory');
  });
});

describe('loopscope whatif', () => {
  it('Cluster fixes the seed case', () => {
    const r = cli(['whatif', '--demo', 'payments/payments-api', '--traffic-policy', 'Cluster', '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.services[0]).toMatchObject({
      name: 'payments-api',
      before: { verdict: 'loopback' },
      after: { verdict: 'safe', probability: 0 },
    });
  });
  it('a Service change without a Service: exit 2 saying how', () => {
    const r = cli(['whatif', '--demo', '--traffic-policy', 'Cluster']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('name it first');
  });
  it('an unknown Service: exit 2', () => {
    const r = cli(['whatif', '--demo', 'nope/nope', '--traffic-policy', 'Cluster']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no Service "nope/nope"');
  });
});
