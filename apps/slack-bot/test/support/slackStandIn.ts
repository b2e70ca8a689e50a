import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A message the bot sent: through chat.postMessage, or to a slash command's response URL. */
export interface Posted {
  via: 'chat.postMessage' | 'response_url';
  path: string;
  channel?: string;
  thread_ts?: string;
  response_type?: string;
  text: string;
  blocks: any[];
  at: number;
}

/**
 * A local stand-in for Slack's side: the Web API (`auth.test`, `chat.postMessage`) and the
 * response URLs of slash commands and buttons. It records what the bot sends.
 */
export class SlackStandIn {
  readonly posted: Posted[] = [];
  readonly calls: string[] = [];
  private server?: Server;
  private waiters: Array<() => void> = [];
  private seq = 0;
  private sockets?: WebSocketServer;
  private socket?: WebSocket;
  private acks = new Map<string, (payload: unknown) => void>();
  url = '';
  /** Answer auth.test with invalid_auth (a revoked or mistyped bot token). */
  rejectToken = false;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (body) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What the bot's App takes as `clientOptions`. */
  get clientOptions(): { slackApiUrl: string; retryConfig: { retries: number } } {
    return { slackApiUrl: `${this.url}/api/`, retryConfig: { retries: 0 } };
  }

  responseUrl(id: string): string {
    return `${this.url}/respond/${id}`;
  }

  async stop(): Promise<void> {
    for (const c of this.sockets?.clients ?? []) c.terminate();
    this.sockets?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Waits for the next `count` messages matching `match` (posted after `since`). */
  async waitFor(match: (p: Posted) => boolean, timeoutMs = 15_000, count = 1): Promise<Posted[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.posted.filter(match);
      if (found.length >= count) return found;
      const left = end - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching message from the bot within ${timeoutMs} ms; saw ${this.posted.length}: ${this.posted.map((p) => `${p.via} ${p.text.split('\n')[0]}`).join(' | ')}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private async handle(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const type = req.headers['content-type'] ?? '';
    const body: Record<string, any> = type.includes('json') ? JSON.parse(raw || '{}') : Object.fromEntries(new URLSearchParams(raw));
    const path = req.url ?? '';
    this.calls.push(path);
    if (path.startsWith('/api/apps.connections.open')) {
      if (!this.sockets) return { ok: false, error: 'socket_mode_not_enabled' };
      return { ok: true, url: `${this.url.replace('http:', 'ws:')}/link/?ticket=t1` };
    }
    if (path.startsWith('/api/auth.test') && this.rejectToken) return { ok: false, error: 'invalid_auth' };
    if (path.startsWith('/api/auth.test'))
      return {
        ok: true,
        url: 'https://example.slack.com/',
        team: 'Example',
        user: 'loopscope',
        team_id: 'T0001',
        user_id: 'UBOT',
        bot_id: 'BBOT',
      };
    const blocks = typeof body.blocks === 'string' ? JSON.parse(body.blocks) : (body.blocks ?? []);
    if (path.startsWith('/api/chat.postMessage')) {
      const ts = `1700000000.${String(++this.seq).padStart(6, '0')}`;
      this.record({
        via: 'chat.postMessage',
        path,
        channel: body.channel,
        thread_ts: body.thread_ts,
        text: body.text ?? '',
        blocks,
        at: Date.now(),
      });
      return { ok: true, channel: body.channel, ts, message: { ts } };
    }
    if (path.startsWith('/respond/')) {
      this.record({ via: 'response_url', path, response_type: body.response_type, text: body.text ?? '', blocks, at: Date.now() });
      return { ok: true };
    }
    return { ok: false, error: 'unknown_method' };
  }

  /** Socket Mode: Slack's WebSocket end, on the same server (`apps.connections.open` points at it). */
  enableSocketMode(): Promise<void> {
    this.sockets = new WebSocketServer({ server: this.server!, path: '/link/' });
    return new Promise((resolve) => {
      this.sockets!.on('connection', (ws) => {
        this.socket = ws;
        ws.on('message', (data) => {
          const msg = JSON.parse(data.toString()) as { envelope_id?: string; payload?: unknown };
          if (msg.envelope_id) this.acks.get(msg.envelope_id)?.(msg.payload);
        });
        ws.send(
          JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'stand-in' }, connection_info: { app_id: 'A0001' } }),
        );
        resolve();
      });
    });
  }

  /** Sends one envelope down the socket; resolves with the bot's acknowledgement. */
  envelope(type: 'events_api' | 'slash_commands' | 'interactive', payload: unknown, id: string): Promise<unknown> {
    if (!this.socket) throw new Error('the bot has not connected');
    const acked = new Promise<unknown>((resolve) => this.acks.set(id, resolve));
    this.socket.send(JSON.stringify({ envelope_id: id, type, accepts_response_payload: type !== 'events_api', payload }));
    return acked;
  }

  private record(p: Posted): void {
    this.posted.push(p);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Slack's request signature: `v0=` HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedPost {
  secret?: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Replace the signature (forged), or leave the headers out (missing). */
  signature?: string | null;
  contentType?: string;
}

