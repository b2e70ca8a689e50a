import { ConfigError, parseClusters, readConfig } from '../src/config';
import { RedactingLogger } from '../src/log';

const BASE = { SLACK_BOT_TOKEN: 'xoxb-1-2-secretbottoken', SLACK_SIGNING_SECRET: 'sigsecret-abcdef123456' };

test('defaults: HTTP mode, the local exporter, DMs on, 6 questions a minute', () => {
  const c = readConfig(BASE);
  expect(c).toMatchObject({
    mode: 'http',
    clusters: [{ name: 'default', url: 'http://127.0.0.1:9808' }],
    directMessages: true,
    port: 3000,
    exporterTimeoutMs: 4000,
    rateLimit: { questions: 6, perSeconds: 60 },
  });
  expect(c.allowedChannels).toBeUndefined();
});

test('clusters, channels, Socket Mode and the rest from the environment', () => {
  const c = readConfig({
    SLACK_BOT_TOKEN: 'xoxb-1',
    SLACK_APP_TOKEN: 'xapp-1-A1-2-abc',
    LOOPSCOPE_EXPORTERS: 'prod=http://exporter.loopscope:9808/, staging=https://staging.example.com',
    LOOPSCOPE_ALLOWED_CHANNELS: 'C01,C02',
    LOOPSCOPE_DIRECT_MESSAGES: 'off',
    LOOPSCOPE_DASHBOARD_URL: 'https://grafana.example.com/d/loopscope?var-cluster={cluster}',
    LOOPSCOPE_RATE_LIMIT: '10/30s',
    PORT: '8080',
  });
  expect(c.mode).toBe('socket');
  expect(c.clusters).toEqual([
    { name: 'prod', url: 'http://exporter.loopscope:9808' },
    { name: 'staging', url: 'https://staging.example.com' },
  ]);
  expect([...c.allowedChannels!]).toEqual(['C01', 'C02']);
  expect(c.directMessages).toBe(false);
  expect(c.rateLimit).toEqual({ questions: 10, perSeconds: 30 });
  expect(c.port).toBe(8080);
});

test('errors name the variable and the fix, never a secret value', () => {
  expect(() => readConfig({})).toThrow(/^SLACK_BOT_TOKEN is not set/);
  expect(() => readConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/^SLACK_SIGNING_SECRET is not set/);
  expect(() => readConfig({ SLACK_BOT_TOKEN: 'xoxb-1', LOOPSCOPE_SLACK_MODE: 'socket' })).toThrow(/^SLACK_APP_TOKEN is not set/);
  expect(() => readConfig({ ...BASE, LOOPSCOPE_RATE_LIMIT: 'lots' })).toThrow(/LOOPSCOPE_RATE_LIMIT: "lots" is not "QUESTIONS\/SECONDS"/);
  expect(() => parseClusters('prod=not a url')).toThrow(ConfigError);
  expect(() => parseClusters('prod=http://a,prod=http://b')).toThrow(/cluster prod is named twice/);
  try {
    readConfig({ ...BASE, LOOPSCOPE_SLACK_MODE: 'carrier-pigeon' });
  } catch (err) {
    expect((err as Error).message).not.toContain(BASE.SLACK_SIGNING_SECRET);
    expect((err as Error).message).not.toContain(BASE.SLACK_BOT_TOKEN);
  }
});

test('the logger replaces the secrets it was given, and anything shaped like a Slack token', () => {
  const lines: string[] = [];
  const log = new RedactingLogger([BASE.SLACK_BOT_TOKEN, BASE.SLACK_SIGNING_SECRET], undefined, (l) => lines.push(l));
  log.warn(
    'header was',
    { authorization: `Bearer ${BASE.SLACK_BOT_TOKEN}` },
    `secret ${BASE.SLACK_SIGNING_SECRET}`,
    'pasted xoxp-9999-8888-abcdefgh',
  );
  log.debug('not shown at info');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    / warn {2}header was \{ authorization: 'Bearer \[redacted\]' \} secret \[redacted\] pasted \[redacted-token\]\n$/,
  );
});
