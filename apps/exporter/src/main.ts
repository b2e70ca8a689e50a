#!/usr/bin/env node
import { formatProbability, type NodeEvidence } from '@loopscope/core';
import { demoSnapshotPath, readNodeDumps } from '@loopscope/core/node';
import { ConfigError, HELP, parseConfig, type ExporterConfig } from './config';
import { Engine } from './engine';
import { createHttpServer } from './http/server';
import { createMetrics } from './metrics';
import { SnapshotSource } from './sources/snapshot';
import type { ClusterSource } from './sources/types';

type Level = 'info' | 'warn' | 'error';

/** One line per event on stderr: time, level, message. Never tokens or kubeconfig contents. */
function log(level: Level, msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`);
}

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
  const metrics = createMetrics(engine, { maxLinks: config.maxLinks });
  const server = createHttpServer(engine, metrics, log, { maxTargetChars: config.maxTargetChars });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.listenAddress, () => resolve());
  }).catch((err: NodeJS.ErrnoException) => {
    process.stderr.write(`loopscope-exporter: cannot listen on ${config.listenAddress}:${config.port} (${err.code ?? err.message})\n`);
    process.exit(2);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.listenAddress.includes(':') ? `[${config.listenAddress}]` : config.listenAddress}:${port}`;
  const source = await createSource(config);
  log('info', `loopscope-exporter listening on ${base} (input: ${source.description})`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log('info', `${signal}: stopping`);
    engine.stop();
    await source.stop().catch(() => undefined);
    server.close();
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
  const report = engine.currentReport({ fixes: false });
  if (report) {
    const risky = report.services.filter((s) => s.verdict === 'loopback').sort((a, b) => b.loopbackProbability - a.loopbackProbability);
    const lines = [
      `ready: ${report.cluster.nodes} nodes, ${report.cluster.clientPods} client pods, ${report.summary.services} Services — ${report.summary.loopback} at risk of internal-LB loopback`,
      ...risky.slice(0, 5).map((s) => `  ${s.namespace}/${s.name}: ${formatProbability(s.loopbackProbability)} of new connections loop back`),
      `metrics:  ${base}/metrics`,
      `report:   ${base}/api/v1/report`,
      ...(risky[0] ? [`explain:  ${base}/api/v1/explain?target=${risky[0].namespace}/${risky[0].name}&format=text`] : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  return 0;
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
