/**
 * The CLI as a process: exit codes, the loopscope/v1 JSON contract, messages without stack traces.
 * Runs the built `dist/main.js` (turbo builds before testing).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoSnapshotPath } from '@loopscope/core/node';

const MAIN = join(__dirname, '..', 'dist', 'main.js');

const tmp = mkdtempSync(join(tmpdir(), 'loopscope-cli-'));
/** No kubeconfig of the machine's user leaks into a test. */
const HERMETIC: NodeJS.ProcessEnv = { ...process.env, HOME: tmp, KUBECONFIG: '' };

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
    expect(r.stdout).toMatch(/web\/storefront\s+not-applicable/);
    expect(r.stdout).toContain('Explain one: loopscope explain');
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
    const strip = (s: string) => JSON.parse(s).services.map((x: { name: string; loopbackProbability: number }) => [x.name, x.loopbackProbability]);
    expect(strip(fromStdin.stdout)).toEqual(strip(demo));
    const dir = join(tmp, 'split');
    mkdirSync(dir);
    const items = JSON.parse(demoText).items as Array<{ kind: string }>;
    writeFileSync(join(dir, 'nodes.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.filter((i) => i.kind === 'Node') }));
    writeFileSync(join(dir, 'rest.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: items.filter((i) => i.kind !== 'Node') }));
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
  const dumps = join(__dirname, '..', '..', '..', 'packages', 'core', 'demo', 'node-dumps');
  it('analyze shows observed failures and uses the traced datapath', () => {
    const r = cli(['analyze', '--demo', '--node-dumps', dumps]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node dumps for 1 node(s)');
    expect(r.stdout).toMatch(/payments\/payments-api\s+loopback.*3 unreplied/);
    expect(r.stdout).toMatch(/inventory\/inventory-api\s+safe.*CAPTURED_EVIDENCE/);
  });
  it('explain cites the rules and separates observed from inferred', () => {
    const r = cli(['explain', '--demo', 'payments-api', '--node-dumps', dumps]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[observed]');
    expect(r.stdout).toContain('observed: 3 connection(s) from local pods to its LB were seen unanswered');
    expect(r.stdout).toContain('10.0.1.11/iptables-save.txt:58');
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
    expect(out.services[0]).toMatchObject({ name: 'payments-api', before: { verdict: 'loopback' }, after: { verdict: 'safe', probability: 0 } });
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
