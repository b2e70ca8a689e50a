/**
 * Runs the CLI's work in a child process so that the ways V8 dies without running any of our code
 * still end in one line and exit 3. On out-of-memory V8 prints "FATAL ERROR: … JavaScript heap out of
 * memory" and a native stack, then aborts (SIGABRT, shell exit 134); no JavaScript handler runs in
 * that process. The parent passes stdin and stdout straight through, relays the child's stderr until
 * V8's crash report starts, and turns the child's death by signal into the one line the README
 * promises.
 */
import { spawn } from 'node:child_process';
import { getHeapStatistics } from 'node:v8';

/** Set in the child so it does the work instead of supervising. */
export const CHILD_ENV = 'LOOPSCOPE_WORKER';
/** Tells the child that the person's stderr is a terminal (its own stderr is our pipe). */
export const PROGRESS_ENV = 'LOOPSCOPE_PROGRESS';

/** Where V8's fatal report begins (heap exhaustion, or any other fatal error). */
const V8_FATAL = /\n?<--- Last few GCs --->|\n?#\n# Fatal error|FATAL ERROR:/;

export function supervise(script: string, args: string[]): void {
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: { ...process.env, [CHILD_ENV]: '1', ...(process.stderr.isTTY ? { [PROGRESS_ENV]: '1' } : {}) },
  });
  let fatal = '';
  let relaying = true;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (!relaying) {
      fatal += chunk.slice(0, 4096);
      return;
    }
    const m = V8_FATAL.exec(chunk);
    if (!m) {
      process.stderr.write(chunk);
      return;
    }
    process.stderr.write(chunk.slice(0, m.index));
    relaying = false;
    fatal = chunk.slice(m.index);
  });
  // A Ctrl-C reaches the child too (same process group); its exit decides ours.
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => child.kill(s));
  child.on('error', (err) => {
    process.stderr.write(
      `loopscope: internal error: cannot start the worker process (${(err as NodeJS.ErrnoException).code ?? err.message})\n`,
    );
    process.exitCode = 3;
  });
  child.on('close', (code, signal) => {
    if (signal === 'SIGINT' || signal === 'SIGTERM' || signal === 'SIGHUP') {
      process.exitCode = 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
      return;
    }
    if (/heap out of memory|Reached heap limit|Allocation failed/.test(fatal)) {
      process.stderr.write(
        `loopscope: internal error: out of memory (Node's heap limit of ${heapLimitMiB()} MiB); give it more with NODE_OPTIONS=--max-old-space-size=MiB (snapshots are read one file at a time: the largest file must fit, several times over)\n`,
      );
      process.exitCode = 3;
      return;
    }
    if (signal || !relaying) {
      process.stderr.write(
        `loopscope: internal error: the worker process died (${signal ?? `exit ${code}`}${relaying ? '' : ', a V8 fatal error'}); please report this with the command you ran\n`,
      );
      process.exitCode = 3;
      return;
    }
    process.exitCode = code ?? 3;
  });
}

function heapLimitMiB(): number {
  // The child runs with our own execArgv and NODE_OPTIONS, so its limit is ours.
  return Math.round(getHeapStatistics().heap_size_limit / 1024 / 1024);
}
