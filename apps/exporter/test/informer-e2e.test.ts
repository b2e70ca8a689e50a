/**
 * The exporter's informer path end to end: the built exporter, with the real @kubernetes/client-node,
 * against a test server that speaks the Kubernetes list/watch protocol. It converges to the same
 * figures as the CLI on the same objects, follows pod events, survives dropped watches, 410 Gone and
 * 500s, and keeps serving the last good analysis while the API server is away.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, getJson, startExporter, type RunningExporter } from '@loopscope/testkit';
import { startKubeApiServer, TEST_TOKEN, type KubeApiServer, type TestObject, type TestResource } from './support/kubeApiServer';

const CLI = join(__dirname, '..', '..', 'cli', 'dist', 'main.js');
const DEMO = require.resolve('@loopscope/demo/demo-cluster.json');
const RESOURCE_OF: Record<string, TestResource> = {
  Node: 'nodes',
  Pod: 'pods',
  Service: 'services',
  EndpointSlice: 'endpointslices',
  ConfigMap: 'configmaps',
};

const dir = mkdtempSync(join(tmpdir(), 'loopscope-informer-'));

/** The CLI's figures for exactly the objects the server holds now (the test keeps `objects` in step). */
function cliFigures(api: KubeApiServer, objects: TestObject[]): Record<string, number> {
  const items = objects.filter((o) => api.get(RESOURCE_OF[o.kind as string]!, o.metadata.name, o.metadata.namespace) !== undefined);
  const file = join(dir, `snap-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  const report = JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', '--format', 'json', '--snapshot', file], { encoding: 'utf8' }));
  return Object.fromEntries(report.services.map((s: any) => [`${s.namespace}/${s.name}`, s.loopbackProbability]));
}

async function exporterFigures(exporter: RunningExporter): Promise<Record<string, number>> {
  const { status, body } = await getJson(`${exporter.url}/api/v1/report`);
  if (status !== 200) throw new Error(`report ${status}`);
  return Object.fromEntries(body.services.map((s: any) => [`${s.namespace}/${s.name}`, s.loopbackProbability]));
}

async function converge(exporter: RunningExporter, api: KubeApiServer, objects: TestObject[], what: string): Promise<void> {
  const expected = cliFigures(api, objects);
  await eventually(
    async () => (JSON.stringify(await exporterFigures(exporter)) === JSON.stringify(expected) ? true : undefined),
    30_000,
    `${what}: exporter figures = CLI figures ${JSON.stringify(expected)}`,
  );
}

jest.setTimeout(60_000);

describe('exporter ↔ Kubernetes list/watch', () => {
  let api: KubeApiServer;
  let exporter: RunningExporter;
  // Only what the exporter watches: nodes, pods, services, endpointslices, the kube-proxy ConfigMap.
  const objects: TestObject[] = JSON.parse(readFileSync(DEMO, 'utf8')).items.filter((o: TestObject) => RESOURCE_OF[o.kind as string]);

  beforeAll(async () => {
    api = await startKubeApiServer();
    for (const o of objects) api.add(RESOURCE_OF[o.kind as string]!, o);
    const kubeconfig = api.kubeconfig(join(dir, 'kubeconfig'));
    exporter = await startExporter(['--kubeconfig', kubeconfig, '--debounce-ms', '50']);
    await eventually(async () => ((await fetch(`${exporter.url}/readyz`)).status === 200 ? true : undefined), 30_000, 'readyz');
  }, 60_000);

  afterAll(async () => {
    const code = await exporter?.stop();
    await api?.stop();
    expect(code).toBe(0);
    expect(exporter.stderr()).not.toContain(TEST_TOKEN);
  });

  it('after the first sync: the same figures as the CLI on the same objects', async () => {
    await converge(exporter, api, objects, 'first sync');
    const figures = await exporterFigures(exporter);
    expect(figures['payments/payments-api']).toBeGreaterThan(0);
  });

  it('a pod event moves the figures', async () => {
    const template = objects.find((o) => o.kind === 'Pod' && o.metadata.namespace === 'checkout')!;
    const pod = JSON.parse(JSON.stringify(template));
    pod.metadata.name = 'checkout-api-extra';
    delete pod.metadata.uid;
    pod.spec.nodeName = '10.0.1.12';
    pod.status.podIP = '172.16.0.99';
    objects.push(pod);
    const before = (await exporterFigures(exporter))['payments/payments-api'];
    api.add('pods', pod);
    await converge(exporter, api, objects, 'pod added');
    expect((await exporterFigures(exporter))['payments/payments-api']).not.toBe(before);
  });

  it('a dropped watch reconnects and later events arrive', async () => {
    api.dropWatches('reset');
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'payments-api')!;
    (svc as any).spec.externalTrafficPolicy = 'Cluster';
    api.update('services', svc);
    await converge(exporter, api, objects, 'after a dropped watch');
    expect((await exporterFigures(exporter))['payments/payments-api']).toBe(0);
  });

  it('410 Gone relists, and a delete during the gap is not lost', async () => {
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'payments-api')!;
    (svc as any).spec.externalTrafficPolicy = 'Local';
    api.dropWatches('reset');
    api.update('services', svc);
    const gone = objects.find((o) => o.kind === 'Pod' && o.metadata.name === 'checkout-api-extra')!;
    api.remove('pods', gone);
    objects.splice(objects.indexOf(gone), 1);
    api.expireHistory();
    await converge(exporter, api, objects, 'after 410 Gone');
  });

  it('a 500 is counted and recovered from', async () => {
    api.failNext(2, 500);
    api.dropWatches('reset');
    await eventually(
      async () => {
        const text = await (await fetch(`${exporter.url}/metrics`)).text();
        return /loopscope_watch_(errors|restarts)_total\{resource="[a-z]+"\} [1-9]/.test(text) ? true : undefined;
      },
      30_000,
      'watch errors or restarts to be counted',
    );
    await converge(exporter, api, objects, 'after a 500');
  });

  it('keeps serving the last good analysis while the API server is away, and catches up when it returns', async () => {
    const before = await exporterFigures(exporter);
    await api.stop();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await exporterFigures(exporter)).toEqual(before);
    expect((await fetch(`${exporter.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
    expect(metrics).toMatch(/loopscope_service_loopback_ratio\{namespace="payments",service="payments-api"/);
    await api.restart();
    const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'payments-api')!;
    (svc as any).spec.externalTrafficPolicy = 'Cluster';
    api.update('services', svc);
    await converge(exporter, api, objects, 'after the API server came back');
  }, 60_000);
});
