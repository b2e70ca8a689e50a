/**
 * Socket Mode (undici 8, Node >= 22): the bot opens the
 * connection through `apps.connections.open`, receives envelopes over the WebSocket, acknowledges
 * them, and answers through the Web API and the response URL.
 */
import { LogLevel } from '@slack/bolt';
import { ExporterClient } from '../src/clusters/exporterClient';
import { RedactingLogger } from '../src/log';
import { SlackBot } from '../src/slackApp';
import { startExporter, type RunningExporter } from '@loopscope/testkit';
import { BOT_TOKEN, closedPortUrl } from './support/runningBot';
import { eventBody, SlackStandIn } from './support/slackStandIn';

jest.setTimeout(60_000);

const APP_TOKEN = 'xapp-1-A0001-1-testapptoken0123456789';

let slack: SlackStandIn;
let exporter: RunningExporter;
let bot: SlackBot;
let probePort: number;
const logs: string[] = [];

beforeAll(async () => {
  slack = new SlackStandIn();
  await slack.start();
  const connected = slack.enableSocketMode();
  exporter = await startExporter([]);
  probePort = Number(new URL(await closedPortUrl()).port);
  bot = new SlackBot({
    mode: 'socket',
    botToken: BOT_TOKEN,
    appToken: APP_TOKEN,
    clusters: [new ExporterClient('prod', exporter.url, 4000)],
    directMessages: true,
    rateLimit: { questions: 100, perSeconds: 60 },
    logger: new RedactingLogger([BOT_TOKEN, APP_TOKEN], LogLevel.DEBUG, (l) => logs.push(l)),
    port: probePort,
    clientOptions: slack.clientOptions,
  });
  await bot.start();
  await connected;
});

afterAll(async () => {
  await bot?.stop().catch(() => undefined);
  await exporter?.stop();
  await slack?.stop();
});

test('an app_mention over the socket is acknowledged and answered in its thread', async () => {
  const body = JSON.parse(
    eventBody({
      type: 'app_mention',
      user: 'U0USER1',
      text: '<@UBOT> why is payments timing out',
      ts: '1700003000.000100',
      channel: 'C0CHAN1',
    }),
  );
  await slack.envelope('events_api', body, 'env-1');
  const [reply] = await slack.waitFor((p) => p.thread_ts === '1700003000.000100');
  expect(reply!.text.split('\n')[0]).toMatch(
    /^payments\/payments-api: up to 50% of connections from 13 client pods on 2 nodes time out(; checkout-api .*call(s)? it( \(env PAYMENTS_API_URL\))?)?$/,
  ); // the known callers follow when the input names them
});

test('a slash command over the socket is acknowledged at once and answered through its response URL', async () => {
  const payload = {
    command: '/loopscope',
    text: 'which services are at risk',
    user_id: 'U0USER1',
    channel_id: 'C0CHAN1',
    channel_name: 'incidents',
    team_id: 'T0001',
    response_url: slack.responseUrl('socket-cmd'),
    trigger_id: 't',
  };
  await slack.envelope('slash_commands', payload, 'env-2');
  const [reply] = await slack.waitFor((p) => p.path === '/respond/socket-cmd');
  expect(reply!.response_type).toBe('in_channel');
  expect(reply!.text.split('\n')[0]).toBe(
    '2 Services at risk of internal-LB loopback (of 9 Services; 23 of 36 client pods on at-risk nodes).',
  );
});

test('the probes are served in Socket Mode too, and no token reaches the log', async () => {
  expect((await fetch(`http://127.0.0.1:${probePort}/healthz`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${probePort}/readyz`)).status).toBe(200);
  const log = logs.join('');
  expect(log).not.toContain(APP_TOKEN);
  expect(log).not.toContain(BOT_TOKEN);
});
