#!/usr/bin/env node
import { atRiskList, formatProbability, type NodeEvidence } from '@loopscope/core';
import { readNodeDumps, type Logger } from '@loopscope/core/node';
import { demoSnapshotPath } from '@loopscope/demo';
import { ConfigError, HELP, parseConfig, type ExporterConfig } from './config';
import { Engine } from './engine';
import type { Server } from 'node:http';
import { ApiToken } from './http/apiToken';
import { createHttpServer, type ListenerOptions } from './http/server';
import { endpointSliceLister } from './evidence/agentEndpoints';
import { NodeAgentEvidence } from './evidence/nodeAgents';
import { createMetrics } from './metrics';
import { SnapshotSource } from './sources/snapshot';
import { WATCHED_RESOURCES, type ClusterSource, type HealthResource } from './sources/types';

/** One line per event on stderr: time, level, message. Never tokens or kubeconfig contents. */
const log: Logger = (level, msg) => {
  process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`);
};

async function createSource(config: ExporterConfig): Promise<ClusterSource> {
  switch (config.source.kind) {
    case 'snapshot':
      return new SnapshotSource(config.source.path, { log });
    case 'demo':
      return new SnapshotSource(demoSnapshotPath(), { log });
    case 'kubernetes': {
      const { KubernetesSource } = await import('./sources/kubernetes');
      const { slimObject } = await import('@loopscope/core');
      const { kind: _kind, ...source } = config.source;
      return new KubernetesSource({ ...source, logger: log, transform: (o) => slimObject(o) });
    }
  }
}

export async function main(argv: string[]): Promise<number> {
  let config: ExporterConfig;
  try {
    const parsed = parseConfig(argv);
    if (parsed === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    config = parsed;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`loopscope-exporter: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let nodeDumps: Map<string, NodeEvidence> | undefined;
  try {
    // Read once at start (dumps describe a moment, not a watch), before the cluster is known: the
    // dumps' own addr.txt gives the nodes' addresses.
    nodeDumps = config.nodeDumps ? readNodeDumps(config.nodeDumps, { warn: (message) => log('warn', message) }) : undefined;
  } catch (err) {
    process.stderr.write(`loopscope-exporter: ${(err as Error).message}\n`);
    return 2;
  }
  const engine = new Engine({ overrides: config.overrides, nodeDumps, debounceMs: config.debounceMs, log });
  const resources: HealthResource[] = config.source.kind === 'kubernetes' ? [...WATCHED_RESOURCES] : ['snapshot'];
  let agents: NodeAgentEvidence | undefined;
  if (config.nodeAgents) {
    const kube = config.source.kind === 'kubernetes' ? config.source : undefined;
    agents = new NodeAgentEvidence(engine, {
      ...config.nodeAgents,
      log,
      listEndpoints: kube ? endpointSliceLister(kube.kubeconfig, kube.context) : undefined,
    });
  }
  const metrics = createMetrics(engine, {
    maxLinks: config.maxLinks,
    resources,
    families: agents ? (registers) => agents!.registerMetrics(registers) : undefined,
  });
  const live = agents
    ? {
        summary: () => ({ agents: agents!.agentStatus(), observed: agents!.observed() }),
        notes: (namespace: string, service: string) => agents!.notes(namespace, service),
        observed: () => agents!.observed(),
      }
    : undefined;
  const apiToken = config.apiToken ? new ApiToken(config.apiToken) : undefined;
  const separate = config.apiPort !== undefined;
  const listen = async (port: number, listener: ListenerOptions, what: string): Promise<string> => {
    const server = createHttpServer(engine, metrics, log, listener);
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.listenAddress, () => resolve());
    }).catch((err: NodeJS.ErrnoException) => {
      process.stderr.write(
        `loopscope-exporter: cannot listen on ${config.listenAddress}:${port} for ${what} (${err.code ?? err.message})\n`,
      );
      process.exit(2);
    });
    const address = server.address();
    const bound = typeof address === 'object' && address ? address.port : port;
    return `http://${config.listenAddress.includes(':') ? `[${config.listenAddress}]` : config.listenAddress}:${bound}`;
  };
  const servers: Server[] = [];
  const limits = { maxTargetChars: config.maxTargetChars, live };
  const base = await listen(
    config.port,
    { ops: true, api: !separate, apiToken, ...limits },
    separate ? '/metrics' : '/metrics and the API',
  );
  const apiBase = separate ? await listen(config.apiPort!, { ops: false, api: true, apiToken, ...limits }, 'the API') : base;
  if (!apiToken && !isLoopback(config.listenAddress))
    log(
      'warn',
      `the JSON API (what-if included) is open to anyone who reaches ${apiBase}: give --api-token-file (see the README, "Securing the API")`,
    );
  const source = await createSource(config);
  log(
    'info',
    `loopscope-exporter listening on ${base} (${separate ? `API on ${apiBase}` : 'API here too'}${apiToken ? ', bearer token required' : ', no token'}; input: ${source.description})`,
  );

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: stopping`);
    engine.stop();
    agents?.stop();
    await source.stop().catch(() => undefined);
    for (const server of servers) server.close();
    process.exitCode = 0;
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  try {
    await source.start(engine, engine);
  } catch (err) {
    log('error', `first sync failed: ${(err as Error).message}`);
    await stop('first sync failed');
    return 1;
  }
  engine.recompute();
  agents?.start();
  // The ready line reads the analysis itself: a report here would build every link to print five.
  const analysis = engine.analysis;
  if (analysis) {
    const list = atRiskList(analysis, { generatedAt: new Date().toISOString(), limit: 5 });
    const { cluster } = analysis.context;
    // Incomplete input is never "0 at risk" alone: the unknown Services and what supplies them.
    const missing = new Map<string, string>();
    for (const sa of analysis.services) for (const m of sa.missing ?? []) missing.set(m.kind, m.kubectl);
    const unknown = list.summary.unknown
      ? `, ${list.summary.unknown} unknown (the input has no ${[...missing.keys()].join(', ')}: add ${[...missing.values()].map((k) => `\`${k}\``).join(', ')})`
      : '';
    const unreachable = list.summary.unreachable ? `, ${list.summary.unreachable} unreachable from some clients` : '';
    const lines = [
      `ready: ${cluster.nodes.length} nodes, ${list.summary.clientPods} client pods, ${list.summary.services} Services — ${list.summary.loopback} at risk of internal-LB loopback${unreachable}${unknown}`,
      // The headline, as every surface writes it: the worst-placed client's figure, then the cluster exposure.
      ...list.services.map(
        (s) =>
          `  ${s.namespace}/${s.name}: up to ${formatProbability(s.worstClientProbability)} of connections from ${s.clientPodsOnAtRiskNodes} client pod(s) on ${s.atRiskNodes} node(s) time out (cluster exposure ${formatProbability(s.loopbackProbability)})`,
      ),
      `metrics:  ${base}/metrics`,
      `report:   ${apiBase}/api/v1/report`,
      ...(list.services[0]
        ? [`explain:  ${apiBase}/api/v1/explain?target=${list.services[0].namespace}/${list.services[0].name}&format=text`]
        : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (err: unknown) => {
      log('error', `internal error: ${(err as Error).stack ?? err}`);
      process.exit(3);
    },
  );
}
