#!/usr/bin/env node
import { Agent, type Log } from './agent';
import { StaticTokenAuthenticator, type Authenticator } from './auth/credential';
import { TokenReviewAuthenticator } from './auth/tokenReview';
import { ConfigError, HELP, parseConfig, type AgentConfig } from './config';
import { createServer } from './http/server';
import { KubernetesIngressSource } from './ingress/kubernetesIngress';
import { describeKubeError, loadKubeConfig } from './kube/client';
import { createMetrics } from './metrics';

/** One line per event on stderr. Never a token, a kubeconfig, or a dump's contents. */
const log: Log = (level, msg) => process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`);

export async function main(argv: string[]): Promise<number> {
  let config: AgentConfig;
  try {
    const parsed = parseConfig(argv);
    if (parsed === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    config = parsed;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`loopscope-node-agent: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const agent = new Agent({ nodeName: config.nodeName, refreshSeconds: config.refreshSeconds, limits: config.limits, log });

  // The API is needed for ingress points (unless --ingress) and for TokenReview (unless --token-file).
  const needsApi = config.ingress.length === 0 || config.staticToken === undefined;
  let kube: Awaited<ReturnType<typeof loadKubeConfig>> | undefined;
  if (needsApi) {
    try {
      kube = await loadKubeConfig(config.kubeconfig);
      if (!kube.config.getCurrentCluster()) throw new Error('no cluster in the kubeconfig');
    } catch (err) {
      kube = undefined;
      log(
        'warn',
        `no Kubernetes API access (${describeKubeError(err)}): ${config.ingress.length === 0 ? 'no ingress points until --ingress is given; ' : ''}${config.staticToken === undefined ? 'the evidence endpoint refuses every request until --token-file is given' : ''}`,
      );
    }
  }
  let auth: Authenticator | undefined;
  if (config.staticToken !== undefined) auth = new StaticTokenAuthenticator(config.staticToken);
  else if (kube) auth = new TokenReviewAuthenticator(kube.client, kube.config, config.allowUsers, log);

  let ingressSource: KubernetesIngressSource | undefined;
  if (config.ingress.length > 0) agent.setIngress(config.ingress, '--ingress');
  else if (kube) {
    ingressSource = new KubernetesIngressSource(
      kube.client,
      kube.config,
      (points) => agent.setIngress(points, 'Kubernetes API (Services)'),
      log,
    );
    ingressSource.start();
  }

  const authFailures = new Map<string, number>();
  const registry = createMetrics(agent, authFailures);
  const server = createServer(agent, registry, auth, authFailures, log);
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`loopscope-node-agent: cannot listen on ${config.listenAddress}:${config.port} (${err.code ?? err.message})\n`);
      resolve(false);
    });
    server.listen(config.port, config.listenAddress, () => resolve(true));
  });
  if (!listening) {
    ingressSource?.stop();
    return 2;
  }
  agent.start();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.listenAddress.includes(':') ? `[${config.listenAddress}]` : config.listenAddress;
  log(
    'info',
    `loopscope-node-agent for node ${config.nodeName} listening on http://${host}:${port} (evidence auth: ${auth?.mode ?? 'none'}; ingress: ${agent.ingressSource})`,
  );

  const stop = (signal: string): void => {
    log('info', `${signal}: stopping`);
    agent.stop();
    ingressSource?.stop();
    server.close();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (err: unknown) => {
      log('error', `internal error: ${(err as Error).message}`);
      process.exit(3);
    },
  );
}
