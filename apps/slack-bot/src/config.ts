/**
 * The bot's configuration, read from environment variables (12-factor: a Kubernetes Secret and a
 * ConfigMap set them). Errors name the variable and the fix, never its value: two of them are secrets.
 */

export type SlackMode = 'http' | 'socket';

export interface ClusterEndpoint {
  /** What users call the cluster ("prod"); shown in answers. */
  name: string;
  /** Base URL of its loopscope exporter. */
  url: string;
}

export interface RateLimitConfig {
  questions: number;
  perSeconds: number;
}

/** Bounds on what the bot reads and how much it does at once (each has an environment variable). */
export interface BotLimits {
  /** Longer questions get a "too long" reply without being parsed (LOOPSCOPE_MAX_QUESTION_CHARS). */
  maxQuestionChars: number;
  /** Answers computed at once (LOOPSCOPE_CONCURRENT_ANSWERS). */
  concurrentAnswers: number;
  /** Questions waiting for a slot; past that the asker is told the bot is busy (LOOPSCOPE_QUEUED_ANSWERS). */
  queuedAnswers: number;
  /** Request bodies to /slack/events over this get 413 (LOOPSCOPE_MAX_REQUEST_BYTES). */
  maxRequestBytes: number;
  /** Exporter answers over this are not read; the cluster counts as unavailable (LOOPSCOPE_MAX_EXPORTER_RESPONSE_BYTES). */
  maxExporterResponseBytes: number;
}

export const DEFAULT_LIMITS: BotLimits = {
  maxQuestionChars: 1000,
  concurrentAnswers: 4,
  queuedAnswers: 64,
  maxRequestBytes: 1024 * 1024,
  maxExporterResponseBytes: 8 * 1024 * 1024,
};

export interface BotConfig {
  mode: SlackMode;
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  clusters: ClusterEndpoint[];
  /** Channel IDs the bot answers in; undefined = every channel it is invited to. */
  allowedChannels?: Set<string>;
  /** Direct messages are answered unless turned off. */
  directMessages: boolean;
  dashboardUrl?: string;
  listenAddress: string;
  port: number;
  exporterTimeoutMs: number;
  /** Sent as `Authorization: Bearer …` to every exporter; undefined = none. */
  exporterToken?: string;
  rateLimit: RateLimitConfig;
  limits: BotLimits;
  /** Only to point the Web API client at a stand-in (tests, a corporate proxy). */
  slackApiUrl?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends Error {}

export const DEFAULT_EXPORTER = 'http://127.0.0.1:9808';

/** The variables, for `--help` and the README. */
export const ENVIRONMENT_HELP = `Environment:
  SLACK_BOT_TOKEN               xoxb-… bot token (required)
  SLACK_SIGNING_SECRET          signing secret (required in HTTP mode)
  SLACK_APP_TOKEN               xapp-… app-level token with connections:write (Socket Mode)
  LOOPSCOPE_SLACK_MODE          http | socket (default: socket when SLACK_APP_TOKEN is set, else http)
  LOOPSCOPE_EXPORTERS           clusters to ask, "name=url,name=url" (default: default=${DEFAULT_EXPORTER})
  LOOPSCOPE_ALLOWED_CHANNELS    channel IDs to answer in, "C0123,C0456" (default: any channel the bot is in)
  LOOPSCOPE_DIRECT_MESSAGES     on | off (default on)
  LOOPSCOPE_DASHBOARD_URL       Grafana dashboard URL for links; {cluster}, {namespace}, {service} are filled in
  LOOPSCOPE_EXPORTER_TIMEOUT_MS time to wait for an exporter (default 4000)
  LOOPSCOPE_EXPORTER_TOKEN      bearer token for the exporters' API (their --api-token-file); from a Secret
  LOOPSCOPE_RATE_LIMIT          questions per user, "N/SECONDS" (default 6/60)
  LOOPSCOPE_MAX_QUESTION_CHARS  longer questions get a "too long" reply, unparsed (default 1000)
  LOOPSCOPE_CONCURRENT_ANSWERS  answers computed at once (default 4)
  LOOPSCOPE_QUEUED_ANSWERS      questions waiting for a slot; past that "busy, ask again" (default 64)
  LOOPSCOPE_MAX_REQUEST_BYTES   bodies to /slack/events over this get 413 (default 1048576)
  LOOPSCOPE_MAX_EXPORTER_RESPONSE_BYTES
                                exporter answers over this are not read (default 8388608)
  LOOPSCOPE_LISTEN_ADDRESS      HTTP mode listen address (default 0.0.0.0)
  PORT                          HTTP port: /slack/events, /healthz, /readyz (default 3000)
  SLACK_API_URL                 Web API base URL (default Slack's; for tests and proxies)
  LOG_LEVEL                     debug | info | warn | error (default info)
`;

type Env = Record<string, string | undefined>;

export function parseClusters(text: string, variable = 'LOOPSCOPE_EXPORTERS'): ClusterEndpoint[] {
  const clusters: ClusterEndpoint[] = [];
  for (const raw of text.split(/[,\s]+/).filter(Boolean)) {
    const eq = raw.indexOf('=');
    // A bare URL is the single cluster "default".
    const name = eq > 0 ? raw.slice(0, eq).trim() : 'default';
    const url = (eq > 0 ? raw.slice(eq + 1) : raw).trim().replace(/\/+$/, '');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
      throw new ConfigError(
        `${variable}: cluster name "${name}" must be letters, digits, '-', '_' or '.' (as in prod=http://exporter:9808)`,
      );
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`${variable}: "${url}" for cluster ${name} is not a URL (expected ${name}=http://host:9808)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${variable}: ${name} must be an http(s) URL`);
    if (clusters.some((c) => c.name === name)) throw new ConfigError(`${variable}: cluster ${name} is named twice`);
    clusters.push({ name, url });
  }
  if (clusters.length === 0) throw new ConfigError(`${variable} is empty: give one or more name=url pairs`);
  return clusters;
}

