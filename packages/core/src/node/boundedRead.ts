/**
 * Reading outside input (snapshot files, node dumps, stdin, FIFOs, devices) with a size cap and,
 * for streams that may never end or never start, an idle timeout. Without it `--snapshot
 * /dev/zero` grew to 8 GiB, a FIFO hung for ever, and 2 GiB on stdin was reported as "invalid JSON".
 *
 * Limits (documented in the README, "Limits"):
 *   LOOPSCOPE_MAX_INPUT_BYTES        bytes one input may hold (default 512 MiB; suffixes k, M, G)
 *   LOOPSCOPE_READ_TIMEOUT_SECONDS   seconds a stream may stay silent (default 300; 0: no timeout)
 */
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { LoopscopeError } from '../error/loopscopeError';

export const MAX_INPUT_BYTES_ENV = 'LOOPSCOPE_MAX_INPUT_BYTES';
export const READ_TIMEOUT_ENV = 'LOOPSCOPE_READ_TIMEOUT_SECONDS';
export const DEFAULT_MAX_INPUT_BYTES = 512 * 1024 * 1024;
export const DEFAULT_READ_TIMEOUT_SECONDS = 300;

export interface InputLimits {
  /** Bytes one input may hold. */
  maxBytes: number;
  /** Milliseconds a stream may deliver nothing before it is given up; 0: wait for ever. */
  idleTimeoutMs: number;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** The limits from the environment; a malformed value is a one-line error naming the variable. */
export function inputLimits(env: Readonly<Record<string, string | undefined>> = process.env): InputLimits {
  let maxBytes = DEFAULT_MAX_INPUT_BYTES;
  const rawMax = env[MAX_INPUT_BYTES_ENV];
  if (rawMax !== undefined && rawMax !== '') {
    const m = /^(\d{1,15})([kKmMgG]?)i?[bB]?$/.exec(rawMax.trim());
    const unit = m ? UNITS[(m[2] as string).toLowerCase()] : undefined;
    if (!m || unit === undefined || Number(m[1]) === 0)
      throw new LoopscopeError('INPUT_INVALID', `${MAX_INPUT_BYTES_ENV}=${rawMax.slice(0, 40)}: give a byte count such as 536870912 or 2G`);
    maxBytes = Number(m[1]) * unit;
  }
  let idleTimeoutMs = DEFAULT_READ_TIMEOUT_SECONDS * 1000;
  const rawTimeout = env[READ_TIMEOUT_ENV];
  if (rawTimeout !== undefined && rawTimeout !== '') {
    if (!/^\d{1,9}(\.\d{1,3})?$/.test(rawTimeout.trim()))
      throw new LoopscopeError('INPUT_INVALID', `${READ_TIMEOUT_ENV}=${rawTimeout.slice(0, 40)}: give a number of seconds (0: no timeout)`);
    idleTimeoutMs = Number(rawTimeout) * 1000;
  }
  return { maxBytes, idleTimeoutMs };
}

/** "512 MiB", "1.5 GiB", "300 bytes". */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function tooLarge(label: string, limits: InputLimits): LoopscopeError {
  return new LoopscopeError('INPUT_INVALID', `${label}: larger than ${formatBytes(limits.maxBytes)} (set ${MAX_INPUT_BYTES_ENV} to raise)`);
}

function unreadable(label: string, err: unknown): LoopscopeError {
  const code = (err as NodeJS.ErrnoException).code;
  const words =
    code === 'ENOENT'
      ? 'no such file (or a dangling symlink)'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${code ?? String(err)})`;
  return new LoopscopeError('INPUT_UNREADABLE', `${label}: ${words}`);
}

/** Bytes to text; a buffer past V8's longest string is "too large", not a crash. */
function decode(chunks: Buffer[], total: number, label: string, limits: InputLimits): string {
  try {
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_STRING_TOO_LONG' || err instanceof RangeError)
      throw tooLarge(label, { ...limits, maxBytes: Math.min(limits.maxBytes, total - 1) });
    throw err;
  }
}

/**
 * Reads a regular file (or a device such as /dev/zero) synchronously, at most `maxBytes`. FIFOs
 * and sockets are refused here (a synchronous read of one can block for ever): use `readBounded`.
 * `label` names the input in messages (`--node-dumps: n1/iptables-save.txt`).
 */
export function readBoundedFileSync(path: string, label: string, limits: InputLimits = inputLimits()): string {
  let fd: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.isFIFO() || st.isSocket())
      throw new LoopscopeError('INPUT_UNREADABLE', `${label}: a FIFO or socket, which is read only as --snapshot or stdin; give a file`);
    if (st.isFile() && st.size > limits.maxBytes) throw tooLarge(label, limits);
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof LoopscopeError) throw err;
    throw unreadable(label, err);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const size = fstatSync(fd).size;
    for (;;) {
      const want = Math.min(Math.max(size - total, 1 << 16), 1 << 24, limits.maxBytes + 1 - total);
      const buf = Buffer.allocUnsafe(want);
      const n = readSync(fd, buf, 0, want, null);
      if (n === 0) break;
      total += n;
      if (total > limits.maxBytes) throw tooLarge(label, limits);
      chunks.push(n === want ? buf : buf.subarray(0, n));
    }
    return decode(chunks, total, label, limits);
  } catch (err) {
    if (err instanceof LoopscopeError) throw err;
    throw unreadable(label, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * A FIFO with no writer holds a libuv thread in open(2), which keeps the process alive for ever
 * (even process.exit waits for it). Opening it for writing, without blocking, lets that open
 * return; closing it at once gives the abandoned reader an end of file.
 */
function releaseFifo(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // Not a FIFO, or no reader waiting any more: nothing is held.
  }
}

/**
 * Reads a path (file, FIFO, device) or an open stream (stdin) to text, at most `maxBytes`; a
 * stream silent for `idleTimeoutMs` is given up with a one-line error naming the input.
 */
export function readBounded(source: string | Readable, label: string, limits: InputLimits = inputLimits()): Promise<string> {
  if (typeof source === 'string') {
    try {
      const st = statSync(source);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      if (st.isFile()) {
        if (st.size > limits.maxBytes) throw tooLarge(label, limits);
        return Promise.resolve(readBoundedFileSync(source, label, limits));
      }
    } catch (err) {
      if (err instanceof LoopscopeError) return Promise.reject(err);
      return Promise.reject(unreadable(label, err));
    }
  }
  return new Promise<string>((resolve, reject) => {
    const stream: Readable = typeof source === 'string' ? createReadStream(source) : source;
    let opened = typeof source !== 'string';
    const chunks: Buffer[] = [];
    let total = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: Error | null, text?: string) => {
      if (timer) clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      if (typeof source === 'string') stream.destroy();
      else stream.pause();
      if (err) reject(err);
      else resolve(text as string);
    };
    const arm = () => {
      if (limits.idleTimeoutMs <= 0) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        if (!opened && typeof source === 'string') releaseFifo(source);
        finish(
          new LoopscopeError(
            'INPUT_UNREADABLE',
            `${label}: nothing read for ${limits.idleTimeoutMs / 1000} s (a FIFO or pipe with no writer?); set ${READ_TIMEOUT_ENV} to wait longer, 0 for ever`,
          ),
        );
      }, limits.idleTimeoutMs);
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (total > limits.maxBytes) return finish(tooLarge(label, limits));
      chunks.push(buf);
      arm();
    };
    const onEnd = () => {
      try {
        finish(null, decode(chunks, total, label, limits));
      } catch (err) {
        finish(err as Error);
      }
    };
    const onError = (err: Error) => finish(unreadable(label, err));
    stream.on('open', () => (opened = true));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    arm();
  });
}
