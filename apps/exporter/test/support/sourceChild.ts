/**
 * Runs the real KubernetesSource in a child Node process and mirrors what it does to the test.
 *
 * Why a child process: `@kubernetes/client-node` 2.x is ESM-only; plain Node ≥ 22 loads it with
 * `require()` (require(esm)), jest's own module loader does not. In a plain `node` child the source
 * loads client-node exactly as it does in production, and the child's exit after `stop()` proves
 * that nothing was left running.
 *
 * The parent side (`spawnSource`) records every sink call, health report and log line the child
 * sends over IPC. The child side runs when this file is the process's main module; TypeScript is
 * compiled on the fly with @swc/core (already a dev dependency of the repo, via @swc/jest).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { KubeObject } from '@loopscope/core';
import type { KubernetesSourceOptions } from '../../src/sources/kubernetes';
import type { WatchedResource } from '../../src/sources/types';

/** The options a test can pass (everything JSON-serializable; `transform` by name). */
export type ChildSourceOptions = Omit<KubernetesSourceOptions, 'logger' | 'clientFactory' | 'transform'> & {
  /** 'slimObject': @loopscope/core's slimObject, as the exporter can pass it. */
  transform?: 'slimObject';
};

export type SourceEvent =
  | { type: 'replace'; resource: WatchedResource; objects: KubeObject[]; at: number }
  | { type: 'upsert' | 'remove'; resource: WatchedResource; object: KubeObject; at: number }
  | { type: 'watchRestarted' | 'watchError' | 'objectSkipped' | 'eventSkipped'; resource: WatchedResource; message: string; at: number }
  | { type: 'synced'; resource: WatchedResource; at: number }
  | { type: 'log'; level: string; message: string; at: number };

type ToParent = SourceEvent | { type: 'started'; description: string } | { type: 'startFailed'; message: string } | { type: 'stopped' };

const BOOT = `
const swc = require('@swc/core');
require.extensions['.ts'] = function (m, filename) {
  const out = swc.transformFileSync(filename, {
    swcrc: false,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  m._compile(out.code, filename);
};
require(process.argv[1]);
`;

export class SourceChild {
  readonly events: SourceEvent[] = [];
  /** Everything the child wrote to stdout/stderr. */
  output = '';
  description = '';
  private readonly proc: ChildProcess;
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private listeners = new Set<() => void>();
  private startResult: Promise<void>;
  private stopResult: Promise<void>;
  private resolveStart!: () => void;
  private rejectStart!: (e: Error) => void;
  private resolveStop!: () => void;

  constructor(options: ChildSourceOptions) {
    this.proc = spawn(process.execPath, ['-e', BOOT, __filename], {
      cwd: resolve(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, LOOPSCOPE_SOURCE_CHILD: JSON.stringify(options), NODE_OPTIONS: '' },
    });
    this.proc.stdout!.on('data', (b: Buffer) => (this.output += b.toString()));
    this.proc.stderr!.on('data', (b: Buffer) => (this.output += b.toString()));
    this.startResult = new Promise<void>((res, rej) => {
      this.resolveStart = res;
      this.rejectStart = rej;
    });
    this.startResult.catch(() => undefined);
    this.stopResult = new Promise<void>((res) => (this.resolveStop = res));
    this.exited = new Promise((res) => {
      this.proc.on('exit', (code) => {
        this.exitCode = code;
        this.rejectStart(new Error(`source child exited (${code}) before start() resolved:\n${this.output}`));
        this.resolveStop();
        res(code);
        this.notify();
      });
    });
    this.proc.on('message', (m: ToParent) => {
      if (m.type === 'started') {
        this.description = m.description;
        this.resolveStart();
      } else if (m.type === 'startFailed') {
        this.rejectStart(new Error(m.message));
      } else if (m.type === 'stopped') {
        this.resolveStop();
      } else {
        this.events.push(m);
      }
      this.notify();
    });
  }

  /** Asks the child to start the source; resolves when `start()` resolved there. */
  start(): Promise<void> {
    this.proc.send({ type: 'start' });
    return this.startResult;
  }

