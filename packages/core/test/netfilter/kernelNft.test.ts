/**
 * The kernel agrees with the nftables trace.
 *
 * Loads upstream kube-proxy's own nftables ruleset (TestOverallNFTablesRules,
 * written as kube-proxy writes it) into a node namespace with Debian's `nft`,
 * wires a pod, the Service endpoints and an external client around it, makes
 * real TCP connections, and checks that conntrack and what the endpoints saw
 * agree with `traceLbPacket` on what `nft list ruleset` and `nft -j list
 * ruleset` print back: DNAT targets, masquerade or not, drops and rejects.
 * Every address lives only inside the namespaces this test creates.
 *
 * Needs root, `ip netns`, nft (Debian package nftables), conntrack. Without
 * them it fails under CI=true and is skipped (with the reason printed) otherwise.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { loadNodeDumps, type NodeEvidence, parseConntrack, traceLbPacket, type TraceResult } from '../../src/netfilter';
import { fixture } from './fixtures';

const IN_CI = process.env.CI === 'true';
const CMD_TIMEOUT = 15000;
const PREFIX = `netfilter-${process.pid}`;

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, timeout: CMD_TIMEOUT, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): string | null {
  try {
    return run(cmd, args);
  } catch {
    return null;
  }
}

function missingPrerequisite(): string | null {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (to create network namespaces)';
  const missing = ['ip', 'nft', 'conntrack'].filter((t) => tryRun('sh', ['-c', `command -v ${t}`]) === null);
  if (missing.length > 0) return `missing tools: ${missing.join(', ')} (apt-get install -y nftables conntrack iproute2)`;
  const probe = `${PREFIX}-probe`;
  try {
    run('ip', ['netns', 'add', probe]);
    run('ip', ['netns', 'exec', probe, 'nft', 'add', 'table', 'ip', 'probe']);
  } catch (e) {
    return `cannot use nftables in a network namespace: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`;
  } finally {
    tryRun('ip', ['netns', 'del', probe]);
  }
  return null;
}

/** kube-proxy's transaction in the order knftables sends objects: tables, chains, sets and maps, rules, elements. */
function asKubeProxyWrites(transaction: string): string {
  const rank: Record<string, number> = { table: 0, chain: 1, set: 2, map: 3, rule: 4, element: 5 };
  const lines = transaction.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  return lines.sort((a, b) => (rank[a.split(' ')[1] ?? ''] ?? 9) - (rank[b.split(' ')[1] ?? ''] ?? 9)).join('\n') + '\n';
}

const created = new Set<string>();
const children = new Set<ChildProcess>();

const ns = { pod: `${PREFIX}-pod`, node: `${PREFIX}-node`, ep: `${PREFIX}-ep`, ext: `${PREFIX}-ext` };
const POD_IP = '10.0.0.2';
const NODE_EP_IP = '10.180.0.254';

