import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'node:querystring';
import type { HTTPReceiver } from '@slack/bolt';

/**
 * Bolt's HTTP receiver reads `body.ssl_check` before anything can catch an error: a signed body of
 * `null` (or `1`, `"x"`) throws outside every handler and ends the process. Requests to the events
 * path are read here first — bounded in size — and only a body that parses to an object Bolt can
 * route reaches Bolt (which still checks the signature). Bolt takes the bytes read here as the request's
 * `rawBody`, as it does for a request another framework has already read.
 */
export function screenEventRequests(receiver: HTTPReceiver, path: string, maxBytes: number, warn: (msg: string) => void): void {
  const bolt = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== path) return bolt(req, res);
    readBody(req, maxBytes).then(
      (raw) => {
        if (raw === 'too-large') return refuse(res, 413, () => warn(`a request to ${path} was over ${maxBytes} bytes; refused with 413`));
        const body = parseAsBoltWill(raw, req.headers['content-type']);
        if (!body)
          return refuse(res, 400, () =>
            warn(`a request to ${path} did not hold a JSON object (or nested it over ${MAX_DEPTH} levels deep); refused with 400`),
          );
        const why = unroutable(body);
        if (why) return refuse(res, 400, () => warn(`a request to ${path} was refused with 400: ${why}`));
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

/** The body as Bolt will parse it (a form, a form with a JSON `payload`, or JSON), if that is an object. */
function parseAsBoltWill(raw: Buffer, contentType: string | undefined): Record<string, unknown> | undefined {
  const text = raw.toString('utf8');
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      const form = parse(text);
      if (typeof form.payload !== 'string') return form;
      if (nestedPast(form.payload, MAX_DEPTH)) return undefined;
      const payload: unknown = JSON.parse(form.payload);
      return isObject(payload) ? payload : undefined;
    }
    if (nestedPast(text, MAX_DEPTH)) return undefined;
    const json: unknown = JSON.parse(text);
    return isObject(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Slack's payloads nest a few levels (a block action's message, its blocks, their elements); a
 * body nested far deeper is refused before it is parsed (twice: here and by Bolt), since a
 * megabyte of `{"a":` is a hundred thousand objects on the heap.
 */
const MAX_DEPTH = 64;

/** Whether JSON text nests arrays and objects deeper than `max` (strings skipped; linear, no parse). */
export function nestedPast(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The body types Bolt routes to listeners (besides events, commands, options and actions). */
const ROUTED_TYPES = new Set(['block_suggestion', 'dialog_submission', 'shortcut', 'message_action', 'view_submission', 'view_closed']);

/**
 * Why Bolt could not route a body, if so. Bolt reads `event.channel` and `channel.id` without
 * checking that they are objects (a signed `"event": 1` fails inside Bolt), and a body of no type
 * it knows reaches no listener: nothing acknowledges it and the request hangs for three seconds.
 */
function unroutable(body: Record<string, unknown>): string | undefined {
  if (body.ssl_check !== undefined || body.type === 'url_verification') return undefined;
  if (body.event !== undefined) return isObject(body.event) ? undefined : 'its "event" is not an object';
  if (body.channel === null) return 'its "channel" is null';
  if (body.command !== undefined || body.name !== undefined || body.actions !== undefined) return undefined;
  if (typeof body.type === 'string' && ROUTED_TYPES.has(body.type)) return undefined;
  return 'no event, command, action, shortcut or view in it';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
