/**
 * The CLI under attack, as a process (issue 15, items 5 and 6, and "What it must show"). Each case
 * runs the built `dist/main.js` and asserts:
 *   - exit code 0, 1 or 2 only (3 is an internal error, a signal is a crash);
 *   - no stack trace on stderr (no "    at " frames, no "Error:" dump, no "internal error");
 *   - it ends within its stated time budget (a hang is killed and fails);
 *   - peak RSS (VmHWM of the CLI and its worker process, read from /proc while it runs) under
 *     its stated bound.
 * Quick form under `npm test`; `npm run fuzz` (LOOPSCOPE_FUZZ_LONG=1) adds the full-size inputs
 * (2 GiB on stdin, /dev/zero at the default cap) and more mutation cases. LOOPSCOPE_FUZZ_SEED
 * replays a failing mutation case.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { demoSnapshotPath } from '@loopscope/demo';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const LONG = process.env.LOOPSCOPE_FUZZ_LONG === '1';
const SEED = Number(process.env.LOOPSCOPE_FUZZ_SEED ?? 20261202);
const MUTATION_CASES = Number(process.env.LOOPSCOPE_FUZZ_CASES ?? (LONG ? 60 : 4));
const MiB = 1024 * 1024;

const tmp = mkdtempSync(join(tmpdir(), 'loopscope-hostile-'));
const HERMETIC: NodeJS.ProcessEnv = { ...process.env, HOME: tmp, KUBECONFIG: '', LOOPSCOPE_DEBUG: '' };
const demoText = readFileSync(demoSnapshotPath(), 'utf8');
const demo = JSON.parse(demoText) as { items: Array<Record<string, any>> };
const DEMO_DUMPS = join(demoSnapshotPath(), '..', 'node-dumps');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakMiB: number;
}

function vmHwmKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Runs the CLI; `stdin` is a string, or a byte count of zeros streamed in 1 MiB chunks. */
function cli(args: string[], opts: { stdin?: string | number; env?: NodeJS.ProcessEnv; budgetMs: number }): Promise<Run> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...HERMETIC, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      if (stdout.length < 4 * MiB) stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      if (stderr.length < MiB) stderr += c;
    });
    let peak = 0;
    const pids = new Set<number>([child.pid as number]);
    const poll = setInterval(() => {
      for (const c of childrenOf(child.pid as number)) pids.add(c);
      for (const p of pids) peak = Math.max(peak, vmHwmKiB(p));
    }, 20);
    const kill = setTimeout(() => child.kill('SIGKILL'), opts.budgetMs);
    child.stdin.on('error', () => undefined); // the CLI may stop reading (the cap): EPIPE is expected
    if (typeof opts.stdin === 'string') child.stdin.end(opts.stdin);
    else if (typeof opts.stdin === 'number') {
      const chunk = Buffer.alloc(MiB, 0x20);
      let left = opts.stdin;
      const pump = () => {
        while (left > 0) {
          left -= chunk.length;
          if (!child.stdin.write(chunk)) return void child.stdin.once('drain', pump);
        }
        child.stdin.end();
      };
      pump();
    } else child.stdin.end();
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - start, peakMiB: Math.round(peak / 1024) });
    });
  });
}

/** The four assertions every case makes. */
function expectContained(r: Run, budgetMs: number, rssMiB: number): void {
  const where = `stderr: ${r.stderr.slice(0, 600)}`;
  expect({ signal: r.signal, where }).toEqual({ signal: null, where });
  expect({ code: [0, 1, 2].includes(r.code as number), where }).toEqual({ code: true, where });
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/\b\w*Error:|internal error/);
  expect(r.ms).toBeLessThan(budgetMs);
  expect(r.peakMiB).toBeLessThan(rssMiB);
}

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const nat = (body: string) => `*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${body}COMMIT\n`;
const TRACE = ['--src', '172.16.0.10', '--dst', '10.0.1.100:80'];
const withEach = (kind: string, f: (o: Record<string, any>) => void): string => {
  const doc = JSON.parse(demoText) as typeof demo;
  for (const o of doc.items) if (o.kind === kind) f(o);
  return JSON.stringify(doc);
};

