import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LoopscopeError, MAX_TARGET_CHARS, PROFILE_FLAG_OPTIONS, profileOverridesFromFlags, type ProfileOverrides } from '@loopscope/core';

export const HELP = `Usage: loopscope-exporter [options]

Watches a cluster (or reads a snapshot) and publishes per-Service internal-LB loopback risk for
Prometheus on /metrics, plus the JSON API the Slack bot and the Grafana panel read.

Input (one of; default: the bundled demo cluster):
  --kubeconfig PATH        watch the cluster of this kubeconfig (read-only: list/watch)
  --context NAME           kubeconfig context (default: its current-context)
  --in-cluster             watch the cluster this pod runs in (automatic when KUBERNETES_SERVICE_HOST is set)
  --snapshot FILE|DIR      kubectl JSON, re-read when it changes
  --node-dumps DIR         node evidence: DIR/<nodeName>/{iptables-save,ipset,addr,conntrack}.txt

Kubernetes API limits (a request past them fails, is retried with backoff, and the input is
reported stale in loopscope_input_age_seconds):
  --request-timeout S      deadline of each API request in seconds: a list page or GET to its last
                           byte, a watch to its headers, the kubeconfig's exec plugin (default 60)
  --max-response-mb N      largest list page or GET body accepted (default 128)
  --max-watch-event-mb N   largest watch event accepted; a longer one is skipped and counted in
                           loopscope_watch_events_skipped_total (default 16)

Node agents (live evidence from loopscope-node-agent; on by default when running in a pod):
  --node-agent URL         an agent to pull (repeatable; instead of finding them)
  --node-agent-service NS/NAME
                           the agents' Service, whose EndpointSlices list them (default
                           loopscope/loopscope-node-agent)
  --node-agent-token-file PATH
                           bearer token for the agents (default: this pod's ServiceAccount token,
                           /var/run/secrets/kubernetes.io/serviceaccount/token; re-read every poll)
  --node-agent-interval-seconds N   poll interval (default 30; an agent is stale after 3)
  --node-agent-window-seconds N     observed failures older than this age out (default 600)

HTTP:
  --listen-address ADDR    default 127.0.0.1 (localhost only; 0.0.0.0 in a pod)
  --port N                 /metrics, /healthz, /readyz (and the API unless --api-port); default 9808
  --api-port N             serve the JSON API on its own port, so a NetworkPolicy can let only the
                           Slack bot and Grafana reach it (the shipped Deployment uses 9809)
  --api-token-file PATH    require "Authorization: Bearer <token>" on the API (the file's first
                           line; LOOPSCOPE_API_TOKEN works too). /metrics never asks for it

Analysis:
  --max-links N            cap on loopscope_link_loopback_ratio series (default 5000; the rest are
                           counted in loopscope_links_omitted)
  --debounce-ms N          wait for more changes before recomputing (default 500)
  --max-target-chars N     refuse longer /api/v1/explain targets with 400 (default 512: longer than
                           any namespace/kind/name or LB hostname)
  --provider, --proxy-mode, --ipvs-bind, --pod-ip-routable, --pod-network, --public-lb-in-scope
                           override what is detected (as in \`loopscope analyze --help\`)

Endpoints: /metrics /healthz /readyz
API:       /api/v1/report /api/v1/services /api/v1/services/at-risk /api/v1/links
           /api/v1/explain?target=… POST /api/v1/whatif
`;

export interface ExporterConfig {
  source:
    | {
        kind: 'kubernetes';
        kubeconfig?: string;
        context?: string;
        requestTimeoutSeconds: number;
        maxResponseBytes: number;
        maxWatchEventBytes: number;
      }
    | { kind: 'snapshot'; path: string }
    | { kind: 'demo' };
  nodeDumps?: string;
  nodeAgents?: { urls: string[]; service: string; tokenFile: string; intervalSeconds: number; windowSeconds: number };
  listenAddress: string;
  port: number;
  /** The JSON API's own port; undefined = on `port`. */
  apiPort?: number;
  /** The API's bearer token; undefined = open (say so in the log). */
  apiToken?: string;
  maxLinks: number;
  debounceMs: number;
  /** Longest ?target= accepted by /api/v1/explain. */
  maxTargetChars: number;
  overrides: ProfileOverrides;
}

export class ConfigError extends Error {}

