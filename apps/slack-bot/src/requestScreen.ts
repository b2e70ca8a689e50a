import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'node:querystring';
import type { HTTPReceiver } from '@slack/bolt';

/**
 * Bolt's HTTP receiver reads `body.ssl_check` before anything can catch an error: a signed body of
 * `null` (or `1`, `"x"`) throws outside every handler and ends the process. Requests to the events
 * path are read here first — bounded in size — and only a body that parses to an object reaches
 * Bolt (which still checks the signature). Bolt takes the bytes read here as the request's
 * `rawBody`, as it does for a request another framework has already read.
 */
export function screenEventRequests(receiver: HTTPReceiver, path: string, maxBytes: number, warn: (msg: string) => void): void {
  const bolt = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== path) return bolt(req, res);
    readBody(req, maxBytes).then(
      (raw) => {
        if (raw === 'too-large') return refuse(res, 413, () => warn(`a request to ${path} was over ${maxBytes} bytes; refused with 413`));
        if (!parsesToObject(raw, req.headers['content-type'])) return refuse(res, 400, () => warn(`a request to ${path} did not hold a JSON object; refused with 400`));
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
        bolt(req, res);
      },
      () => refuse(res, 400, () => warn(`a request to ${path} could not be read`)),
    );
  };
}

function refuse(res: ServerResponse, status: number, log: () => void): void {
  log();
  if (!res.headersSent) res.writeHead(status, { connection: 'close' });
  res.end();
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      return resolve('too-large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The body as Bolt will parse it (a form, a form with a JSON `payload`, or JSON) is an object. */
function parsesToObject(raw: Buffer, contentType: string | undefined): boolean {
  const text = raw.toString('utf8');
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      const form = parse(text);
      return typeof form.payload !== 'string' || isObject(JSON.parse(form.payload));
    }
    return isObject(JSON.parse(text));
  } catch {
    return false;
  }
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
