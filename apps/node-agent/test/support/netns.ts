/**
 * Network namespaces for the agent's kernel tests, named `agent-<pid>-<tag>` and always removed
 * (those of an earlier, killed run too). Addresses are in 198.18.0.0/15, which exists only inside them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

const CMD_TIMEOUT = 15_000;

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, timeout: CMD_TIMEOUT, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export function tryRun(cmd: string, args: string[]): string | null {
  try {
    return run(cmd, args);
  } catch {
    return null;
  }
}

/** Why kernel tests cannot run here, or null. */
export function missingPrerequisite(tools: string[]): string | null {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (to create network namespaces)';
  const missing = tools.filter((t) => tryRun('sh', ['-c', `command -v ${t}`]) === null);
  if (missing.length > 0) return `missing tools: ${missing.join(', ')} (apt-get install -y iptables ipset conntrack iproute2 nftables)`;
  const probe = `agent-${process.pid}-probe`;
  try {
    run('ip', ['netns', 'add', probe]);
  } catch (e) {
    return `\`ip netns add\` failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`;
  } finally {
    tryRun('ip', ['netns', 'del', probe]);
  }
  return null;
}

export class Namespaces {
  private readonly created = new Set<string>();
  private readonly children = new Set<ChildProcess>();

  constructor() {
    // Namespaces of an earlier run that was killed (its pid is gone).
    for (const line of (tryRun('ip', ['netns', 'list']) ?? '').split('\n')) {
      const m = /^(agent-(\d+)-[\w-]+)/.exec(line);
      if (!m || Number(m[2]) === process.pid) continue;
      let alive = true;
      try {
        process.kill(Number(m[2]), 0);
      } catch {
        alive = false;
      }
      if (!alive) tryRun('ip', ['netns', 'del', m[1]!]);
    }
  }

  add(tag: string): string {
    const name = `agent-${process.pid}-${tag}`;
    run('ip', ['netns', 'add', name]);
    this.created.add(name);
    run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  exec(ns: string, cmd: string, args: string[], input?: string): string {
    return run('ip', ['netns', 'exec', ns, cmd, ...args], input);
  }

  spawn(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** An HTTP GET from inside a namespace (the agent listens on its loopback there). */
  fetch(ns: string, url: string, headers: Record<string, string> = {}): { status: number; body: string } {
    const script = `fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)} }).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e.cause?.code ?? e) })))`;
    return JSON.parse(this.exec(ns, process.execPath, ['-e', script])) as { status: number; body: string };
  }

  cleanup(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    this.children.clear();
    for (const ns of this.created) tryRun('ip', ['netns', 'del', ns]);
    this.created.clear();
  }
}

/** Starts a TCP listener in a namespace; resolves once it listens. */
export async function listen(nsx: Namespaces, ns: string, host: string, port: number): Promise<ChildProcess> {
  const script = `require('net').createServer((s) => s.end('hello from ${host}\\n')).listen(${port}, '${host}', () => console.log('listening')); setTimeout(() => process.exit(0), 300000);`;
  const child = nsx.spawn(ns, process.execPath, ['-e', script]);
  await waitForOutput(child, /listening/, 10_000);
  return child;
}

export function waitForOutput(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs: number,
  stream: 'stdout' | 'stderr' = 'stdout',
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; got: ${text}`)), timeoutMs);
    const s = child[stream]!;
    s.setEncoding('utf8');
    const on = (d: string): void => {
      text += d;
      const m = pattern.exec(text);
      if (m) {
        clearTimeout(timer);
        s.off('data', on);
        resolve(m);
      }
    };
    s.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${pattern}; got: ${text}`));
    });
  });
}

export async function until<T>(what: string, f: () => T | undefined, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = f();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