describe('hostile node dumps (trace)', () => {
  let unknown = '';
  for (let i = 0; i < 100_000; i++) unknown += `${i % 2 ? '-I' : '-A'} PREROUTING -m weird --n${i} x -j ACCEPT\n`;
  const cases: Array<[string, string[], number, number, (r: Run) => void]> = [
    [
      'a *constructor table and prototype-named chains',
      [
        '--iptables-save',
        file(
          'ctor.txt',
          '*constructor\n:X - [0:0]\nCOMMIT\n*nat\n:__proto__ - [0:0]\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j __proto__\n-A toString -j ACCEPT\nCOMMIT\n',
        ),
      ],
      15_000,
      512,
      (r) => expect(r.code).toBe(0),
    ],
    [
      '130,000 unreadable lines',
      ['--iptables-save', file('unreadable.txt', nat('garbage line here\n'.repeat(130_000)))],
      20_000,
      768,
      (r) => expect(r.stdout.split('\n').length).toBeLessThan(1200),
    ],
    [
      '150,000 matched rules in text output',
      ['--iptables-save', file('matched.txt', nat('-A PREROUTING -s 0.0.0.0/0\n'.repeat(150_000)))],
      30_000,
      1024,
      (r) => {
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/… 149800 more matched rules/);
        expect(r.stdout.split('\n').length).toBeLessThan(300);
      },
    ],
    [
      'a 10 MB quoted comment',
      ['--iptables-save', file('comment.txt', nat(`-A PREROUTING -m comment --comment "${'a\\"'.repeat(3_500_000)}" -j ACCEPT\n`))],
      20_000,
      1024,
      (r) => expect(r.code).toBe(0),
    ],
    [
      'ipset ranges past 16.7M members',
      [
        '--iptables-save',
        file('set.txt', nat('-A PREROUTING -m set --match-set BIG dst -j DNAT --to-destination 10.9.9.9:80\n')),
        '--ipset',
        file(
          'ipset.txt',
          `create BIG hash:ip family inet\n${Array.from({ length: 300 }, (_, i) => `add BIG 10.${i % 256}.0.0-10.${i % 256}.255.255`).join('\n')}\ncreate B bitmap:ip range 0.0.0.0-255.255.255.255\nadd B 0.0.0.0-255.255.255.255\n`,
        ),
      ],
      15_000,
      512,
      (r) => {
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/DNAT to 10\.9\.9\.9:80/);
      },
    ],
    [
      '100,000 rules with an unknown match, half by -I',
      ['--iptables-save', file('unknown.txt', nat(unknown))],
      30_000,
      1024,
      (r) => expect(r.stdout).toMatch(/… \d+ more reasons/),
    ],
    [
      'a missing dump file',
      ['--iptables-save', join(tmp, 'nope.txt')],
      15_000,
      512,
      (r) => expect(r.stderr).toMatch(/^loopscope: trace: cannot read --iptables-save .*nope.txt: no such file/),
    ],
  ];
  test.each(cases)(
    '%s',
    async (_name, args, budgetMs, rssMiB, check) => {
      const r = await cli(['trace', ...args, ...TRACE], { budgetMs });
      expectContained(r, budgetMs, rssMiB);
      check(r);
    },
    120_000,
  );
});

