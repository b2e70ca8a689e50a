/**
 * The CLI reading a live cluster the way kubectl does: a real `@kubernetes/client-node` KubeConfig
 * against the exporter's list/watch test server (the API server's list protocol, paging and bearer
 * tokens), through `loopscope` and through `kubectl loopscope` (the real kubectl running our plugin).
 * The same objects as a `--snapshot` file must give the same report.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startKubeApiServer, type KubeApiServer, type TestObject, type TestResource } from '../../exporter/test/support/kubeApiServer';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const BIN = join(__dirname, '..', 'bin');
const tmp = mkdtempSync(join(tmpdir(), 'loopscope-cli-live-'));

/** The kinds the test server serves; the snapshot holds exactly these objects too. */
const RESOURCE_OF: Record<string, TestResource> = { Node: 'nodes', Pod: 'pods', Service: 'services', EndpointSlice: 'endpointslices' };

jest.setTimeout(60_000);

let api: KubeApiServer;
let kubeconfig: string;
let snapshot: string;

/** Runs a process without blocking this one: the test server answers from this event loop. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, HOME: tmp, KUBECONFIG: '', COLUMNS: '', PATH: `${BIN}${delimiter}${process.env.PATH}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const loopscope = (args: string[], env?: NodeJS.ProcessEnv) => run(process.execPath, [MAIN, ...args], env);

/** The report without the one field that differs between two runs. */
function report(stdout: string): unknown {
  const r = JSON.parse(stdout);
  delete r.generatedAt;
  return r;
}