export function parseRateLimit(text: string): RateLimitConfig {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*s?\s*$/.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
    throw new ConfigError(`LOOPSCOPE_RATE_LIMIT: "${text}" is not "QUESTIONS/SECONDS" (for example 6/60)`);
  return { questions: Number(m[1]), perSeconds: Number(m[2]) };
}

function positiveInt(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new ConfigError(`${name}: "${v}" is not a whole number between 0 and ${max}`);
  return n;
}

function atLeastOne(env: Env, name: string, fallback: number, max: number): number {
  const n = positiveInt(env, name, fallback, max);
  if (n < 1) throw new ConfigError(`${name}: must be at least 1`);
  return n;
}

/** The bot's settings for `serve`. */
export function readConfig(env: Env = process.env): BotConfig {
  const botToken = env.SLACK_BOT_TOKEN?.trim();
  const signingSecret = env.SLACK_SIGNING_SECRET?.trim() || undefined;
  const appToken = env.SLACK_APP_TOKEN?.trim() || undefined;
  const modeText = env.LOOPSCOPE_SLACK_MODE?.trim().toLowerCase();
  if (modeText && modeText !== 'http' && modeText !== 'socket')
    throw new ConfigError(`LOOPSCOPE_SLACK_MODE: "${modeText}" is neither http nor socket`);
  const mode: SlackMode = (modeText as SlackMode | undefined) ?? (appToken ? 'socket' : 'http');
  if (!botToken)
    throw new ConfigError('SLACK_BOT_TOKEN is not set: give the bot token (xoxb-…) from the app\'s "OAuth & Permissions" page');
  if (mode === 'http' && !signingSecret)
    throw new ConfigError(
      'SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it ("Basic Information" → "Signing Secret")',
    );
  if (mode === 'socket' && !appToken)
    throw new ConfigError('SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with connections:write');
  const allowed = env.LOOPSCOPE_ALLOWED_CHANNELS?.split(/[,\s]+/).filter(Boolean);
  const dm = (env.LOOPSCOPE_DIRECT_MESSAGES ?? 'on').trim().toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(dm))
    throw new ConfigError(`LOOPSCOPE_DIRECT_MESSAGES: "${dm}" is neither on nor off`);
  const logLevel = (env.LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel))
    throw new ConfigError(`LOG_LEVEL: "${logLevel}" is not one of debug, info, warn, error`);
  const dashboardUrl = env.LOOPSCOPE_DASHBOARD_URL?.trim() || undefined;
  if (dashboardUrl && !/^https?:\/\//.test(dashboardUrl))
    throw new ConfigError('LOOPSCOPE_DASHBOARD_URL must start with http:// or https://');
  return {
    mode,
    botToken,
    signingSecret,
    appToken,
    clusters: parseClusters(env.LOOPSCOPE_EXPORTERS?.trim() || `default=${DEFAULT_EXPORTER}`),
    allowedChannels: allowed && allowed.length ? new Set(allowed) : undefined,
    directMessages: ['on', 'true', '1'].includes(dm),
    dashboardUrl,
    listenAddress: env.LOOPSCOPE_LISTEN_ADDRESS?.trim() || '0.0.0.0',
    port: positiveInt(env, 'PORT', 3000, 65535),
    exporterTimeoutMs: positiveInt(env, 'LOOPSCOPE_EXPORTER_TIMEOUT_MS', 4000),
    exporterToken: env.LOOPSCOPE_EXPORTER_TOKEN?.trim() || undefined,
    rateLimit: parseRateLimit(env.LOOPSCOPE_RATE_LIMIT ?? '6/60'),
    limits: {
      maxQuestionChars: atLeastOne(env, 'LOOPSCOPE_MAX_QUESTION_CHARS', DEFAULT_LIMITS.maxQuestionChars, 1_000_000),
      concurrentAnswers: atLeastOne(env, 'LOOPSCOPE_CONCURRENT_ANSWERS', DEFAULT_LIMITS.concurrentAnswers, 1000),
      queuedAnswers: positiveInt(env, 'LOOPSCOPE_QUEUED_ANSWERS', DEFAULT_LIMITS.queuedAnswers, 100_000),
      maxRequestBytes: atLeastOne(env, 'LOOPSCOPE_MAX_REQUEST_BYTES', DEFAULT_LIMITS.maxRequestBytes, 100 * 1024 * 1024),
      maxExporterResponseBytes: atLeastOne(
        env,
        'LOOPSCOPE_MAX_EXPORTER_RESPONSE_BYTES',
        DEFAULT_LIMITS.maxExporterResponseBytes,
        1024 * 1024 * 1024,
      ),
    },
    slackApiUrl: env.SLACK_API_URL?.trim() || undefined,
    logLevel: logLevel as BotConfig['logLevel'],
  };
}
