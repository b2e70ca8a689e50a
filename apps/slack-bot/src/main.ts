#!/usr/bin/env node
import { LogLevel } from '@slack/bolt';
import { ExporterClient } from './clusters/exporterClient';
import { ConfigError, ENVIRONMENT_HELP, readConfig } from './config';
import { ask, ASK_HELP } from './console';
import { RedactingLogger } from './log';
import { SlackBot } from './slackApp';

const HELP = `Usage:
  loopscope-slack-bot [serve]           run the Slack app (HTTP receiver on /slack/events, or Socket Mode)
  loopscope-slack-bot ask QUESTION...   answer one question on the console, without Slack

${ENVIRONMENT_HELP}
${ASK_HELP}`;

async function serve(): Promise<number> {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`loopscope-slack-bot: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = new RedactingLogger([config.botToken, config.signingSecret, config.appToken], config.logLevel as LogLevel);
  const bot = new SlackBot({
    ...config,
    clusters: config.clusters.map(
      (c) => new ExporterClient(c.name, c.url, config.exporterTimeoutMs, config.limits.maxExporterResponseBytes, config.exporterToken),
    ),
    logger,
    clientOptions: config.slackApiUrl ? { slackApiUrl: config.slackApiUrl } : undefined,
  });
  const { port } = await bot.start();
  logger.info(
    `loopscope-slack-bot ${config.mode === 'http' ? `listening on http://${config.listenAddress}:${port}/slack/events` : `connected in Socket Mode (probes on port ${port})`}; clusters: ${config.clusters.map((c) => `${c.name}=${c.url}`).join(', ')}${config.allowedChannels ? `; channels: ${[...config.allowedChannels].join(', ')}` : ''}`,
  );
  const stop = (signal: string): void => {
    logger.info(`${signal}: stopping`);
    bot.stop().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'ask') return ask(rest);
  if (command === undefined || command === 'serve') return serve();
  process.stderr.write(`loopscope-slack-bot: unknown command "${command}" (serve or ask; --help)\n`);
  return 2;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (err: unknown) => {
      // Bolt's start-up errors (a bad token: auth.test) land here; never print the token itself.
      const text = String((err as Error)?.message ?? err).replace(/\bx(?:ox[abprs]|app)-[A-Za-z0-9-]{6,}/g, '[redacted-token]');
      process.stderr.write(`loopscope-slack-bot: ${text}\n`);
      process.exit(1);
    },
  );
}
