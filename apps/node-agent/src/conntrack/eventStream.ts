import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Runs `conntrack -E -o timestamp,id` (conntrack-tools) and hands each output line on; restarts it
 * with exponential backoff when it dies (a missing binary, no CAP_NET_ADMIN, a killed child).
 *
 * Why the conntrack binary and not netlink from Node: ctnetlink needs a raw NETLINK_NETFILTER socket,
 * which Node cannot open without a native addon (a compiled module per Node version and arch in the
 * image); conntrack-tools is the kernel's own maintained client, already required in the image for
 * the dumps, and prints one event per line. The cost is text parsing, measured in the README.
 *
 * The kernel drops events when the listener falls behind (ENOBUFS: conntrack prints "We have hit
 * ENOBUFS! We are losing events." and goes on); those are counted as `overflows`, and the counters
 * stay approximate for that moment rather than the agent stopping.
 */
export interface EventStreamOptions {
  command?: string;
  args?: string[];
  onLine: (line: string) => void;
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that stayed up this long resets the backoff. */
  resetAfterMs?: number;
}

const MAX_LINE = 64 * 1024;

export class ConntrackEventStream {
  private child?: ChildProcess;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  restarts = 0;
  overflows = 0;
  running = false;
  lastError?: string;
  lastLineAt?: number;

  constructor(private readonly options: EventStreamOptions) {}

  get command(): string {
    return `${this.options.command ?? 'conntrack'} ${(this.options.args ?? DEFAULT_ARGS).join(' ')}`;
  }

  start(): void {
    this.stopped = false;
    this.spawnChild();
  }

  private spawnChild(): void {
    const cmd = this.options.command ?? 'conntrack';
    const startedAt = Date.now();
    let child: ChildProcess;
    try {
      child = spawn(cmd, this.options.args ?? DEFAULT_ARGS, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.died(`cannot start ${cmd}: ${(err as Error).message}`, startedAt);
      return;
    }
    this.child = child;
    let partial = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.running = true;
      this.lastLineAt = Date.now();
      let text = partial + chunk;
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        this.options.onLine(text.slice(0, nl));
        text = text.slice(nl + 1);
      }
      partial = text.length > MAX_LINE ? '' : text;
    });
    let errText = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (/ENOBUFS/.test(line)) this.overflows++;
        else if (line.trim() && !/flow events have been shown|^NOTICE:/.test(line.trim()) && errText.length < 1000)
          errText += `${line.trim()} `;
      }
    });
    child.once('spawn', () => {
      this.running = true;
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      // ENOENT: conntrack-tools not installed. The exit/close handler does not run in that case.
      if (this.child === child)
        this.died(err.code === 'ENOENT' ? `${cmd} not found on PATH (install conntrack-tools)` : `${cmd}: ${err.message}`, startedAt);
    });
    child.once('close', (code, signal) => {
      if (this.child !== child) return;
      this.died(`${cmd} -E exited (${signal ?? `code ${code}`})${errText ? `: ${errText.trim()}` : ''}`, startedAt);
    });
  }

  private died(reason: string, startedAt: number): void {
    this.child = undefined;
    this.running = false;
    this.lastError = reason;
    if (this.stopped) return;
    if (Date.now() - startedAt >= (this.options.resetAfterMs ?? 60_000)) this.failures = 0;
    const base = Math.min(this.options.maxBackoffMs ?? 60_000, (this.options.initialBackoffMs ?? 1000) * 2 ** this.failures);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.failures++;
    this.restarts++;
    this.options.log('warn', `conntrack events: ${reason}; restarting in ${(delay / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => this.spawnChild(), delay);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.child;
    this.child = undefined;
    this.running = false;
    if (c && c.exitCode === null) c.kill('SIGTERM');
  }

  /** The child's pid, for tests that kill it. */
  get pid(): number | undefined {
    return this.child?.pid;
  }
}

/** New, update and destroy events with the kernel's timestamp and id; a 4 MiB socket buffer against ENOBUFS. */
export const DEFAULT_ARGS = ['-E', '-o', 'timestamp,id', '-b', '4194304'];
