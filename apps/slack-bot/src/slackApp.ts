import type { Server, ServerResponse } from 'node:http';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type BlockAction, type ButtonAction, type Receiver } from '@slack/bolt';
import type { Answer } from './answer';
import { Answerer } from './answerer';
import { CHOOSE_ACTION, DASHBOARD_ACTION, renderBlocks, type SlackMessage } from './blockKit';
import type { ClusterApi } from './clusters/clusterApi';
import type { RateLimitConfig, SlackMode } from './config';
import type { RedactingLogger } from './log';
import { parseQuestion, questionFromJson, type Question } from './question';
import { UserRateLimit } from './rateLimit';

export interface SlackBotOptions {
  mode: SlackMode;
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  clusters: ClusterApi[];
  allowedChannels?: Set<string>;
  directMessages: boolean;
  dashboardUrl?: string;
  rateLimit: RateLimitConfig;
  logger: RedactingLogger;
  /** HTTP mode: where /slack/events listens; Socket Mode: the probe server's port. */
  port: number;
  listenAddress?: string;
  /** Web API client options (tests point `slackApiUrl` at a local stand-in). */
  clientOptions?: { slackApiUrl?: string; retryConfig?: { retries: number } };
  now?: () => number;
}

/** Where a question came from, and how to send the answer back there. */
interface Incoming {
  source: 'command' | 'mention' | 'dm' | 'button';
  user: string;
  channel: string;
  isDm: boolean;
  text: string;
}

type Visibility = 'public' | 'private';
type Reply = (message: SlackMessage, visibility: Visibility) => Promise<unknown>;

/**
 * The Bolt app: app mentions, direct messages, `/loopscope`, and the choice buttons, over the HTTP
 * receiver (`/slack/events`, every request's signature checked by Bolt) or Socket Mode. Replies
 * go in the thread of the question; slash commands are acknowledged at once and answered through
 * their response URL.
 */
export class SlackBot {
  readonly app: App;
  private readonly answerer: Answerer;
  private readonly rateLimit: UserRateLimit;
  private readonly log: RedactingLogger;
  private ready = false;

