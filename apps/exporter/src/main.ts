#!/usr/bin/env node
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatProbability, loadNodeDumps, NODE_DUMP_FILES, type NodeEvidence } from '@loopscope/core';
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
      return new SnapshotSource(require.resolve('@loopscope/core/demo/demo-cluster.json'), { log });
    case 'kubernetes': {
      const { KubernetesSource } = await import('./sources/kubernetes');
      const { slimObject } = await import('@loopscope/core');
      return new KubernetesSource({ kubeconfig: config.source.kubeconfig, context: config.source.context, logger: log, transform: (o) => slimObject(o) });
    }
  }
}

/** Node dumps for the exporter (read once at start: they describe a moment, not a watch). */
function readNodeDumps(dir: string): Map<string, NodeEvidence> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`--node-dumps ${dir}: not a readable directory`);
  const dumps = new Map<string, NodeEvidence>();
  for (const node of readdirSync(dir)) {
    if (!statSync(join(dir, node)).isDirectory()) continue;
    const input: Record<string, { text: string; file: string }> = {};
    for (const [field, name] of Object.entries(NODE_DUMP_FILES)) {
      const path = join(dir, node, name);
      if (existsSync(path)) input[field] = { text: readFileSync(path, 'utf8'), file: join(node, name) };
    }
    if (Object.keys(input).length > 0) dumps.set(node, loadNodeDumps(input));
  }
  return dumps;
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
    nodeDumps = config.nodeDumps ? readNodeDumps(config.nodeDumps) : undefined;
  } catch (err) {
    process.stderr.write(`loopscope-exporter: ${(err as Error).message}\n`);
    return 2;
  }
  const engine = new Engine({ overrides: config.overrides, nodeDumps, debounceMs: config.debounceMs, log });
  const metrics = createMetrics(engine, { maxLinks: config.maxLinks });
  const server = createHttpServer(engine, metrics, log);
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