describe('hostile snapshots and inputs (analyze, explain, --node-dumps)', () => {
  const dangling = join(tmp, 'dumps');
  mkdirSync(join(dangling, '10.0.1.11'), { recursive: true });
  for (const f of ['iptables-save.txt', 'ipset.txt', 'addr.txt'])
    copyFileSync(join(DEMO_DUMPS, '10.0.1.11', f), join(dangling, '10.0.1.11', f));
  symlinkSync(join(tmp, 'nowhere'), join(dangling, 'gone-node'));
  const danglingFile = join(tmp, 'dumps2');
  mkdirSync(join(danglingFile, '10.0.1.11'), { recursive: true });
  symlinkSync(join(tmp, 'nowhere'), join(danglingFile, '10.0.1.11', 'iptables-save.txt'));
  const fifo = join(tmp, 'fifo');
  execFileSync('mkfifo', [fifo]);

  type Case = [string, string[], { stdin?: string | number; env?: NodeJS.ProcessEnv }, number, number, RegExp | number];
  const cases: Case[] = [
    [
      'externalTrafficPolicy "constructor"',
      [
        'analyze',
        '--snapshot',
        file(
          'etp.json',
          withEach('Service', (o) => (o.spec.externalTrafficPolicy = 'constructor')),
        ),
      ],
      {},
      15_000,
      512,
      /"constructor" is not Local or Cluster/,
    ],
    [
      'prototype names in type, policies and annotations',
      [
        'analyze',
        '-o',
        'json',
        '--snapshot',
        file(
          'proto.json',
          withEach('Service', (o) => {
            Object.assign(o.spec, { type: 'toString', internalTrafficPolicy: '__proto__' });
            o.metadata.annotations = { constructor: 'x', 'service.cloud.tencent.com/direct-access': 'hasOwnProperty' };
          }),
        ),
      ],
      {},
      15_000,
      512,
      0,
    ],
    [
      'a 1 MB externalTrafficPolicy (warnings clipped)',
      [
        'analyze',
        '--snapshot',
        file(
          'bigetp.json',
          withEach('Service', (o) => (o.spec.externalTrafficPolicy = 'x'.repeat(1 << 20))),
        ),
      ],
      {},
      15_000,
      512,
      /^(?![\s\S]{20000})[\s\S]*more characters\)/,
    ],
    [
      'numeric owner names',
      [
        'analyze',
        '--snapshot',
        file(
          'owner.json',
          withEach('Pod', (o) => (o.metadata.ownerReferences = [{ kind: 'ReplicaSet', name: 12345, controller: true }])),
        ),
      ],
      {},
      15_000,
      512,
      0,
    ],
    [
      'explain "constructor" on a prototype-named snapshot',
      ['explain', 'constructor', '--snapshot', join(tmp, 'etp.json')],
      {},
      15_000,
      512,
      2,
    ],
    [
      '10,000-deep JSON nesting',
      ['analyze', '--snapshot', file('deep.json', '['.repeat(10_000) + ']'.repeat(10_000))],
      {},
      15_000,
      512,
      /nests arrays more than 4 deep/,
    ],
    [
      '10,000-deep labels',
      [
        'analyze',
        '--snapshot',
        file(
          'deep2.json',
          `{"kind":"List","items":[${JSON.stringify(demo.items[0])},{"kind":"Pod","metadata":{"name":"p","labels":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}]}`,
        ),
      ],
      {},
      15_000,
      512,
      /nests more than 100 levels deep/,
    ],
    [
      'a dangling symlink as a node folder in --node-dumps',
      ['analyze', '--demo', '--node-dumps', dangling],
      {},
      15_000,
      512,
      /gone-node cannot be read .*dangling symlink.*skipped/,
    ],
    [
      'a dangling symlink as a dump file',
      ['analyze', '--demo', '--node-dumps', danglingFile],
      {},
      15_000,
      512,
      /iptables-save.txt: no such file \(or a dangling symlink\)/,
    ],
    [
      '--snapshot /dev/zero (cap 16 MiB)',
      ['analyze', '--snapshot', '/dev/zero'],
      { env: { LOOPSCOPE_MAX_INPUT_BYTES: '16M' } },
      15_000,
      512,
      /^loopscope: --snapshot \/dev\/zero: larger than 16 MiB \(set LOOPSCOPE_MAX_INPUT_BYTES to raise\)\n$/,
    ],
    [
      'stdin over the cap (64 MiB into 16 MiB)',
      ['analyze', '--snapshot', '-'],
      { stdin: 64 * MiB, env: { LOOPSCOPE_MAX_INPUT_BYTES: '16M' } },
      20_000,
      512,
      /^loopscope: --snapshot -: larger than 16 MiB/,
    ],
    [
      'trace stdin over the cap',
      ['trace', '--iptables-save', '-', ...TRACE],
      { stdin: 64 * MiB, env: { LOOPSCOPE_MAX_INPUT_BYTES: '16M' } },
      20_000,
      512,
      /--iptables-save -: larger than 16 MiB/,
    ],
    [
      'a FIFO nobody writes (timeout 1 s)',
      ['analyze', '--snapshot', fifo],
      { env: { LOOPSCOPE_READ_TIMEOUT_SECONDS: '1' } },
      15_000,
      512,
      /--snapshot .*fifo: nothing read for 1 s/,
    ],
    [
      'a bad LOOPSCOPE_MAX_INPUT_BYTES',
      ['analyze', '--snapshot', join(tmp, 'etp.json')],
      { env: { LOOPSCOPE_MAX_INPUT_BYTES: 'lots' } },
      15_000,
      512,
      /LOOPSCOPE_MAX_INPUT_BYTES=lots: give a byte count/,
    ],
    ...(LONG
      ? ((): Case[] => [
          ['--snapshot /dev/zero at the default cap', ['analyze', '--snapshot', '/dev/zero'], {}, 120_000, 1536, /larger than 512 MiB/],
          [
            '2 GiB on stdin at the default cap',
            ['analyze', '--snapshot', '-'],
            { stdin: 2048 * MiB },
            180_000,
            1536,
            /--snapshot -: larger than 512 MiB/,
          ],
        ])()
      : []),
  ];
  test.each(cases)(
    '%s',
    async (_name, args, opts, budgetMs, rssMiB, expected) => {
      const r = await cli(args, { ...opts, budgetMs });
      expectContained(r, budgetMs, rssMiB);
      if (typeof expected === 'number') expect(r.code).toBe(expected);
      else expect(r.stderr).toMatch(expected);
    },
    240_000,
  );

  test('a FIFO with an endless writer stops at the cap', async () => {
    const writer = spawn('sh', ['-c', `yes '{"kind":"List","items":[' > ${fifo}`], { stdio: 'ignore' });
    const r = await cli(['analyze', '--snapshot', fifo], { env: { LOOPSCOPE_MAX_INPUT_BYTES: '16M' }, budgetMs: 20_000 });
    writer.kill();
    expectContained(r, 20_000, 512);
    expect(r.stderr).toMatch(/fifo: larger than 16 MiB/);
  }, 60_000);
});

