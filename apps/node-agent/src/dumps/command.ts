import { execFile } from 'node:child_process';

/** What running one read-only node tool gave. */
export type CommandResult =
  | { ok: true; stdout: string; durationMs: number }
  | { ok: false; status: 'missing' | 'denied' | 'failed' | 'timeout' | 'too-large'; error: string; durationMs: number };

const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * Runs a tool with a deadline and an output cap, never throwing: a node without `nft`, or a
 * container without CAP_NET_ADMIN, is a status to report, not a crash.
 */
export function runCommand(cmd: string, args: string[], timeoutMs = 15_000): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: MAX_OUTPUT, encoding: 'utf8', killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const durationMs = Date.now() - started;
      if (!err) return resolve({ ok: true, stdout, durationMs });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      const firstLine =
        (stderr || e.message)
          .split('\n')
          .find((l) => l.trim())
          ?.trim()
          .slice(0, 300) ?? '';
      if (e.code === 'ENOENT') return resolve({ ok: false, status: 'missing', error: `${cmd} not found on PATH`, durationMs });
      if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
        return resolve({ ok: false, status: 'too-large', error: `${cmd} printed more than ${MAX_OUTPUT / 1024 / 1024} MiB`, durationMs });
      if (e.killed)
        return resolve({ ok: false, status: 'timeout', error: `${cmd} did not finish within ${timeoutMs / 1000} s`, durationMs });
      const denied = /permission denied|operation not permitted|you must be root/i.test(stderr);
      resolve({
        ok: false,
        status: denied ? 'denied' : 'failed',
        error: `${cmd} ${args.join(' ')} exited ${e.code}: ${firstLine}`,
        durationMs,
      });
    });
  });
}
