import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

// The built exporter (apps/exporter/dist), spawned as a child process: tests talk to it over HTTP.
const MAIN = join(__dirname, '..', '..', '..', 'apps', 'exporter', 'dist', 'main.js');

export interface RunningExporter {
  /** Where /metrics and the probes are (and the API, unless it has a port of its own). */
  url: string;
  /** Where the JSON API is (`--api-port`), else `url`. */
  apiUrl: string;
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Starts the built exporter on a free port and waits until it says it is ready. */
export async function startExporter(args: string[], timeoutMs = 60_000): Promise<RunningExporter> {
  const child = spawn(process.execPath, [MAIN, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exporter not listening after ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exporter exited with ${code} before listening:\n${err}`));
    });
  });
  const api = /API on (http:\/\/[^\s,)]+)/.exec(err);
  return {
    url,
    apiUrl: api ? api[1]! : url,
    process: child,
    stdout: () => out,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

// Attack suites (the exporter's and the bot's): the liveness poller and the quick/long scale.
export { pollHealthz } from './healthzPoller';
export { attackScale, LONG_ATTACK, SeededFuzz, STACK_TRACE } from './attackScale';