  /**
   * Calls `stop()` in the child, then waits for the child to exit by itself (its IPC channel is
   * closed and nothing else should keep its event loop alive). Returns how long that took.
   */
  async stop(exitWithinMs = 5000): Promise<{ stopMs: number; exitMs: number; exitCode: number | null }> {
    const t0 = Date.now();
    if (this.exitCode === undefined && this.proc.connected) this.proc.send({ type: 'stop' });
    await this.stopResult;
    const stopMs = Date.now() - t0;
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<'timeout'>((res) => {
        timer = setTimeout(() => res('timeout'), exitWithinMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    if (code === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
      throw new Error(`source child still running ${exitWithinMs} ms after stop(): something was left open\n${this.output}`);
    }
    return { stopMs, exitMs: Date.now() - t0, exitCode: code };
  }

  /** Kills the child if it is still there (for afterEach). */
  async kill(): Promise<void> {
    if (this.exitCode === undefined) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Resolves with the first event (from index `from` on) matching `pred`, or fails after `ms`. */
  waitFor<E extends SourceEvent = SourceEvent>(pred: (e: SourceEvent) => boolean, what: string, ms = 10_000, from = 0): Promise<E> {
    return new Promise((resolvePromise, reject) => {
      const check = (): boolean => {
        const hit = this.events.slice(from).find(pred);
        if (hit) {
          cleanup();
          resolvePromise(hit as E);
          return true;
        }
        if (this.exitCode !== undefined) {
          cleanup();
          reject(new Error(`source child exited while waiting for ${what}\n${this.output}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; events:\n${this.summary()}\n${this.output}`));
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) this.listeners.add(listener);
    });
  }

  /** Every logged line, health message and child output, for "never logs X" assertions. */
  allText(): string {
    return [this.output, this.description, ...this.events.map((e) => ('message' in e ? e.message : ''))].join('\n');
  }

  logs(level?: string): string[] {
    return this.events
      .filter((e): e is Extract<SourceEvent, { type: 'log' }> => e.type === 'log' && (!level || e.level === level))
      .map((e) => e.message);
  }

  summary(): string {
    return this.events
      .map((e) => {
        if (e.type === 'replace') return `replace ${e.resource} [${e.objects.map((o) => o.metadata?.name).join(',')}]`;
        if ('object' in e) return `${e.type} ${e.resource} ${e.object.metadata?.name}`;
        if (e.type === 'log') return `log ${e.level} ${e.message}`;
        if (e.type === 'synced') return `synced ${e.resource}`;
        return `${e.type} ${e.resource} ${e.message}`;
      })
      .join('\n');
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

export function spawnSource(options: ChildSourceOptions): SourceChild {
  return new SourceChild(options);
}

// ---- child side ------------------------------------------------------------------------------------

async function runChild(): Promise<void> {
  // Loaded here (not at the top) so that importing this file in the parent does not load the source.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { KubernetesSource } = require(
    join(__dirname, '..', '..', 'src', 'sources', 'kubernetes'),
  ) as typeof import('../../src/sources/kubernetes');
  const { transform, ...options } = JSON.parse(process.env.LOOPSCOPE_SOURCE_CHILD ?? '{}') as ChildSourceOptions;
  const send = (m: ToParent): void => {
    if (process.connected) process.send!(m);
  };
  const at = (): number => Date.now();
  const source = new KubernetesSource({
    ...options,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    transform: transform === 'slimObject' ? (require('@loopscope/core') as typeof import('@loopscope/core')).slimObject : undefined,
    logger: (level, message) => send({ type: 'log', level, message, at: at() }),
  });
  const sink = {
    replace: (resource: WatchedResource, objects: KubeObject[]) => send({ type: 'replace', resource, objects, at: at() }),
    upsert: (resource: WatchedResource, object: KubeObject) => send({ type: 'upsert', resource, object, at: at() }),
    remove: (resource: WatchedResource, object: KubeObject) => send({ type: 'remove', resource, object, at: at() }),
  };
  const health = {
    watchRestarted: (resource: WatchedResource, message: string) => send({ type: 'watchRestarted', resource, message, at: at() }),
    watchError: (resource: WatchedResource, message: string) => send({ type: 'watchError', resource, message, at: at() }),
    objectSkipped: (resource: WatchedResource, message: string) => send({ type: 'objectSkipped', resource, message, at: at() }),
    eventSkipped: (resource: WatchedResource, message: string) => send({ type: 'eventSkipped', resource, message, at: at() }),
    synced: (resource: WatchedResource) => send({ type: 'synced', resource, at: at() }),
  };
  const onMessage = (m: { type: string }): void => {
    if (m.type === 'start') {
      source.start(sink, health).then(
        () => send({ type: 'started', description: source.description }),
        (err: unknown) => send({ type: 'startFailed', message: err instanceof Error ? err.message : String(err) }),
      );
    } else if (m.type === 'stop') {
      void source.stop().then(() => {
        send({ type: 'stopped' });
        process.off('message', onMessage);
        process.disconnect();
        // From here on the process must exit by itself. If it does not, say what keeps it alive.
        setTimeout(() => {
          process.stderr.write(`still alive after stop(): ${JSON.stringify(process.getActiveResourcesInfo())}\n`);
        }, 3000).unref();
      });
    }
  };
  process.on('message', onMessage);
}

if (process.env.LOOPSCOPE_SOURCE_CHILD !== undefined && process.argv[1] === __filename) {
  runChild().catch((err: unknown) => {
    process.stderr.write(`source child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