function buildTopology(): void {
  for (const n of Object.values(ns)) {
    run('ip', ['netns', 'add', n]);
    created.add(n);
  }
  const ipn = (n: string, ...args: string[]) => run('ip', ['-n', n, ...args]);
  ipn(ns.node, 'link', 'add', 'pod0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.pod);
  ipn(ns.node, 'link', 'add', 'ep0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.ep);
  ipn(ns.node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.ext);
  ipn(ns.pod, 'addr', 'add', `${POD_IP}/24`, 'dev', 'eth0');
  ipn(ns.node, 'addr', 'add', '10.0.0.1/24', 'dev', 'pod0');
  ipn(ns.node, 'addr', 'add', `${NODE_EP_IP}/24`, 'dev', 'ep0');
  // upstream's testNodeIP, and the router for the external clients (203.0.113.0/24).
  ipn(ns.node, 'addr', 'add', '192.168.0.2/24', 'dev', 'eth0');
  ipn(ns.node, 'addr', 'add', '203.0.113.1/24', 'dev', 'eth0');
  for (const ip of ['10.180.0.1', '10.180.0.2', '10.180.0.3', '10.180.0.4', '10.180.0.5'])
    ipn(ns.ep, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
  ipn(ns.ext, 'addr', 'add', '203.0.113.2/24', 'dev', 'eth0');
  ipn(ns.ext, 'addr', 'add', '203.0.113.130/24', 'dev', 'eth0');
  for (const n of Object.values(ns)) ipn(n, 'link', 'set', 'lo', 'up');
  for (const [n, dev] of [
    [ns.pod, 'eth0'],
    [ns.node, 'pod0'],
    [ns.node, 'ep0'],
    [ns.node, 'eth0'],
    [ns.ep, 'eth0'],
    [ns.ext, 'eth0'],
  ] as const)
    ipn(n, 'link', 'set', dev, 'up');
  ipn(ns.pod, 'route', 'add', 'default', 'via', '10.0.0.1');
  ipn(ns.ep, 'route', 'add', 'default', 'via', NODE_EP_IP);
  ipn(ns.ext, 'route', 'add', 'default', 'via', '203.0.113.1');
  // A node has a default route; here it points at the external namespace, which does not forward.
  ipn(ns.node, 'route', 'add', 'default', 'via', '203.0.113.2');
  run('ip', ['netns', 'exec', ns.node, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
}

/** Endpoints answer with the address they were reached at and the source they saw. */
async function startEndpoints(): Promise<void> {
  const script = `
    const net = require('net');
    const srv = net.createServer((s) => s.end(s.localAddress + ' ' + s.remoteAddress + '\\n'));
    srv.listen(80, '0.0.0.0', () => console.log('listening'));
    setTimeout(() => process.exit(0), 120000);`;
  const child = spawn('ip', ['netns', 'exec', ns.ep, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('endpoints did not start within 10 s')), 10000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      if (d.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`endpoints exited (${code})`));
    });
  });
}

/** `seen <endpoint> <source>`, `error ECONNREFUSED`, or `timeout`. */
function connect(from: string, src: string, dst: string, port: number): string {
  const script = `
    const net = require('net');
    const s = net.connect({ host: '${dst}', port: ${port}, localAddress: '${src}' });
    let data = '';
    s.setTimeout(2000, () => { console.log('timeout'); process.exit(0); });
    s.on('data', (d) => (data += d));
    s.on('end', () => { console.log('seen ' + data.trim()); process.exit(0); });
    s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });`;
  return run('ip', ['netns', 'exec', from, process.execPath, '-e', script]).trim();
}

function conntrackOf(src: string, dst: string) {
  const text = run('ip', ['netns', 'exec', ns.node, 'conntrack', '-L', '-p', 'tcp', '--orig-src', src, '--orig-dst', dst]);
  const parsed = parseConntrack(text, 'conntrack -L (node namespace)');
  expect(parsed.problems).toEqual([]);
  return parsed.value;
}

const reason = missingPrerequisite();
if (reason && !IN_CI) console.warn(`kernelNft.test.ts skipped: ${reason}`);
const kernelIt = reason ? it.skip : it;

interface Flow {
  name: string;
  from: 'pod' | 'ext';
  src: string;
  dst: string;
  port: number;
}

const flows: Flow[] = [
  { name: 'pod to ClusterIP: DNAT, no masquerade', from: 'pod', src: POD_IP, dst: '172.30.0.41', port: 80 },
  {
    name: 'pod to a VIP-mode LB IP: captured by service-ips and "short-circuit pod traffic"',
    from: 'pod',
    src: POD_IP,
    dst: '1.2.3.4',
    port: 80,
  },
  { name: 'pod to a two-endpoint ClusterIP: one of the numgen ways', from: 'pod', src: POD_IP, dst: '172.30.0.44', port: 80 },
  { name: 'pod to a ClusterIP without endpoints: rejected', from: 'pod', src: POD_IP, dst: '172.30.0.46', port: 80 },
  {
    name: 'external client in the source range to the LB IP: DNAT and masquerade',
    from: 'ext',
    src: '203.0.113.2',
    dst: '5.6.7.8',
    port: 80,
  },
  { name: 'external client outside the source range: dropped', from: 'ext', src: '203.0.113.130', dst: '5.6.7.8', port: 80 },
  {
    name: 'external client to a Local external IP without local endpoints: dropped',
    from: 'ext',
    src: '203.0.113.2',
    dst: '192.168.99.22',
    port: 80,
  },
  { name: 'external client to a NodePort: DNAT and masquerade', from: 'ext', src: '203.0.113.2', dst: '192.168.0.2', port: 3003 },
];

describe('the kernel agrees with the nftables trace (network namespaces, nft)', () => {
  const nodes: Record<'text' | 'json', NodeEvidence | null> = { text: null, json: null };

  beforeAll(async () => {
    if (reason) return;
    buildTopology();
    run(
      'ip',
      ['netns', 'exec', ns.node, 'nft', '-f', '-'],
      asKubeProxyWrites(fixture('upstream-kube-proxy/TestOverallNFTablesRules.nft').text),
    );
    const addr = { text: run('ip', ['-n', ns.node, '-o', 'addr']), file: 'ip -o addr (node namespace)' };
    nodes.text = loadNodeDumps({
      nftText: { text: run('ip', ['netns', 'exec', ns.node, 'nft', '-a', 'list', 'ruleset']), file: 'nft -a list ruleset' },
      addr,
    });
    nodes.json = loadNodeDumps({
      nftJson: { text: run('ip', ['netns', 'exec', ns.node, 'nft', '-j', 'list', 'ruleset']), file: 'nft -j list ruleset' },
      addr,
    });
    await startEndpoints();
  }, 60000);

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const n of created) tryRun('ip', ['netns', 'del', n]);
    created.clear();
  });

  if (reason && !IN_CI) it.skip(`prerequisites: ${reason}`, () => undefined);
  else {
    it('prerequisites: root, ip netns, nft, conntrack', () => {
      if (reason) throw new Error(`kernel test cannot run in CI: ${reason}`);
    });
  }

  kernelIt('what nft prints back parses with no problem, as text and as JSON', () => {
    expect(nodes.text?.problems).toEqual([]);
    expect(nodes.json?.problems).toEqual([]);
  });

  for (const f of flows) {
    kernelIt(
      f.name,
      () => {
        const traces = (['text', 'json'] as const).map((k) =>
          traceLbPacket(nodes[k] as NodeEvidence, { src: f.src, dst: f.dst, dport: f.port, hook: 'PREROUTING', filter: true }),
        );
        const [text, json] = traces as [TraceResult, TraceResult];
        const shape = (r: TraceResult) =>
          r.outcomes.map((o) => [
            o.probability,
            o.dnat,
            o.snat,
            o.delivery,
            o.droppedBy ? `${o.droppedBy.chain}#${o.droppedBy.ruleNumber}` : null,
          ]);
        expect(shape(json)).toEqual(shape(text));
        expect(text.uncertain).toBe(false);

        const answer = connect(f.from === 'pod' ? ns.pod : ns.ext, f.src, f.dst, f.port);
        const ct = conntrackOf(f.src, f.dst);
        if (text.delivery === 'dropped') {
          const rejected = /\breject\b/.test(text.droppedBy?.text ?? '');
          // reject answers with ICMP port unreachable (ECONNREFUSED); drop leaves the client waiting.
          expect(answer).toBe(rejected ? 'error ECONNREFUSED' : 'timeout');
          expect(ct).toEqual([]); // a dropped first packet never confirms its conntrack entry
          return;
        }
        // Captured: the kernel's DNAT target is one of the trace's outcomes, with the same SNAT decision.
        expect(ct).toHaveLength(1);
        const entry = ct[0];
        const target = `${entry?.reply.src && formatV4(entry.reply.src.value)}:${entry?.reply.sport}`;
        const outcome = text.outcomes.find((o) => o.dnat === target);
        expect(outcome).toBeDefined();
        expect(entry?.snat).toBe(outcome?.snat);
        const sawSource = outcome?.snat ? NODE_EP_IP : f.src;
        expect(answer).toBe(`seen ${target.split(':')[0]} ${sawSource}`);
      },
      30000,
    );
  }
});

function formatV4(v: number | bigint): string {
  const n = Number(v);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
