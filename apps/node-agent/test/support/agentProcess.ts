import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Namespaces } from './netns';

/** The built agent (apps/node-agent/dist), run as a process: the tests talk to it over HTTP. */
export const AGENT_MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface RunningAgent {
  process: ChildProcess;
  url: string;
  log: () => string;
  stop(): Promise<void>;
}

/** Starts the agent (inside `ns` when given) on a free port and waits until it listens. */
export async function startAgent(
  args: string[],
  options: { ns?: string; nsx?: Namespaces; env?: NodeJS.ProcessEnv } = {},
): Promise<RunningAgent> {
  const argv = [AGENT_MAIN, '--listen-address', '127.0.0.1', '--port', '0', ...args];
  const child =
    options.ns && options.nsx
      ? options.nsx.spawn(options.ns, process.execPath, argv, options.env)
      : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let log = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (log += d));
  child.stdout!.resume();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not listening after 20 s:\n${log}`)), 20_000);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code}) before listening:\n${log}`));
    });
  });
  return {
    process: child,
    url,
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** One sample of a Prometheus text exposition, or undefined. */
export function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}
