import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel } from '@slack/bolt';
import { ExporterClient } from '../../src/clusters/exporterClient';
import { RedactingLogger } from '../../src/log';
import { SlackBot } from '../../src/slackApp';
import type { SlackStandIn } from './slackStandIn';

export const SIGNING_SECRET = 'test-signing-secret-7f3a9c2e41d8b6a0';
export const BOT_TOKEN = 'xoxb-1111-2222-testbottoken';

export interface RunningBot {
  url: string;
  bot: SlackBot;
  logs: string[];
  stop(): Promise<void>;
}

/** The bot in HTTP mode on a free port, its Web API client pointed at the stand-in, its log kept. */
export async function startBot(
  slack: SlackStandIn,
  o: {
    clusters: Array<{ name: string; url: string }>;
    timeoutMs?: number;
    rateLimit?: { questions: number; perSeconds: number };
    allowedChannels?: string[];
    directMessages?: boolean;
    dashboardUrl?: string;
  },
): Promise<RunningBot> {
  const logs: string[] = [];
  const logger = new RedactingLogger([BOT_TOKEN, SIGNING_SECRET], LogLevel.DEBUG, (line) => logs.push(line));
  const bot = new SlackBot({
    mode: 'http',
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    clusters: o.clusters.map((c) => new ExporterClient(c.name, c.url, o.timeoutMs ?? 4000)),
    allowedChannels: o.allowedChannels ? new Set(o.allowedChannels) : undefined,
    directMessages: o.directMessages ?? true,
    dashboardUrl: o.dashboardUrl,
    rateLimit: o.rateLimit ?? { questions: 1000, perSeconds: 60 },
    logger,
    port: 0,
    listenAddress: '127.0.0.1',
    clientOptions: slack.clientOptions,
  });
  const { port } = await bot.start();
  return { url: `http://127.0.0.1:${port}`, bot, logs, stop: () => bot.stop() };
}

/** A port where nothing listens (an exporter that is down). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** An "exporter" that accepts connections and never answers (a slow or wedged one). */
export async function silentServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const server: Server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
