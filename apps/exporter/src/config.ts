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

HTTP:
  --listen-address ADDR    default 127.0.0.1 (localhost only; 0.0.0.0 in a pod)
  --port N                 default 9808

Analysis:
  --max-links N            cap on loopscope_link_loopback_ratio series (default 5000; the rest are
                           counted in loopscope_links_omitted)
  --debounce-ms N          wait for more changes before recomputing (default 500)
  --max-target-chars N     refuse longer /api/v1/explain targets with 400 (default 512: longer than
                           any namespace/kind/name or LB hostname)
  --provider, --proxy-mode, --ipvs-bind, --pod-ip-routable, --pod-network, --public-lb-in-scope
                           override what is detected (as in \`loopscope analyze --help\`)

Endpoints: /metrics /healthz /readyz /api/v1/report /api/v1/services /api/v1/links
           /api/v1/explain?target=… POST /api/v1/whatif
`;

export interface ExporterConfig {
  source:
    | { kind: 'kubernetes'; kubeconfig?: string; context?: string; requestTimeoutSeconds: number; maxResponseBytes: number; maxWatchEventBytes: number } | { kind: 'snapshot'; path: string } | { kind: 'demo' };
  nodeDumps?: string;
  listenAddress: string;
  port: number;
  maxLinks: number;
  debounceMs: number;
  /** Longest ?target= accepted by /api/v1/explain. */
  maxTargetChars: number;
  overrides: ProfileOverrides;
}

export class ConfigError extends Error {}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): ExporterConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
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
        'request-timeout': { type: 'string' },
        'max-response-mb': { type: 'string' },
        'max-watch-event-mb': { type: 'string' },
        'listen-address': { type: 'string' },
        port: { type: 'string' },
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
  const inputs = [str('kubeconfig') !== undefined || str('context') !== undefined || values['in-cluster'] === true, str('snapshot') !== undefined].filter(Boolean).length;
  if (inputs > 1) throw new ConfigError('give either a cluster (--kubeconfig/--context/--in-cluster) or --snapshot, not both');
  let source: ExporterConfig['source'];
  if (str('snapshot') !== undefined) source = { kind: 'snapshot', path: str('snapshot')! };
  else if (str('kubeconfig') !== undefined || str('context') !== undefined || values['in-cluster'] === true || env.KUBERNETES_SERVICE_HOST) {
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
  return {
    source,
    nodeDumps: str('node-dumps'),
    listenAddress: str('listen-address') ?? '127.0.0.1',
    port: int('port', 9808, 0, 65535),
    maxLinks: int('max-links', 5000, 0, 1_000_000),
    debounceMs: int('debounce-ms', 500, 0, 600_000),
    maxTargetChars: int('max-target-chars', MAX_TARGET_CHARS, 1, 100_000),
    overrides,
  };
}
