/**
 * The CLI on big work, as a process: a reader that goes away (EPIPE), out of memory, progress only
 * for a person at a terminal (a real pseudo-terminal through util-linux `script`), compact JSON off
 * a terminal. The snapshot is generated: 1,000 nodes, 10,000 pods.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'loopscope-cli-big-'));
const big = join(tmp, 'big');
const ENV: NodeJS.ProcessEnv = { ...process.env, HOME: tmp, KUBECONFIG: '', NODE_OPTIONS: '' };

jest.setTimeout(120_000);

function sh(script: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...ENV, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const r = sh(
    `"${process.execPath}" "${MAIN}" generate --nodes 1000 --pods 10000 --services 300 --internal-lb 60 --compact --out "${big}"`,
  );
  expect(r.code).toBe(0);
  expect(readdirSync(big)).toContain('pods-000.json');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('big work', () => {
  it('analyze --snapshot big/ | head -1 exits 0, with nothing on stderr', () => {
    const table = sh(`"${process.execPath}" "${MAIN}" analyze --snapshot "${big}" --all | head -1; echo "status \${PIPESTATUS[0]}" >&2`);
    expect(table.stdout).toMatch(/^Cluster: 1000 nodes, \d+ client pods/);
    expect(table.stderr).toBe('status 0\n');
    const json = sh(
      `"${process.execPath}" "${MAIN}" analyze --snapshot "${big}" -o json | head -c 64; echo; echo "status \${PIPESTATUS[0]}" >&2`,
    );
    expect(json.stdout).toMatch(/^\{"apiVersion":"loopscope\/v1"/);
    expect(json.stderr).toBe('status 0\n');
  });

  it('off a terminal: no progress on stderr, compact JSON (one line)', () => {
    const r = sh(`"${process.execPath}" "${MAIN}" analyze --snapshot "${big}" -o json`);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout).cluster.nodes).toBe(1000);
  });

  it('at a terminal: progress (reading, analysing, how many objects) on stderr, indented JSON', () => {
    const r = sh(`script -qec '"${process.execPath}" "${MAIN}" analyze --snapshot "${big}" -o json' /dev/null`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/reading .*pods-000\.json \(\d+\/\d+\), \d+ objects so far/);
    expect(r.stdout).toMatch(/analysing 300 Services for \d+ pods on 1000 nodes/);
    expect(r.stdout).toContain('\n  "apiVersion": "loopscope/v1",');
    // --compact at a terminal too.
    const compact = sh(`script -qec '"${process.execPath}" "${MAIN}" analyze --snapshot "${big}" -o json --compact' /dev/null`);
    expect(compact.stdout).toContain('{"apiVersion":"loopscope/v1",');
  });

  it('out of memory: one line naming the heap limit and what to do, exit 3, no V8 report', () => {
    const r = sh(`"${process.execPath}" "${MAIN}" analyze --snapshot "${big}"`, { NODE_OPTIONS: '--max-old-space-size=24' });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^loopscope: internal error: out of memory \(Node's heap limit of \d+ MiB\); give it more with NODE_OPTIONS=--max-old-space-size=MiB/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/FATAL ERROR|Native stack|<--- Last few GCs/);
  });
});