/** Reads the token file (a test of the shipped manifests passes its own: the path is in-cluster). */
export interface ConfigIo {
  readTokenFile?: (path: string) => string;
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, io: ConfigIo = {}): ExporterConfig | 'help' {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        'in-cluster': { type: 'boolean' },
        snapshot: { type: 'string' },
        'node-dumps': { type: 'string' },
        'node-agent': { type: 'string', multiple: true },
        'node-agent-service': { type: 'string' },
        'node-agent-token-file': { type: 'string' },
        'node-agent-interval-seconds': { type: 'string' },
        'node-agent-window-seconds': { type: 'string' },
        'request-timeout': { type: 'string' },
        'max-response-mb': { type: 'string' },
        'max-watch-event-mb': { type: 'string' },
        'listen-address': { type: 'string' },
        port: { type: 'string' },
        'api-port': { type: 'string' },
        'api-token-file': { type: 'string' },
        'max-links': { type: 'string' },
        'debounce-ms': { type: 'string' },
        'max-target-chars': { type: 'string' },
        ...PROFILE_FLAG_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see --help)`);
  }
  if (values.help) return 'help';
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const int = (k: string, fallback: number, min: number, max: number): number => {
    const v = str(k);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${k} ${v}: expected a whole number from ${min} to ${max}`);
    return n;
  };
  const inputs = [
    str('kubeconfig') !== undefined || str('context') !== undefined || values['in-cluster'] === true,
    str('snapshot') !== undefined,
  ].filter(Boolean).length;
  if (inputs > 1) throw new ConfigError('give either a cluster (--kubeconfig/--context/--in-cluster) or --snapshot, not both');
  let source: ExporterConfig['source'];
  if (str('snapshot') !== undefined) source = { kind: 'snapshot', path: str('snapshot')! };
  else if (
    str('kubeconfig') !== undefined ||
    str('context') !== undefined ||
    values['in-cluster'] === true ||
    env.KUBERNETES_SERVICE_HOST
  ) {
    source = {
      kind: 'kubernetes',
      kubeconfig: str('kubeconfig'),
      context: str('context'),
      requestTimeoutSeconds: int('request-timeout', 60, 1, 3600),
      maxResponseBytes: int('max-response-mb', 128, 1, 512) * 1024 * 1024,
      maxWatchEventBytes: int('max-watch-event-mb', 16, 1, 512) * 1024 * 1024,
    };
  } else source = { kind: 'demo' };
  let overrides: ProfileOverrides;
  try {
    overrides = profileOverridesFromFlags(values);
  } catch (err) {
    if (err instanceof LoopscopeError) throw new ConfigError(err.message);
    throw err;
  }
  const port = int('port', 9808, 0, 65535);
  const apiPort = str('api-port') === undefined ? undefined : int('api-port', 0, 0, 65535);
  if (apiPort !== undefined && apiPort !== 0 && apiPort === port)
    throw new ConfigError(`--api-port ${apiPort}: the same as --port; give another port, or leave --api-port out to serve both on one`);
  const agentUrls = (values['node-agent'] as string[] | undefined) ?? [];
  for (const u of agentUrls) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(u).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(`--node-agent ${u}: expected an http(s) URL, e.g. http://10.0.1.11:9809`);
  }
  const agentService = str('node-agent-service') ?? 'loopscope/loopscope-node-agent';
  if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(agentService))
    throw new ConfigError(`--node-agent-service ${agentService}: expected NAMESPACE/NAME`);
  const nodeAgents =
    // Found by default only in a pod: from outside the cluster the agents' node IPs are rarely reachable.
    agentUrls.length > 0 ||
    str('node-agent-service') !== undefined ||
    (source.kind === 'kubernetes' && Boolean(env.KUBERNETES_SERVICE_HOST))
      ? {
          urls: agentUrls,
          service: agentService,
          tokenFile: str('node-agent-token-file') ?? '/var/run/secrets/kubernetes.io/serviceaccount/token',
          intervalSeconds: int('node-agent-interval-seconds', 30, 1, 3600),
          windowSeconds: int('node-agent-window-seconds', 600, 10, 86_400),
        }
      : undefined;
  return {
    source,
    nodeDumps: str('node-dumps'),
    nodeAgents,
    listenAddress: str('listen-address') ?? '127.0.0.1',
    port,
    apiPort,
    apiToken: readApiToken(str('api-token-file'), env, io.readTokenFile ?? ((path) => readFileSync(path, 'utf8'))),
    maxLinks: int('max-links', 5000, 0, 1_000_000),
    debounceMs: int('debounce-ms', 500, 0, 600_000),
    maxTargetChars: int('max-target-chars', MAX_TARGET_CHARS, 1, 100_000),
    overrides,
  };
}

/** The token from --api-token-file (its first line) or LOOPSCOPE_API_TOKEN; errors never show it. */
function readApiToken(file: string | undefined, env: NodeJS.ProcessEnv, readTokenFile: (path: string) => string): string | undefined {
  let token: string | undefined;
  if (file !== undefined) {
    let text: string;
    try {
      text = readTokenFile(file);
    } catch (err) {
      throw new ConfigError(`--api-token-file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    token = text.split(/\r?\n/)[0]!.trim();
    if (!token) throw new ConfigError(`--api-token-file ${file}: the first line is empty (expected the token)`);
  } else if (env.LOOPSCOPE_API_TOKEN !== undefined) {
    token = env.LOOPSCOPE_API_TOKEN.trim();
    if (!token) throw new ConfigError('LOOPSCOPE_API_TOKEN is set but empty');
  }
  if (token !== undefined && (token.length < 16 || /\s/.test(token)))
    throw new ConfigError(
      `${file !== undefined ? `--api-token-file ${file}` : 'LOOPSCOPE_API_TOKEN'}: the token must be at least 16 characters with no spaces (for example: openssl rand -hex 32)`,
    );
  return token;
}