  constructor(private readonly options: SlackBotOptions) {
    this.log = options.logger;
    this.answerer = new Answerer(options.clusters, { dashboardUrl: options.dashboardUrl });
    this.rateLimit = new UserRateLimit(options.rateLimit, options.now);
    const customRoutes = [
      { path: '/healthz', method: ['GET'], handler: (_req: unknown, res: ServerResponse) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n') },
      {
        path: '/readyz',
        method: ['GET'],
        handler: (_req: unknown, res: ServerResponse) => void res.writeHead(this.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(this.ready ? 'ready\n' : 'starting\n'),
      },
    ];
    let receiver: Receiver;
    if (options.mode === 'http') {
      if (!options.signingSecret) throw new Error('HTTP mode needs the signing secret');
      receiver = new HTTPReceiver({ signingSecret: options.signingSecret, endpoints: '/slack/events', customRoutes, logger: this.log, logLevel: this.log.getLevel() });
    } else {
      if (!options.appToken) throw new Error('Socket Mode needs the app token');
      receiver = new SocketModeReceiver({ appToken: options.appToken, customRoutes, installerOptions: { port: options.port, clientOptions: options.clientOptions }, logger: this.log, logLevel: this.log.getLevel() });
    }
    // Bolt's own eager auth.test would reject unobserved on a bad token (a crash, not a message):
    // start() checks the token itself and says which variable is wrong.
    this.app = new App({ token: options.botToken, receiver, logger: this.log, logLevel: this.log.getLevel() as LogLevel, clientOptions: options.clientOptions, tokenVerificationEnabled: false });
    this.wire();
  }

  /**
   * Starts listening (HTTP) or connecting (Socket Mode), then checks the bot token with `auth.test`;
   * ready (`/readyz`) only once Slack has accepted it. Resolves with the HTTP port.
   */
  async start(): Promise<{ port?: number }> {
    let port = this.options.port;
    if (this.options.mode === 'http') {
      const server = (await this.app.start({ port: this.options.port, host: this.options.listenAddress })) as Server;
      const address = server.address();
      if (typeof address === 'object' && address) port = address.port;
    } else {
      await this.app.start();
    }
    try {
      await this.app.client.auth.test({ token: this.options.botToken });
    } catch (err) {
      const e = err as Error & { data?: { error?: string } };
      await this.app.stop().catch(() => undefined);
      throw new Error(`Slack did not accept the bot token (SLACK_BOT_TOKEN): ${e.data?.error ?? e.message}`);
    }
    this.ready = true;
    return { port };
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.app.stop();
  }

  private get clusterNames(): string[] {
    return this.options.clusters.map((c) => c.name);
  }

  private wire(): void {
    this.app.command(/^\/loopscope/, async ({ command, ack, respond }) => {
      // At once: Slack gives three seconds, and the exporters may need longer.
      await ack();
      const isDm = command.channel_name === 'directmessage' || command.channel_id.startsWith('D');
      await this.handle({ source: 'command', user: command.user_id, channel: command.channel_id, isDm, text: command.text }, (message, visibility) =>
        respond({ ...message, response_type: visibility === 'public' ? 'in_channel' : 'ephemeral' }),
      );
    });

    this.app.event('app_mention', async ({ event, client }) => {
      const thread = event.thread_ts ?? event.ts;
      await this.handle({ source: 'mention', user: event.user ?? 'unknown', channel: event.channel, isDm: false, text: event.text }, (message) =>
        client.chat.postMessage({ channel: event.channel, thread_ts: thread, ...message, unfurl_links: false, unfurl_media: false }),
      );
    });

    this.app.message(async ({ message, client }) => {
      // Only people's own messages in a DM with the bot (channel messages come as app_mention).
      if (message.channel_type !== 'im' || message.subtype !== undefined || !('user' in message) || !message.user || !message.text) return;
      if ('bot_id' in message && message.bot_id) return;
      const thread = message.thread_ts ?? message.ts;
      await this.handle({ source: 'dm', user: message.user, channel: message.channel, isDm: true, text: message.text }, (reply) =>
        client.chat.postMessage({ channel: message.channel, thread_ts: thread, ...reply, unfurl_links: false, unfurl_media: false }),
      );
    });

    // The dashboard button opens a URL; Slack still sends the click, which must be acknowledged.
    this.app.action(DASHBOARD_ACTION, async ({ ack }) => {
      await ack();
    });

    this.app.action<BlockAction<ButtonAction>>(CHOOSE_ACTION, async ({ ack, body, action, client, respond }) => {
      await ack();
      const question = questionFromJson(action.value ?? '');
      const channel = body.channel?.id ?? body.container?.channel_id ?? '';
      const message = body.message;
      const reply: Reply =
        message && channel && !body.container?.is_ephemeral
          ? (m) => client.chat.postMessage({ channel, thread_ts: (message.thread_ts as string | undefined) ?? message.ts, ...m, unfurl_links: false, unfurl_media: false })
          : (m, visibility) => respond({ ...m, response_type: visibility === 'public' ? 'in_channel' : 'ephemeral', replace_original: false });
      const isDm = channel.startsWith('D');
      await this.handle({ source: 'button', user: body.user.id, channel, isDm, text: '' }, reply, question ?? { kind: 'notUnderstood', text: 'that button' });
    });

    this.app.error(async (err) => {
      this.log.error(`unhandled error in a listener: ${err.message}`);
    });
  }

  /** Allow-list, rate limit, answer, reply, one log line. */
  private async handle(req: Incoming, reply: Reply, given?: Question): Promise<void> {
    const started = Date.now();
    const where = `${req.source} from ${req.user} in ${req.channel}`;
    const refusal = this.refusal(req);
    if (refusal) {
      this.log.info(`${where}: not answered (${refusal.why})`);
      await this.send(reply, renderBlocks(notice('info', refusal.text, refusal.text)), 'private', where);
      return;
    }
    const rate = this.rateLimit.check(req.user);
    if (!rate.allowed) {
      this.log.info(`${where}: rate limited (${rate.tell ? 'told' : 'dropped'}; retry in ${rate.retryAfterSeconds} s)`);
      if (rate.tell) {
        const text = `You are asking faster than I can look things up (${this.rateLimit.describe()} per person). Try again in ${rate.retryAfterSeconds} s — I will be here.`;
        await this.send(reply, renderBlocks(notice('info', text)), 'private', where);
      }
      return;
    }
    const question = given ?? parseQuestion(req.text, this.clusterNames);
    let answer: Answer;
    try {
      answer = await this.answerer.answer(question);
    } catch (err) {
      this.log.error(`${where}: ${question.kind} failed: ${(err as Error).stack ?? err}`);
      answer = notice('error', 'Something went wrong on my side while answering; it is in my log. Try again, or ask with `loopscope explain` from a terminal.');
    }
    await this.send(reply, renderBlocks(answer), visibilityOf(answer), where);
    const unavailable = answer.unavailable.length ? `; unavailable: ${answer.unavailable.map((u) => `${u.cluster} (${u.reason})`).join(', ')}` : '';
    this.log.info(`${where}: ${describe(question)} → ${answer.kind} in ${Date.now() - started} ms${unavailable}`);
  }

  private refusal(req: Incoming): { why: string; text: string } | undefined {
    const allowed = this.options.allowedChannels;
    const elsewhere = allowed ? `Ask me in ${[...allowed].map((c) => `<#${c}>`).join(', ')}` : 'Ask me in a channel I am in';
    if (req.isDm && !this.options.directMessages) return { why: 'direct messages are off', text: `Direct messages are turned off for this bot. ${elsewhere}.` };
    if (!req.isDm && allowed && req.channel && !allowed.has(req.channel)) {
      return { why: 'channel not in the allow-list', text: `I only answer in some channels here. ${elsewhere}${this.options.directMessages ? ' or in a direct message' : ''}.` };
    }
    return undefined;
  }

  private async send(reply: Reply, message: SlackMessage, visibility: Visibility, where: string): Promise<void> {
    try {
      await reply(message, visibility);
    } catch (err) {
      const e = err as Error & { data?: { error?: string } };
      this.log.warn(`${where}: could not post the answer: ${e.data?.error ?? e.message}`);
    }
  }
}

function notice(tone: 'info' | 'warning' | 'error', text: string, slackText?: string): Answer {
  return { kind: 'notice', tone, text, slackText, unavailable: [], showCluster: false };
}

/** Findings go to the channel; help, choices and problems only to the person who asked (slash commands). */
function visibilityOf(answer: Answer): Visibility {
  return answer.kind === 'explanation' || answer.kind === 'atRisk' || answer.kind === 'whatIf' ? 'public' : 'private';
}

function describe(q: Question): string {
  switch (q.kind) {
    case 'explain':
      return `explain ${q.target}${q.cluster ? ` in ${q.cluster}` : ''}`;
    case 'pair':
      return `pair ${q.client} → ${q.service}${q.cluster ? ` in ${q.cluster}` : ''}`;
    case 'whatIf':
      return `what-if ${q.change.kind}${q.target ? ` on ${q.target}` : ''}`;
    case 'atRisk':
      return 'at-risk list';
    default:
      return q.kind;
  }
}
