import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, type CounterLimits } from './conntrack/connectionCounters';
import { IngressParseError, parseIngressFlag, type IngressPoint } from './ingress/ingressSet';

export const HELP = `Usage: loopscope-node-agent [options]

One per node (a DaemonSet). Reads the node's datapath (iptables-save, ip6tables-save, ipset save,
ip -o addr, nft list ruleset) on an interval, and follows conntrack events (conntrack -E) to count,
per local client IP and LB ingress point, connections replied and connections destroyed while still
unreplied (the ones that timed out). Strictly read-only on the node.

  --node-name NAME          this node's name (default: env NODE_NAME, set from the downward API)
  --listen-address ADDR     default 0.0.0.0 (the DaemonSet uses hostNetwork)
  --port N                  default 9809
  --ingress IP:PORT[/PROTO] an LB ingress point to watch (repeatable; PROTO tcp|udp|sctp, default
                            tcp). Without it, read Services' status.loadBalancer.ingress from the
                            Kubernetes API (list/watch).
  --kubeconfig PATH         default: KUBECONFIG, ~/.kube/config, then the in-cluster ServiceAccount
  --refresh-seconds N       how often to re-read the dumps (default 30)
  --max-tracked-flows N     flows followed until their first reply (default ${DEFAULT_LIMITS.maxTrackedFlows})
  --max-series N            (client IP, ingress point) pairs counted (default ${DEFAULT_LIMITS.maxSeries})

Evidence endpoint (/api/v1/evidence) authentication, a bearer token checked by one of:
  --allow-user NAME         TokenReview (default): accept this authenticated user (repeatable;
                            default system:serviceaccount:loopscope:loopscope-exporter)
  --token-file PATH         a static token instead (nodes without API access, tests)

Endpoints: /metrics /healthz /readyz /api/v1/evidence[?dumps=false]
`;

export interface AgentConfig {
  nodeName: string;
  listenAddress: string;
  port: number;
  ingress: IngressPoint[];
  kubeconfig?: string;
  refreshSeconds: number;
  limits: CounterLimits;
  allowUsers: string[];
  staticToken?: string;
}

export class ConfigError extends Error {}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentConfig | 'help' {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'node-name': { type: 'string' },
        'listen-address': { type: 'string' },
        port: { type: 'string' },
        ingress: { type: 'string', multiple: true },
        kubeconfig: { type: 'string' },
        'refresh-seconds': { type: 'string' },
        'max-tracked-flows': { type: 'string' },
        'max-series': { type: 'string' },
        'allow-user': { type: 'string', multiple: true },
        'token-file': { type: 'string' },
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
  const nodeName = str('node-name') ?? env.NODE_NAME;
  if (!nodeName) throw new ConfigError('--node-name is required (or env NODE_NAME, from the downward API: fieldRef spec.nodeName)');
  let ingress: IngressPoint[];
  try {
    ingress = ((values.ingress as string[] | undefined) ?? []).map(parseIngressFlag);
  } catch (err) {
    if (err instanceof IngressParseError) throw new ConfigError(err.message);
    throw err;
  }
  let staticToken: string | undefined;
  const tokenFile = str('token-file');
  if (tokenFile !== undefined) {
    try {
      staticToken = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`--token-file ${tokenFile}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (staticToken.length < 16) throw new ConfigError(`--token-file ${tokenFile}: the token must be at least 16 characters`);
  }
  return {
    nodeName,
    listenAddress: str('listen-address') ?? '0.0.0.0',
    port: int('port', 9809, 0, 65535),
    ingress,
    kubeconfig: str('kubeconfig'),
    refreshSeconds: int('refresh-seconds', 30, 1, 3600),
    limits: {
      maxTrackedFlows: int('max-tracked-flows', DEFAULT_LIMITS.maxTrackedFlows, 1, 10_000_000),
      maxSeries: int('max-series', DEFAULT_LIMITS.maxSeries, 1, 1_000_000),
    },
    allowUsers: (values['allow-user'] as string[] | undefined) ?? ['system:serviceaccount:loopscope:loopscope-exporter'],
    staticToken,
  };
}