beforeAll(async () => {
  api = await startKubeApiServer();
  const demo = JSON.parse(readFileSync(require.resolve('@loopscope/demo/demo-cluster.json'), 'utf8')) as {
    items: Array<TestObject & { kind: string }>;
  };
  const served = demo.items.filter((i) => RESOURCE_OF[i.kind]);
  for (const item of served) api.add(RESOURCE_OF[item.kind]!, item);
  snapshot = join(tmp, 'snapshot.json');
  // What `kubectl get nodes,pods,services,endpointslices -A -o json` prints for the same objects.
  writeFileSync(
    snapshot,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: served.map((i) => api.get(RESOURCE_OF[i.kind]!, i.metadata.name, i.metadata.namespace)),
    }),
  );
  // Two contexts: the current one points nowhere, so only --context reaches the test server.
  kubeconfig = join(tmp, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      `  cluster: {server: "${api.url}", insecure-skip-tls-verify: true}`,
      '- name: gone',
      '  cluster: {server: "http://127.0.0.1:9", insecure-skip-tls-verify: true}',
      'contexts:',
      '- name: test',
      '  context: {cluster: test, user: tester}',
      '- name: gone',
      '  context: {cluster: gone, user: tester}',
      'current-context: gone',
      'users:',
      '- name: tester',
      `  user: {token: ${api.token}}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await api?.stop();
});

describe('a live cluster through the kubeconfig', () => {
  it('loopscope analyze --context X gives the same report as --snapshot on the same objects', async () => {
    const live = await loopscope(['analyze', '--kubeconfig', kubeconfig, '--context', 'test', '-o', 'json']);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    const fromSnapshot = await loopscope(['analyze', '--snapshot', snapshot, '-o', 'json']);
    expect(fromSnapshot.code).toBe(0);
    expect(report(live.stdout)).toEqual(report(fromSnapshot.stdout));
    expect((report(live.stdout) as { summary: { loopback: number } }).summary.loopback).toBe(2);
    // Read-only: list GETs of the four kinds (and the optional ones the test server does not know).
    expect(api.requests.every((r) => r.method === 'GET' && !r.watch)).toBe(true);
    for (const path of ['/api/v1/nodes', '/api/v1/pods', '/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices']) {
      expect(api.requests.some((r) => r.path === path && r.status === 200)).toBe(true);
    }
  });

  it('the table is the same too, and KUBECONFIG is honoured like kubectl', async () => {
    const live = await loopscope(['analyze', '--context', 'test'], { KUBECONFIG: kubeconfig });
    expect(live.code).toBe(0);
    expect(live.stdout).toEqual((await loopscope(['analyze', '--snapshot', snapshot])).stdout);
    expect(live.stdout).toMatch(/payments\/payments-api\s+loopback\s+up to 50%\s+18\.1%/);
  });

  it('kubectl loopscope analyze runs the plugin with the same report', async () => {
    const viaKubectl = await run('kubectl', ['loopscope', 'analyze', '--context', 'test', '-o', 'json'], { KUBECONFIG: kubeconfig });
    expect(viaKubectl.stderr).toBe('');
    expect(viaKubectl.code).toBe(0);
    expect(report(viaKubectl.stdout)).toEqual(report((await loopscope(['analyze', '--snapshot', snapshot, '-o', 'json'])).stdout));
    const plugins = await run('kubectl', ['plugin', 'list']);
    expect(plugins.stdout).toContain(join(BIN, 'kubectl-loopscope'));
  });

  it('pages through lists larger than one page (limit/continue)', async () => {
    const before = api.requests.length;
    for (let i = 0; i < 620; i++) {
      api.add('pods', {
        metadata: { name: `filler-${i}`, namespace: 'filler', ownerReferences: [] },
        spec: { nodeName: '10.0.1.11', containers: [{ name: 'c', image: 'x' }] },
        status: { phase: 'Running', podIP: `172.16.9.${i % 250}` },
      });
    }
    try {
      const r = await loopscope(['analyze', '--context', 'test', '-o', 'json'], { KUBECONFIG: kubeconfig });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).cluster.pods).toBe(57 + 620);
      const pages = api.requests.slice(before).filter((q) => q.path === '/api/v1/pods');
      expect(pages.length).toBe(2);
      expect(pages[1]!.query.continue).toBeTruthy();
    } finally {
      for (let i = 0; i < 620; i++) api.remove('pods', { metadata: { name: `filler-${i}`, namespace: 'filler' } });
    }
  });

  it('-n NS keeps the Services of one namespace (clients are still every pod)', async () => {
    const r = JSON.parse(
      (await loopscope(['analyze', '--context', 'test', '-n', 'payments', '-o', 'json'], { KUBECONFIG: kubeconfig })).stdout,
    );
    expect(r.services.map((s: { namespace: string }) => s.namespace)).toEqual(['payments']);
    expect(r.services[0].loopbackProbability).toBeCloseTo(0.180556, 5);
  });
});

describe('no cluster: one line, exit 2, never the demo by accident', () => {
  it('no kubeconfig and no snapshot', async () => {
    const r = await loopscope(['analyze']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`no ${join(tmp, '.kube', 'config')}`);
    expect(r.stderr).toMatch(/--kubeconfig FILE and --context NAME, --snapshot FILE\|DIR, or --demo/);
  });

  it('the current context cannot be reached: names the kubeconfig, the context and the server', async () => {
    const r = await loopscope(['analyze'], { KUBECONFIG: kubeconfig });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`kubeconfig ${kubeconfig} (KUBECONFIG), context "gone" (http://127.0.0.1:9)`);
    expect(r.stderr).toContain('connection refused');
  });

  it('a kubeconfig that is not YAML, or not there: the reason and the line, never its contents', async () => {
    const broken = join(tmp, 'broken-kubeconfig');
    writeFileSync(broken, `apiVersion: v1\nusers:\n- name: u\n  user:\n    token: secret-token-in-broken-yaml\n   bad: [\n`);
    const r = await loopscope(['analyze', '--kubeconfig', broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^loopscope: kubeconfig ${broken}[^:]*: not valid YAML at line \\d+ \\([^)]+\\); `));
    expect(r.stderr).not.toContain('secret-token-in-broken-yaml');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const missing = await loopscope(['analyze', '--kubeconfig', join(tmp, 'no-such-file')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^loopscope: --kubeconfig \S+no-such-file: no such file; /);
  });

  it('an unknown context lists the known ones; rejected credentials say so without the token', async () => {
    const r = await loopscope(['analyze', '--kubeconfig', kubeconfig, '--context', 'prod']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`loopscope: kubeconfig ${kubeconfig} has no context "prod" (contexts: test, gone)\n`);
    const bad = join(tmp, 'bad-token');
    writeFileSync(bad, readFileSync(kubeconfig, 'utf8').replace(api.token, 'not-the-token'));
    const r2 = await loopscope(['analyze', '--kubeconfig', bad, '--context', 'test']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/HTTP 401 Unauthorized; the credentials were rejected/);
    expect(r2.stderr).not.toContain('not-the-token');
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--demo analyses the bundled demo; it does not mix with --snapshot or a live context', async () => {
    const r = await loopscope(['analyze', '--demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/payments\/payments-api\s+loopback/);
    expect((await loopscope(['analyze', '--demo', '--snapshot', snapshot])).code).toBe(2);
    expect((await loopscope(['analyze', '--demo', '--context', 'test'])).code).toBe(2);
  });
});
