import { formatProbability, LoopscopeError, parseWhatIfChange, whatIf, type WhatIfChange } from '@loopscope/core';
import { formatFlag, parseCommandArgs } from '../args';
import { QUIET } from '../progress';
import { jsonText, UsageError, type Command } from '../io';
import { PROFILE_HELP, PROFILE_OPTIONS, profileOverrides } from '../profileFlags';
import { clusterFromFlags, SOURCE_HELP, SOURCE_OPTIONS } from '../sources';
import { analyzeWithEvidence, NODE_DUMPS_HELP } from '../evidence';
import { renderTable } from '../table';

export const WHATIF_HELP = `Usage: loopscope whatif [SERVICE] CHANGE... [--context NAME | --snapshot FILE|DIR|- | --demo] [-o text|json]

Applies changes to a copy of the cluster and prints each affected Service's figure before and after.

Changes to SERVICE (namespace/name or a unique name):
  --traffic-policy Local|Cluster     set externalTrafficPolicy
  --ip-mode VIP|Proxy                set status.loadBalancer.ingress[].ipMode
  --prevent-loopback true|false      the TKE annotation service.cloud.tencent.com/prevent-loopback
  --move-clients [WORKLOAD,...]      anti-affinity: client pods (all affected, or these workloads) move to
                                     nodes without its endpoints; its own pods stay
  --via-cluster-ip                   clients call the ClusterIP / DNS name instead of the LB IP
Cluster-wide:
  --kube-proxy-version V|tke-fixed   a kube-proxy build on --nodes (default all); tke-fixed = the first
                                     build of each node's line that binds the LB IP (Tencent Cloud doc
                                     "CLB loopback"); a node already on such a build keeps it
  --nodes a,b,c                      nodes for --kube-proxy-version

  -o, --format text|json  default text
  --compact               one-line JSON (the default when stdout is not a terminal)

${SOURCE_HELP}

${NODE_DUMPS_HELP}

${PROFILE_HELP}

Exit codes: 0 ok; 2 bad usage or input.
`;

export const whatif: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(
    'whatif',
    args,
    {
      ...SOURCE_OPTIONS,
      compact: { type: 'boolean' },
      'node-dumps': { type: 'string' },
      format: { type: 'string', short: 'o' },
      'traffic-policy': { type: 'string' },
      'ip-mode': { type: 'string' },
      'prevent-loopback': { type: 'string' },
      'move-clients': { type: 'string' },
      'via-cluster-ip': { type: 'boolean' },
      'kube-proxy-version': { type: 'string' },
      nodes: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...PROFILE_OPTIONS,
    },
    true,
  );
  if (values.help) {
    io.stdout(WHATIF_HELP);
    return 0;
  }
  const format = formatFlag('whatif', values.format, ['text', 'json'], 'text');
  if (positionals.length > 1) throw new UsageError(`whatif: at most one SERVICE; got ${positionals.join(' ')}`);
  const service = positionals[0];
  const changes: WhatIfChange[] = [];
  // Each flag becomes a change checked by the core (as the exporter's body and the Slack bot's are).
  const add = (flag: string, change: Record<string, unknown>, needsService = true): void => {
    if (needsService && !service)
      throw new UsageError(
        `whatif: --${flag} changes a Service: name it first, e.g. \`loopscope whatif payments/payments-api --${flag} …\``,
      );
    changes.push(parseWhatIfChange({ ...change, service }, (field) => (field === 'nodes' ? '--nodes' : `--${flag}`)));
  };
  const bool = (v: string): unknown => (v === 'true' ? true : v === 'false' ? false : v);
  if (values['traffic-policy'] !== undefined) add('traffic-policy', { kind: 'trafficPolicy', value: values['traffic-policy'] });
  if (values['ip-mode'] !== undefined) add('ip-mode', { kind: 'ipMode', value: values['ip-mode'] });
  if (values['prevent-loopback'] !== undefined)
    add('prevent-loopback', { kind: 'preventLoopback', value: bool(values['prevent-loopback']) });
  if (values['kube-proxy-version'] !== undefined)
    add(
      'kube-proxy-version',
      { kind: 'kubeProxyVersion', version: values['kube-proxy-version'], nodes: values.nodes?.split(',').filter(Boolean) },
      false,
    );
  else if (values.nodes !== undefined) throw new UsageError('whatif: --nodes goes with --kube-proxy-version');
  if (values['move-clients'] !== undefined) {
    const workloads = values['move-clients'].split(',').filter(Boolean);
    add('move-clients', { kind: 'moveClients', workloads: workloads.length ? workloads : undefined });
  }
  if (values['via-cluster-ip']) add('via-cluster-ip', { kind: 'callViaClusterIP' });
  if (changes.length === 0) throw new UsageError('whatif: give at least one change (see `loopscope whatif --help`)');

  const cluster = await clusterFromFlags(values, io, io.progress ?? QUIET);
  let result;
  try {
    result = whatIf(analyzeWithEvidence(cluster, profileOverrides(values), values['node-dumps'], io), changes);
  } catch (err) {
    if (err instanceof LoopscopeError) throw new UsageError(`whatif: ${err.message}`);
    throw err;
  }
  if (format === 'json') {
    io.stdout(jsonText({ apiVersion: 'loopscope/v1', kind: 'WhatIf', ...result }, io, values.compact));
    return 0;
  }
  if (result.services.length === 0) {
    io.stdout('No Service changes its figure or verdict.\n');
    return 0;
  }
  io.stdout(
    renderTable(
      ['SERVICE', 'BEFORE', 'AFTER'],
      result.services.map((s) => [
        `${s.namespace}/${s.name}`,
        `${s.before.verdict} ${formatProbability(s.before.probability)}`,
        `${s.after.verdict} ${formatProbability(s.after.probability)}`,
      ]),
    ),
  );
  return 0;
};
