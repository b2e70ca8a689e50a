import type { Server, ServerResponse } from 'node:http';
import {
  App,
  ErrorCode,
  HTTPReceiver,
  LogLevel,
  SocketModeReceiver,
  type AuthorizeResult,
  type BlockAction,
  type ButtonAction,
  type Receiver,
} from '@slack/bolt';
import type { Answer } from './answer';
import { Answerer } from './answerer';
import { CHOOSE_ACTION, DASHBOARD_ACTION, renderBlocks, type SlackMessage } from './blockKit';
import type { ClusterApi } from './clusters/clusterApi';
import { AnswerSlots } from './answerSlots';
import { DEFAULT_LIMITS, type BotLimits, type RateLimitConfig, type SlackMode } from './config';
import { SeenDeliveries } from './deliveries';
import { screenEventRequests } from './requestScreen';
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
  limits?: Partial<BotLimits>;
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
  private readonly limits: BotLimits;
  private readonly slots: AnswerSlots;
  private readonly seen = new SeenDeliveries();
  private identity?: Promise<AuthorizeResult>;
  private busyCount = 0;
  private busyLoggedAt = 0;
  /** When the last question arrived (answers wait for a pause: see quietMoment). */
  private lastArrival = 0;
  private ready = false;

  constructor(private readonly options: SlackBotOptions) {
    this.log = options.logger;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.slots = new AnswerSlots(this.limits.concurrentAnswers, this.limits.queuedAnswers);
    this.answerer = new Answerer(options.clusters, { dashboardUrl: options.dashboardUrl });
    this.rateLimit = new UserRateLimit(options.rateLimit, options.now);
    const customRoutes = [
      {
        path: '/healthz',
        method: ['GET'],
        handler: (_req: unknown, res: ServerResponse) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'),
      },
      {
        path: '/readyz',
        method: ['GET'],
        handler: (_req: unknown, res: ServerResponse) =>
          void res.writeHead(this.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(this.ready ? 'ready\n' : 'starting\n'),
      },
    ];
    let receiver: Receiver;
    if (options.mode === 'http') {
      if (!options.signingSecret) throw new Error('HTTP mode needs the signing secret');
      const http = new HTTPReceiver({
        signingSecret: options.signingSecret,
        endpoints: '/slack/events',
        customRoutes,
        logger: this.log,
        logLevel: this.log.getLevel(),
        // A body Bolt itself fails on (a shape it reads without checking): one line and an answer,
        // counted as acknowledged — Bolt's default leaves it to its three-second timeout as well.
        processEventErrorHandler: async ({ error, response }) => {
          const unauthorized = (error as { code?: string }).code === ErrorCode.AuthorizationError;
          if (!unauthorized) this.log.warn(`a request Bolt could not process (${error.message.slice(0, 200)}); answered 500`);
          if (!response.headersSent) response.writeHead(unauthorized ? 401 : 500).end();
          return true;
        },
      });
      screenEventRequests(http, '/slack/events', this.limits.maxRequestBytes, (msg) => this.log.warn(msg));
      receiver = http;
    } else {
      if (!options.appToken) throw new Error('Socket Mode needs the app token');
      receiver = new SocketModeReceiver({
        appToken: options.appToken,
        customRoutes,
        installerOptions: { port: options.port, clientOptions: options.clientOptions },
        logger: this.log,
        logLevel: this.log.getLevel(),
      });
    }
    // Bolt's own eager auth.test would reject unobserved on a bad token (a crash, not a message),
    // and with that check off it calls auth.test again for every request before the listener can
    // acknowledge it: under a burst, Slack's rate limit on auth.test delays every ack. start()
    // checks the token once and says which variable is wrong; `authorize` reuses that identity.
    this.app = new App({
      authorize: () => this.identify(),
      receiver,
      logger: this.log,
      logLevel: this.log.getLevel() as LogLevel,
      clientOptions: options.clientOptions,
    });
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
      await this.identify();
    } catch (err) {
      const e = err as Error & { data?: { error?: string } };
      await this.app.stop().catch(() => undefined);
      throw new Error(`Slack did not accept the bot token (SLACK_BOT_TOKEN): ${e.data?.error ?? e.message}`);
    }
    this.ready = true;
    return { port };
  }

  /** The bot's identity from one auth.test, shared by every request (a failure is retried next time). */
  private identify(): Promise<AuthorizeResult> {
    if (!this.identity) {
      const token = this.options.botToken;
      const pending = this.app.client.auth
        .test({ token })
        .then((r) => ({ botToken: token, botId: r.bot_id, botUserId: r.user_id, teamId: r.team_id }));
      this.identity = pending;
      pending.catch(() => {
        if (this.identity === pending) this.identity = undefined;
      });
    }
    return this.identity;
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.app.stop();
  }

  private get clusterNames(): string[] {
    return this.options.clusters.map((c) => c.name);
  }

  private wire(): void {
    // A redelivered event (Slack retries what it thinks was not acknowledged) is answered once.
    // Whatever no listener acknowledged (a shortcut, a view, an action that is not ours, a listener
    // that failed on a malformed payload) is acknowledged here at once, rather than left for Bolt
    // to give up on after three seconds (a socket held, and Slack retrying).
    this.app.use(async (args) => {
      const { body, context, next } = args;
      try {
        const id = (body as { event_id?: unknown }).event_id;
        if (typeof id === 'string' && !this.seen.firstTime(id)) {
          // (The logger escapes control characters; the header values are only shortened here.)
          const retry =
            context.retryNum !== undefined
              ? ` ${String(context.retryNum).slice(0, 20)}, ${String(context.retryReason ?? 'no reason given').slice(0, 64)}`
              : '';
          this.log.info(`event ${id.slice(0, 64)}: already answered (redelivery${retry}); skipped`);
          return;
        }
        await next();
      } finally {
        const ack = (args as { ack?: () => Promise<void> }).ack;
        // A second ack is refused by the receiver (nothing is sent twice): that refusal is expected.
        if (ack) await ack().catch(() => undefined);
      }
    });

    this.app.command(/^\/loopscope/, async ({ command, ack, respond }) => {
      // Slack gives three seconds: the acknowledgement goes first, and a refusal (channel, rate,
      // busy) is the acknowledgement itself, so a burst costs no outgoing calls.
      const user = text(command.user_id);
      const channel = text(command.channel_id);
      if (!user || !channel) {
        // A signed form without the fields every slash command carries: acknowledged, not answered.
        this.log.warn('a slash command without a user_id or channel_id; acknowledged, not answered');
        return void (await ack());
      }
      const isDm = command.channel_name === 'directmessage' || channel.startsWith('D');
      const admitted = this.admit({ source: 'command', user, channel, isDm, text: text(command.text) ?? '' }, (message, visibility) =>
        respond({ ...message, response_type: visibility === 'public' ? 'in_channel' : 'ephemeral' }),
      );
      if (admitted.kind === 'reply') await ack({ ...admitted.message, response_type: 'ephemeral' });
      else await ack();
    });

    this.app.event('app_mention', async ({ event, client }) => {
      const thread = text(event.thread_ts) ?? text(event.ts);
      const channel = text(event.channel);
      if (!channel || !thread) return void this.log.warn('an app_mention without a channel or ts; not answered');
      await this.handle(
        { source: 'mention', user: text(event.user) ?? 'unknown', channel, isDm: false, text: text(event.text) ?? '' },
        (message) => client.chat.postMessage({ channel, thread_ts: thread, ...message, unfurl_links: false, unfurl_media: false }),
      );
    });

    this.app.message(async ({ message, client }) => {
      // Only people's own messages in a DM with the bot (channel messages come as app_mention).
      if (message.channel_type !== 'im' || message.subtype !== undefined || !('user' in message)) return;
      if ('bot_id' in message && message.bot_id) return;
      const user = text(message.user);
      const question = text(message.text);
      const thread = text(message.thread_ts) ?? text(message.ts);
      const channel = text(message.channel);
      if (!user || !question || !channel || !thread) return;
      await this.handle({ source: 'dm', user, channel, isDm: true, text: question }, (reply) =>
        client.chat.postMessage({ channel, thread_ts: thread, ...reply, unfurl_links: false, unfurl_media: false }),
      );
    });

    // The dashboard button opens a URL; Slack still sends the click, which must be acknowledged.
    this.app.action(DASHBOARD_ACTION, async ({ ack }) => {
      await ack();
    });

    this.app.action<BlockAction<ButtonAction>>(CHOOSE_ACTION, async ({ ack, body, action, client, respond }) => {
      await ack();
      const question = questionFromJson(action.value ?? '');
      const channel = text(body.channel?.id) ?? text(body.container?.channel_id) ?? '';
      const message = body.message;
      const reply: Reply =
        message && channel && !body.container?.is_ephemeral
          ? (m) =>
              client.chat.postMessage({
                channel,
                thread_ts: (message.thread_ts as string | undefined) ?? message.ts,
                ...m,
                unfurl_links: false,
                unfurl_media: false,
              })
          : (m, visibility) =>
              respond({ ...m, response_type: visibility === 'public' ? 'in_channel' : 'ephemeral', replace_original: false });
      const isDm = channel.startsWith('D');
      await this.handle(
        { source: 'button', user: text(body.user?.id) ?? 'unknown', channel, isDm, text: '' },
        reply,
        question ?? { kind: 'notUnderstood', text: 'that button' },
      );
    });

    this.app.error(async (err) => {
      // Bolt wraps the failures of several listeners in one error; name each (messages only).
      const originals = (err as { originals?: unknown }).originals;
      const detail = Array.isArray(originals)
        ? `: ${originals.map((e) => (e instanceof Error ? e.message : String(e)).slice(0, 200)).join('; ')}`
        : '';
      this.log.error(`unhandled error in a listener: ${err.message}${detail}`);
    });
  }

  /** Events and buttons (already acknowledged by then): admit, and send a refusal as a reply. */
  private async handle(req: Incoming, reply: Reply, given?: Question): Promise<void> {
    const admitted = this.admit(req, reply, given);
    if (admitted.kind === 'reply') await this.send(reply, admitted.message, 'private', `${req.source} from ${req.user} in ${req.channel}`);
  }

  /**
   * Allow-list, rate limit and a free answer slot, decided at once without any I/O. An admitted
   * question is answered in its slot on a later turn of the event loop (after the acknowledgement),
   * replied to, and logged in one line.
   */
  private admit(
    req: Incoming,
    reply: Reply,
    given?: Question,
  ): { kind: 'queued' } | { kind: 'silent' } | { kind: 'reply'; message: SlackMessage } {
    const started = Date.now();
    this.lastArrival = started;
    const where = `${req.source} from ${req.user} in ${req.channel}`;
    const refusal = this.refusal(req);
    if (refusal) {
      this.log.info(`${where}: not answered (${refusal.why})`);
      return { kind: 'reply', message: renderBlocks(notice('info', refusal.text, refusal.text)) };
    }
    const rate = this.rateLimit.check(req.user);
    if (!rate.allowed) {
      this.log.info(`${where}: rate limited (${rate.tell ? 'told' : 'dropped'}; retry in ${rate.retryAfterSeconds} s)`);
      if (!rate.tell) return { kind: 'silent' };
      const text = `You are asking faster than I can look things up (${this.rateLimit.describe()} per person). Try again in ${rate.retryAfterSeconds} s — I will be here.`;
      return { kind: 'reply', message: renderBlocks(notice('info', text)) };
    }
    const question = given ?? parseQuestion(req.text, this.clusterNames, this.limits.maxQuestionChars);
    const accepted = this.slots.offer(async () => {
      await this.quietMoment();
      let answer: Answer;
      try {
        answer = await this.answerer.answer(question);
      } catch (err) {
        this.log.error(`${where}: ${question.kind} failed: ${(err as Error).stack ?? err}`);
        answer = notice(
          'error',
          'Something went wrong on my side while answering; it is in my log. Try again, or ask with `loopscope explain` from a terminal.',
        );
      }
      await this.send(reply, renderBlocks(answer), visibilityOf(answer), where);
      const unavailable = answer.unavailable.length
        ? `; unavailable: ${answer.unavailable.map((u) => `${u.cluster} (${u.reason})`).join(', ')}`
        : '';
      this.log.info(`${where}: ${describe(question)} → ${answer.kind} in ${Date.now() - started} ms${unavailable}`);
    });
    if (accepted) return { kind: 'queued' };
    this.busyLog(where);
    return { kind: 'reply', message: BUSY_MESSAGE };
  }

  /**
   * Resolves at a pause in arriving questions (none for 25 ms), or after a second at most. Answers
   * cost far more than acknowledgements; under a burst they wait for it to pass, so that the
   * acknowledgements, which Slack wants within three seconds, do not queue behind them.
   */
  private async quietMoment(): Promise<void> {
    const giveUpAt = Date.now() + 1000;
    await new Promise((resolve) => setImmediate(resolve));
    while (Date.now() - this.lastArrival < QUIET_MS && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  }

  /** One warning per second at most while busy (a burst must not become a burst of log lines). */
  private busyLog(where: string): void {
    this.busyCount++;
    const now = Date.now();
    if (now - this.busyLoggedAt < 1000) return;
    const { active, waiting } = this.slots.busy;
    this.log.warn(`busy (${active} answering, ${waiting} waiting): told ${this.busyCount} question(s) to ask again, the latest ${where}`);
    this.busyLoggedAt = now;
    this.busyCount = 0;
  }

  private refusal(req: Incoming): { why: string; text: string } | undefined {
    const allowed = this.options.allowedChannels;
    const elsewhere = allowed ? `Ask me in ${[...allowed].map((c) => `<#${c}>`).join(', ')}` : 'Ask me in a channel I am in';
    if (req.isDm && !this.options.directMessages)
      return { why: 'direct messages are off', text: `Direct messages are turned off for this bot. ${elsewhere}.` };
    if (!req.isDm && allowed && req.channel && !allowed.has(req.channel)) {
      return {
        why: 'channel not in the allow-list',
        text: `I only answer in some channels here. ${elsewhere}${this.options.directMessages ? ' or in a direct message' : ''}.`,
      };
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

/** The "busy" acknowledgement, rendered once: under a burst it is most of what the bot sends. */
const BUSY_MESSAGE = renderBlocks(
  notice('info', 'I am answering a lot of questions right now and yours would wait too long. Please ask again in a minute.'),
);

/** How long no question must arrive before answers go on (see quietMoment). */
const QUIET_MS = 25;

/** A field of a signed payload that must be a non-empty string (Slack's are; a forged shape's may not be). */
function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
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