/** POSTs a body to the bot's /slack/events as Slack would. */
export async function postToBot(botUrl: string, body: string, o: SignedPost): Promise<{ status: number; text: string }> {
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/json' };
  if (o.signature !== null) {
    headers['x-slack-request-timestamp'] = String(timestamp);
    headers['x-slack-signature'] = o.signature ?? sign(o.secret ?? '', timestamp, body);
  }
  const res = await fetch(`${botUrl}/slack/events`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

let eventSeq = 0;

/** An Events API envelope around one event. */
export function eventBody(event: Record<string, unknown>): string {
  eventSeq++;
  return JSON.stringify({
    token: 'legacy-verification-token',
    team_id: 'T0001',
    api_app_id: 'A0001',
    event: { event_ts: event.ts, ...event },
    type: 'event_callback',
    event_id: `Ev${String(eventSeq).padStart(8, '0')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: 'T0001', user_id: 'UBOT', is_bot: true }],
  });
}

export function mentionBody(text: string, o: { user?: string; channel?: string; ts?: string; thread_ts?: string } = {}): string {
  return eventBody({
    type: 'app_mention',
    user: o.user ?? 'U0USER1',
    text: `<@UBOT> ${text}`,
    ts: o.ts ?? nextTs(),
    channel: o.channel ?? 'C0CHAN1',
    ...(o.thread_ts ? { thread_ts: o.thread_ts } : {}),
  });
}

export function directMessageBody(text: string, o: { user?: string; channel?: string; ts?: string } = {}): string {
  return eventBody({
    type: 'message',
    channel_type: 'im',
    user: o.user ?? 'U0USER1',
    text,
    ts: o.ts ?? nextTs(),
    channel: o.channel ?? 'D0DM0001',
  });
}

export function slashCommandBody(text: string, responseUrl: string, o: { user?: string; channel?: string } = {}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0001',
    team_domain: 'example',
    channel_id: o.channel ?? 'C0CHAN1',
    channel_name: 'incidents',
    user_id: o.user ?? 'U0USER1',
    user_name: 'alice',
    command: '/loopscope',
    text,
    api_app_id: 'A0001',
    response_url: responseUrl,
    trigger_id: '123.456.abc',
  }).toString();
}

/** A click on one of the bot's buttons, as Slack posts it (form-encoded `payload`). */
export function buttonClickBody(
  button: { action_id: string; value?: string },
  o: { channel?: string; messageTs: string; threadTs?: string; responseUrl: string; user?: string },
): string {
  const channel = o.channel ?? 'C0CHAN1';
  const payload = {
    type: 'block_actions',
    user: { id: o.user ?? 'U0USER1', username: 'alice', team_id: 'T0001' },
    api_app_id: 'A0001',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: o.messageTs, channel_id: channel, is_ephemeral: false },
    trigger_id: '123.456.def',
    team: { id: 'T0001', domain: 'example' },
    channel: { id: channel, name: 'incidents' },
    message: { type: 'message', user: 'UBOT', ts: o.messageTs, ...(o.threadTs ? { thread_ts: o.threadTs } : {}), text: 'choice' },
    response_url: o.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: button.action_id,
        block_id: 'b1',
        text: { type: 'plain_text', text: 'x' },
        value: button.value,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

let tsSeq = 0;
function nextTs(): string {
  return `1700000100.${String(++tsSeq).padStart(6, '0')}`;
}

/** Every limit Slack puts on a message's blocks that the bot relies on. */
export function blockKitProblems(blocks: any[]): string[] {
  const problems: string[] = [];
  if (blocks.length > 50) problems.push(`${blocks.length} blocks (max 50)`);
  blocks.forEach((b, i) => {
    if (b.type === 'section' && b.text.text.length > 3000) problems.push(`block ${i}: section text ${b.text.text.length} chars (max 3000)`);
    if (b.type === 'section' && b.text.text.length === 0) problems.push(`block ${i}: empty section`);
    if (b.type === 'context') {
      if (b.elements.length > 10) problems.push(`block ${i}: ${b.elements.length} context elements (max 10)`);
      for (const e of b.elements) if (e.text.length > 2000) problems.push(`block ${i}: context text ${e.text.length} chars`);
    }
    if (b.type === 'actions') {
      if (b.elements.length > 25) problems.push(`block ${i}: ${b.elements.length} actions (max 25)`);
      for (const e of b.elements) {
        if (e.text.text.length > 75) problems.push(`block ${i}: button text ${e.text.text.length} chars`);
        if (e.value && e.value.length > 2000) problems.push(`block ${i}: button value ${e.value.length} chars`);
      }
    }
  });
  return problems;
}
