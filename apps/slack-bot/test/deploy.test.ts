/** The Slack app manifest and the Kubernetes Deployment agree with what the bot serves and reads. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { readConfig } from '../src/config';

const manifest = load(readFileSync(join(__dirname, '..', 'manifest.yaml'), 'utf8')) as any;
const docs = loadAll(readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'kubernetes', 'slack-bot.yaml'), 'utf8')) as any[];

test('the app manifest asks for exactly the scopes and events the bot uses, and the /loopscope command', () => {
  expect(manifest.oauth_config.scopes.bot.sort()).toEqual(['app_mentions:read', 'chat:write', 'commands', 'im:history']);
  expect(manifest.settings.event_subscriptions.bot_events.sort()).toEqual(['app_mention', 'message.im']);
  expect(manifest.features.slash_commands).toEqual([
    expect.objectContaining({ command: '/loopscope', url: expect.stringMatching(/\/slack\/events$/) }),
  ]);
  expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: expect.stringMatching(/\/slack\/events$/) });
  expect(manifest.settings.event_subscriptions.request_url).toMatch(/\/slack\/events$/);
});

test('the Deployment: secrets from a Secret, non-root and read-only, probes on what the bot serves', () => {
  const deployment = docs.find((d) => d.kind === 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e]));
  expect(env.SLACK_BOT_TOKEN.valueFrom.secretKeyRef).toEqual({ name: 'loopscope-slack-bot', key: 'bot-token' });
  expect(env.SLACK_SIGNING_SECRET.valueFrom.secretKeyRef).toEqual({ name: 'loopscope-slack-bot', key: 'signing-secret' });
  expect(env.SLACK_APP_TOKEN.valueFrom.secretKeyRef.optional).toBe(true);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
  expect(container.securityContext).toMatchObject({
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
  });
  expect(pod.automountServiceAccountToken).toBe(false);
  expect(container.livenessProbe.httpGet.path).toBe('/healthz');
  expect(container.readinessProbe.httpGet.path).toBe('/readyz');
  expect(container.resources.limits.memory).toBeDefined();
  // The plain values are a valid configuration once the Secret's are added.
  const plain = Object.fromEntries(container.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
  const config = readConfig({ ...plain, SLACK_BOT_TOKEN: 'xoxb-x', SLACK_SIGNING_SECRET: 'secret' });
  // The exporter's API port (its metrics port is for Prometheus only), with the API token.
  expect(config.clusters).toEqual([{ name: 'prod', url: 'http://loopscope-exporter.loopscope.svc:9809' }]);
  expect(env.LOOPSCOPE_EXPORTER_TOKEN.valueFrom.secretKeyRef).toEqual({ name: 'loopscope-api-token', key: 'token' });
  expect(String(config.port)).toBe(String(container.ports[0].containerPort));
  const service = docs.find((d) => d.kind === 'Service');
  expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
});
