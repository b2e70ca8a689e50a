/**
 * deploy/kubernetes: the exporter's Deployment, Service and NetworkPolicy agree with each other and
 * with the flags the exporter takes — the API on its own port behind the token, Prometheus alone on
 * the metrics port, the bot and Grafana alone on the API port.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config';

// js-yaml is already in node_modules (a dependency of @kubernetes/client-node).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): any; loadAll(text: string): any[] };
const DIR = join(__dirname, '..', '..', '..', 'deploy', 'kubernetes');
const load = (f: string): any => yaml.load(readFileSync(join(DIR, f), 'utf8'));
const deployment = load('deployment.yaml');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const service = load('service.yaml');
const policy = load('networkpolicy.yaml');
const bot = yaml.loadAll(readFileSync(join(DIR, 'slack-bot.yaml'), 'utf8')).find((d: any) => d.kind === 'Deployment');

test("the Deployment's flags parse, with the API on its own port and a token file from a mounted Secret", () => {
  const parsed = parseConfig(container.args, { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, { readTokenFile: () => 'x'.repeat(64) });
  if (parsed === 'help') throw new Error('the Deployment asks for --help');
  const config = parsed;
  const ports = Object.fromEntries(container.ports.map((p: any) => [p.name, p.containerPort]));
  expect(config.port).toBe(ports['http-metrics']);
  expect(config.apiPort).toBe(ports['http-api']);
  const tokenArg = container.args.find((a: string) => a.startsWith('--api-token-file='))!.split('=')[1];
  const mount = container.volumeMounts.find((m: any) => tokenArg.startsWith(`${m.mountPath}/`));
  const volume = pod.volumes.find((v: any) => v.name === mount.name);
  expect(volume.secret).toMatchObject({
    secretName: 'loopscope-api-token',
    items: [{ key: 'token', path: tokenArg.slice(mount.mountPath.length + 1) }],
  });
  // The probes stay on the metrics port, which never asks for the token.
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(container[probe].httpGet.port).toBe('http-metrics');
});

test('the Service publishes both ports; the bot asks the API port with the same Secret', () => {
  expect(service.spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([
    ['http-metrics', 9808, 'http-metrics'],
    ['http-api', 9809, 'http-api'],
  ]);
  const env = Object.fromEntries(bot.spec.template.spec.containers[0].env.map((e: any) => [e.name, e]));
  expect(env.LOOPSCOPE_EXPORTERS.value).toBe('prod=http://loopscope-exporter.loopscope.svc:9809');
  expect(env.LOOPSCOPE_EXPORTER_TOKEN.valueFrom.secretKeyRef).toEqual({ name: 'loopscope-api-token', key: 'token' });
});

test('the NetworkPolicy: Prometheus alone on the metrics port, the bot and Grafana alone on the API port', () => {
  expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  expect(policy.spec.policyTypes).toEqual(['Ingress']);
  const rule = (port: string): any => policy.spec.ingress.find((r: any) => r.ports.some((p: any) => p.port === port));
  const metrics = rule('http-metrics');
  const api = rule('http-api');
  expect(policy.spec.ingress).toHaveLength(2);
  expect(metrics.ports).toEqual([{ port: 'http-metrics', protocol: 'TCP' }]);
  expect(metrics.from).toEqual([
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    },
  ]);
  expect(api.ports).toEqual([{ port: 'http-api', protocol: 'TCP' }]);
  // The bot's pods carry the label the policy admits (same namespace: no namespaceSelector).
  const botPod = api.from.find((f: any) => !f.namespaceSelector);
  expect(bot.spec.template.metadata.labels).toMatchObject(botPod.podSelector.matchLabels);
  expect(api.from.find((f: any) => f.namespaceSelector).podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'grafana' });
  expect(load('kustomization.yaml').resources).toContain('networkpolicy.yaml');
});