/** Seeded random field replacements in the demo snapshot, through analyze and explain. */
describe(`mutated snapshots (${MUTATION_CASES} cases from seed ${SEED})`, () => {
  const hostile = (n: number): unknown =>
    [null, 7, true, [], {}, 'constructor', '__proto__', 'x'.repeat(1 << 16), '\u001b[2J\u0007', { toString: 'x' }, '1'.repeat(1 << 16)][
      n % 11
    ];
  for (let c = 0; c < MUTATION_CASES; c++) {
    const seed = SEED + c;
    test(`case ${c} (LOOPSCOPE_FUZZ_SEED=${seed})`, async () => {
      let s = seed >>> 0 || 1;
      const rnd = (n: number) => {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        return (s >>> 0) % n;
      };
      const doc = JSON.parse(demoText) as typeof demo;
      for (let k = 0; k < 20; k++) {
        const o = doc.items[rnd(doc.items.length)] as Record<string, any>;
        const section = [o.metadata, o.spec, o.status, o].filter((x) => x && typeof x === 'object')[rnd(3)] ?? o;
        const keys = Object.keys(section);
        if (keys.length) section[keys[rnd(keys.length)] as string] = hostile(rnd(1000));
      }
      const path = file(`mutated-${seed}.json`, JSON.stringify(doc));
      for (const args of [
        ['analyze', '-o', 'json', '--snapshot', path],
        ['explain', 'shop/checkout', '--snapshot', path],
      ]) {
        const r = await cli(args, { budgetMs: 20_000 });
        expectContained(r, 20_000, 512);
      }
    }, 60_000);
  }
});

afterAll(() => {
  if (existsSync(tmp)) execFileSync('rm', ['-rf', tmp]);
});
