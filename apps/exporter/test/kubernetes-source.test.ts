/**
 * The real KubernetesSource, with the real @kubernetes/client-node, against a test API server over
 * HTTP. The source runs in a child Node process (see support/sourceChild.ts for why); every sink
 * call, health report and log line comes back over IPC.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '@loopscope/core';
import { Backoff } from '../src/sources/kubernetes/backoff';
import { describeError } from '../src/sources/kubernetes/errors';
import { KubeApiServer, TEST_TOKEN, type TestObject, startKubeApiServer } from './support/kubeApiServer';
import { type ChildSourceOptions, type SourceChild, type SourceEvent, spawnSource } from './support/sourceChild';

jest.setTimeout(30_000);

type ReplaceEvent = Extract<SourceEvent, { type: 'replace' }>;
type ObjectEvent = Extract<SourceEvent, { type: 'upsert' | 'remove' }>;
type HealthEvent = Extract<SourceEvent, { type: 'watchRestarted' | 'watchError' | 'objectSkipped' | 'eventSkipped' }>;

const INFORMED = ['nodes', 'pods', 'services', 'endpointslices'] as const;

// ---- fixtures: objects shaped like `kubectl get -o json` ------------------------------------------------

const node = (name: string): TestObject => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, 'node.kubernetes.io/exclude-from-external-load-balancers': 'false' } },
  spec: { providerID: `qcloud:///800002/ins-${name}`, podCIDR: '10.244.1.0/24' },
  status: {
    addresses: [
      { type: 'InternalIP', address: '10.0.0.11' },
      { type: 'Hostname', address: name },
    ],
    conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2025-01-01T00:00:00Z', reason: 'KubeletReady' }],
    nodeInfo: { kubeProxyVersion: 'v1.30.4', kubeletVersion: 'v1.30.4' },
  },
});

const pod = (name: string, nodeName = 'node-a', phase = 'Running'): TestObject => ({
  metadata: {
    name,
    namespace: 'shop',
    labels: { app: 'web', 'pod-template-hash': '7d9f' },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f', uid: 'rs-uid', controller: true, blockOwnerDeletion: true },
    ],
  },
  spec: { nodeName, containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
  status: { phase, podIP: '10.244.1.7', podIPs: [{ ip: '10.244.1.7' }], startTime: '2025-01-01T00:00:00Z' },
});

const service = (name: string, ip = '10.0.0.100'): TestObject => ({
  metadata: {
    name,
    namespace: 'shop',
    annotations: { 'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 'subnet-123' },
  },
  spec: {
    type: 'LoadBalancer',
    clusterIP: '172.16.0.10',
    externalTrafficPolicy: 'Cluster',
    ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }],
    selector: { app: 'web' },
  },
  status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } },
});

const slice = (name: string, serviceName: string, podName: string): TestObject => ({
  metadata: {
    name,
    namespace: 'shop',
    labels: { 'kubernetes.io/service-name': serviceName, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
  },
  addressType: 'IPv4',
  endpoints: [
    {
      addresses: ['10.244.1.7'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'node-a',
      targetRef: { kind: 'Pod', namespace: 'shop', name: podName, uid: 'pod-uid' },
    },
  ],
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

const kubeProxyConfigMap = (mode: string): TestObject => ({
  metadata: { name: 'kube-proxy', namespace: 'kube-system' },
  data: { 'config.conf': `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ${mode}\n` },
});

function seed(server: KubeApiServer): void {
  server.add('nodes', node('node-a'));
  server.add('nodes', node('node-b'));
  server.add('pods', pod('web-1'));
  server.add('pods', pod('web-2', 'node-b'));
  server.add('pods', pod('web-3'));
  server.add('services', service('web'));
  server.add('endpointslices', slice('web-abcde', 'web', 'web-1'));
  server.add('configmaps', kubeProxyConfigMap('iptables'));
}

// ---- harness ---------------------------------------------------------------------------------------------

let server: KubeApiServer;
let child: SourceChild | undefined;
let dir: string;
let kubeconfig: string;

beforeEach(async () => {
  server = await startKubeApiServer();
  dir = mkdtempSync(join(tmpdir(), 'loopscope-source-'));
  kubeconfig = server.kubeconfig(join(dir, 'kubeconfig'));
});

afterEach(async () => {
  try {
    if (child) {
      // The credential must never reach a log line, a health message or the child's output.
      expect(child.allText()).not.toContain(TEST_TOKEN);
      await child.kill();
    }
  } finally {
    child = undefined;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Fast timings for tests: short backoff, frequent ConfigMap polls, long watch timeouts. */
function launch(options: Partial<ChildSourceOptions> = {}): SourceChild {
  child = spawnSource({
    kubeconfig,
    backoff: { initialMs: 50, maxMs: 400 },
    configMapPollSeconds: 0.2,
    watchTimeoutSeconds: 120,
    listPageSize: 2,
    ...options,
  });
  return child;
}

/** Starts the source; resolves once it is synced and its four watches are open on the server. */
async function startSynced(options: Partial<ChildSourceOptions> = {}): Promise<SourceChild> {
  const c = launch(options);
  await c.start();
  await server.waitForWatches(4);
  return c;
}

const isReplace =
  (resource: string) =>
  (e: SourceEvent): boolean =>
    e.type === 'replace' && e.resource === resource;
const isObject =
  (type: 'upsert' | 'remove', resource: string, name: string) =>
  (e: SourceEvent): boolean =>
    e.type === type && e.resource === resource && e.object.metadata?.name === name;
const isHealth =
  (type: HealthEvent['type'], resource: string, pattern: RegExp) =>
  (e: SourceEvent): boolean =>
    e.type === type && e.resource === resource && pattern.test(e.message);
const names = (objects: KubeObject[]): string[] => objects.map((o) => o.metadata?.name ?? '?').sort();
const byName = (objects: KubeObject[], name: string): Record<string, any> => {
  const o = objects.find((x) => x.metadata?.name === name);
  if (!o) throw new Error(`${name} not in [${names(objects).join(', ')}]`);
  return o as Record<string, any>;
};

// ---- tests -----------------------------------------------------------------------------------------------

describe('KubernetesSource against a Kubernetes API server', () => {
  test('initial list: one replace per resource, kind set, Kubernetes JSON field names intact', async () => {
    seed(server);
    const t0 = Date.now();
    const c = await startSynced();
    const startMs = Date.now() - t0;

    for (const r of [...INFORMED, 'configmaps'] as const) {
      const replaces = c.events.filter(isReplace(r)) as ReplaceEvent[];
      expect(replaces).toHaveLength(1);
      expect(c.events.some((e) => e.type === 'synced' && e.resource === r)).toBe(true);
    }
    const objects = (r: string): KubeObject[] => (c.events.find(isReplace(r)) as ReplaceEvent).objects;

    expect(names(objects('nodes'))).toEqual(['node-a', 'node-b']);
    expect(names(objects('pods'))).toEqual(['web-1', 'web-2', 'web-3']); // 2 pages of listPageSize 2
    const kinds = (r: string): string[] => [...new Set(objects(r).map((o) => `${o.apiVersion}/${o.kind}`))];
    expect(kinds('nodes')).toEqual(['v1/Node']);
    expect(kinds('pods')).toEqual(['v1/Pod']);
    expect(kinds('services')).toEqual(['v1/Service']);
    expect(kinds('endpointslices')).toEqual(['discovery.k8s.io/v1/EndpointSlice']);
    expect(kinds('configmaps')).toEqual(['v1/ConfigMap']);

    const p = byName(objects('pods'), 'web-1');
    expect(p.metadata).toMatchObject({
      namespace: 'shop',
      labels: { app: 'web', 'pod-template-hash': '7d9f' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f', controller: true }],
    });
    expect(typeof p.metadata.creationTimestamp).toBe('string'); // JSON, not a Date
    expect(typeof p.metadata.resourceVersion).toBe('string');
    expect(p.spec.nodeName).toBe('node-a');
    expect(p.status).toMatchObject({ phase: 'Running', podIP: '10.244.1.7' });

    const n = byName(objects('nodes'), 'node-a');
    expect(n.status.addresses[0]).toEqual({ type: 'InternalIP', address: '10.0.0.11' });
    expect(n.status.nodeInfo.kubeProxyVersion).toBe('v1.30.4');
    expect(n.status.conditions[0].lastHeartbeatTime).toBe('2025-01-01T00:00:00Z');

    const s = byName(objects('services'), 'web');
    expect(s.status.loadBalancer.ingress).toEqual([{ ip: '10.0.0.100', ipMode: 'VIP' }]);
    expect(s.spec.externalTrafficPolicy).toBe('Cluster');
    expect(s.spec.ports[0]).toEqual({ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 });
    expect(s.metadata.annotations['service.kubernetes.io/qcloud-loadbalancer-internal-subnetid']).toBe('subnet-123');

    const es = byName(objects('endpointslices'), 'web-abcde');
    expect(es.metadata.labels['kubernetes.io/service-name']).toBe('web');
    expect(es.endpoints[0]).toEqual({
      addresses: ['10.244.1.7'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'node-a',
      targetRef: { kind: 'Pod', namespace: 'shop', name: 'web-1', uid: 'pod-uid' },
    });
    expect(byName(objects('configmaps'), 'kube-proxy').data['config.conf']).toContain('mode: iptables');

    // Paginated lists, then watches from the list's resourceVersion with bookmarks and a timeout.
    const podRequests = server.requests.filter((r) => r.path === '/api/v1/pods');
    expect(podRequests[0]!.query).toMatchObject({ limit: '2' });
    expect(podRequests[1]!.query.continue).toBeTruthy();
    const watch = podRequests.find((r) => r.watch)!;
    expect(watch.query).toMatchObject({ allowWatchBookmarks: 'true', timeoutSeconds: '120', resourceVersion: expect.any(String) });

    expect(c.description).toBe(`kubeconfig ${kubeconfig}, server ${server.url}`);
    expect(c.events.filter((e) => e.type === 'watchError')).toEqual([]);
    expect(startMs).toBeLessThan(5000);
  });

  test('watch events ADDED, MODIFIED and DELETED reach the sink as upsert and remove', async () => {
    seed(server);
    const c = await startSynced();
    const from = c.events.length;

    server.add('pods', pod('web-4', 'node-b', 'Pending'));
    const added = await c.waitFor<ObjectEvent>(isObject('upsert', 'pods', 'web-4'), 'ADDED web-4', 5000, from);
    expect(added.object).toMatchObject({ kind: 'Pod', apiVersion: 'v1', spec: { nodeName: 'node-b' }, status: { phase: 'Pending' } });

    server.update('pods', pod('web-4', 'node-b', 'Running'));
    const modified = await c.waitFor<ObjectEvent>(
      (e) =>
        isObject('upsert', 'pods', 'web-4')(e) &&
        (e as ObjectEvent).object !== added.object &&
        (e as any).object.status.phase === 'Running',
      'MODIFIED web-4',
      5000,
      from,
    );
    expect(modified.object.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');

    server.remove('pods', pod('web-4'));
    const removed = await c.waitFor<ObjectEvent>(isObject('remove', 'pods', 'web-4'), 'DELETED web-4', 5000, from);
    expect(removed.object.kind).toBe('Pod');

    server.update('services', service('web', '10.0.0.200'));
    const svc = await c.waitFor<ObjectEvent>(isObject('upsert', 'services', 'web'), 'MODIFIED service', 5000, from);
    expect((svc.object as any).status.loadBalancer.ingress).toEqual([{ ip: '10.0.0.200', ipMode: 'VIP' }]);

    server.add('endpointslices', slice('web-fghij', 'web', 'web-2'));
    const es = await c.waitFor<ObjectEvent>(isObject('upsert', 'endpointslices', 'web-fghij'), 'ADDED slice', 5000, from);
    expect(es.object).toMatchObject({ kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' });
    expect((es.object as any).endpoints[0].targetRef.name).toBe('web-2');

    server.remove('nodes', node('node-b'));
    await c.waitFor(isObject('remove', 'nodes', 'node-b'), 'DELETED node', 5000, from);

    // Bookmarks move the resourceVersion and deliver nothing.
    const before = c.events.filter((e) => e.type === 'upsert' || e.type === 'remove').length;
    server.bookmark();
    server.add('pods', pod('web-5'));
    await c.waitFor(isObject('upsert', 'pods', 'web-5'), 'ADDED web-5', 5000, from);
    expect(c.events.filter((e) => e.type === 'upsert' || e.type === 'remove')).toHaveLength(before + 1);
    expect(c.events.filter((e) => e.type === 'replace')).toHaveLength(5); // no relist
    expect(c.events.filter((e) => e.type === 'watchRestarted' || e.type === 'watchError')).toEqual([]);
  });

  test("a transform (core's slimObject) applies to list items and watch events alike", async () => {
    seed(server);
    const c = await startSynced({ transform: 'slimObject' });
    const listed = byName((c.events.find(isReplace('pods')) as ReplaceEvent).objects, 'web-1');
    expect(listed).toEqual({
      kind: 'Pod',
      metadata: {
        name: 'web-1',
        namespace: 'shop',
        labels: { 'pod-template-hash': '7d9f' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f', controller: true }],
      },
      spec: { nodeName: 'node-a' },
      status: { phase: 'Running', podIP: '10.244.1.7' },
    });
    server.add('pods', pod('web-6', 'node-b'));
    const added = await c.waitFor<ObjectEvent>(isObject('upsert', 'pods', 'web-6'), 'ADDED web-6');
    expect(added.object).toEqual({ ...listed, metadata: { ...listed.metadata, name: 'web-6' }, spec: { nodeName: 'node-b' } });
    const cm = (c.events.find(isReplace('configmaps')) as ReplaceEvent).objects[0] as Record<string, any>;
    expect(Object.keys(cm).sort()).toEqual(['data', 'kind', 'metadata']);
  });

  test.each(['reset', 'clean'] as const)('a watch connection dropped (%s) is re-established and later events arrive', async (how) => {
    seed(server);
    const c = await startSynced();
    const from = c.events.length;
    const lists = (): number => server.requests.filter((r) => !r.watch && !r.path.includes('/configmaps/')).length;
    const listsBefore = lists();

    expect(server.dropWatches(how)).toBe(4);
    for (const r of INFORMED) await c.waitFor(isHealth('watchRestarted', r, /./), `watchRestarted ${r}`, 5000, from);
    const restarted = c.events.slice(from).find((e) => e.type === 'watchRestarted') as HealthEvent;
    expect(restarted.message).toMatch(
      how === 'reset' ? /connection closed mid-response|connection reset/ : /watch closed by the API server after/,
    );

    server.add('pods', pod('web-9'));
    server.update('services', service('web', '10.0.0.9'));
    await c.waitFor(isObject('upsert', 'pods', 'web-9'), 'ADDED after reconnect');
    await c.waitFor(isObject('upsert', 'services', 'web'), 'MODIFIED after reconnect');

    // Resumed from the last resourceVersion: no relist, no replace.
    expect(lists()).toBe(listsBefore);
    expect(c.events.filter((e) => e.type === 'replace' && e.resource !== 'configmaps')).toHaveLength(4);
    await server.waitForWatches(4);
  });

  test.each(['event', 'http'] as const)(
    '410 Gone (%s) leads to a relist whose replace drops objects deleted while the watch was down',
    async (goneMode) => {
      server.goneMode = goneMode;
      seed(server);
      const c = await startSynced();
      const from = c.events.length;

      // The watch drops; while it is down, web-1 is deleted and web-7 created, and the history is
      // compacted, so resuming from the old resourceVersion is impossible.
      server.dropWatches('reset');
      server.remove('pods', pod('web-1'));
      server.add('pods', pod('web-7'));
      server.expireHistory();

      const relist = await c.waitFor<ReplaceEvent>(isReplace('pods'), 'the relist of pods', 10_000, from);
      expect(names(relist.objects)).toEqual(['web-2', 'web-3', 'web-7']);
      expect(relist.objects.every((o) => o.kind === 'Pod')).toBe(true);
      await c.waitFor(isHealth('watchRestarted', 'pods', /410 Gone/), 'a 410 restart report', 5000, from);
      await c.waitFor((e) => e.type === 'synced' && e.resource === 'pods', 'synced after the relist', 5000, from);
      expect(c.logs('info').some((m) => /pods: resource version too old \(410 Gone\), relisting/.test(m))).toBe(true);
      if (goneMode === 'event') {
        expect(server.requests.some((r) => r.watch && r.status === 410)).toBe(true);
      }

      // And the watch goes on from the new list.
      server.add('pods', pod('web-8'));
      await c.waitFor(isObject('upsert', 'pods', 'web-8'), 'an event after the relist', 5000, from);
      // web-1's deletion is covered by the replace; it never arrives as an upsert.
      expect(c.events.slice(from).some(isObject('upsert', 'pods', 'web-1'))).toBe(false);
    },
  );

  test('HTTP 500 on the watch and on the list is reported via watchError and recovered from', async () => {
    seed(server);
    server.failNext(1, 500, 'pods'); // the first list of pods
    const c = await startSynced();
    expect(c.events).toContainEqual(
      expect.objectContaining({ type: 'watchError', resource: 'pods', message: 'list failed: HTTP 500 InternalError' }),
    );
    expect(c.events.filter(isReplace('pods'))).toHaveLength(1);
    const from = c.events.length;

    server.failNext(3, 500, 'services');
    server.dropWatches('reset', 'services');
    await c.waitFor(isHealth('watchError', 'services', /^watch failed: HTTP 500 InternalError$/), 'watchError 500', 5000, from);
    server.update('services', service('web', '10.0.0.50'));
    const upsert = await c.waitFor<ObjectEvent>(isObject('upsert', 'services', 'web'), 'an event after the 500s', 10_000, from);
    expect((upsert.object as any).status.loadBalancer.ingress[0].ip).toBe('10.0.0.50');
    const errors = c.events.slice(from).filter(isHealth('watchError', 'services', /500/));
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(c.logs('warn').some((m) => /^services: watch failed: HTTP 500 InternalError; retrying in \d+ms \(failure \d\)$/.test(m))).toBe(
      true,
    );
    expect(c.logs('info').some((m) => /^services: watch resumed after [34] failure\(s\)$/.test(m))).toBe(true);
  });

  test('the API server going away and coming back: the watch resumes and events from both periods arrive', async () => {
    seed(server);
    const c = await startSynced({ backoff: { initialMs: 50, maxMs: 300 } });
    const from = c.events.length;

    await server.stop();
    for (const r of INFORMED)
      await c.waitFor(isHealth('watchError', r, /connection refused \(ECONNREFUSED\)/), `ECONNREFUSED for ${r}`, 5000, from);
    await c.waitFor(isHealth('watchError', 'configmaps', /ECONNREFUSED/), 'ECONNREFUSED for the ConfigMap', 5000, from);
    server.add('pods', pod('while-away')); // the API server's storage moves on meanwhile
    await new Promise((r) => setTimeout(r, 600));
    await server.restart();

    await c.waitFor(isObject('upsert', 'pods', 'while-away'), 'the event from while the server was away', 10_000, from);
    server.add('pods', pod('after-return'));
    await c.waitFor(isObject('upsert', 'pods', 'after-return'), 'an event after the return', 5000, from);

    // Retries backed off (several failures per resource, delays growing to the cap), then stopped failing.
    const podFailures = c.logs('warn').filter((m) => m.startsWith('pods: watch failed'));
    expect(podFailures.length).toBeGreaterThanOrEqual(2);
    const delays = podFailures.map((m) => Number(/retrying in (\d+)ms/.exec(m)?.[1]));
    expect(Math.max(...delays)).toBeLessThanOrEqual(300);
    expect(c.events.slice(from).filter((e) => e.type === 'replace' && e.resource === 'pods')).toHaveLength(0); // resumed, no relist
  });

  test('a watch that goes silent past its timeout is presumed dead and restarted', async () => {
    server.honorWatchTimeout = false; // the server "forgets" to end watches: like a dead TCP path
    seed(server);
    const c = await startSynced({ watchTimeoutSeconds: 1, watchIdleGraceSeconds: 0.5 });
    const from = c.events.length;
    const restart = await c.waitFor<HealthEvent>(
      isHealth('watchRestarted', 'nodes', /delivered nothing/),
      'the watchdog restart',
      8000,
      from,
    );
    expect(restart.message).toMatch(/^watch delivered nothing for \d+(\.\d)?s \(connection presumed dead\)$/);
    server.add('nodes', node('node-c'));
    await c.waitFor(isObject('upsert', 'nodes', 'node-c'), 'an event after the watchdog restart', 5000, from);
    expect(c.events.filter((e) => e.type === 'watchError' && e.resource === 'nodes')).toEqual([]);
  });

  test('RBAC missing for a resource: reported with a hint, start() waits until it is granted', async () => {
    seed(server);
    server.forbid('pods');
    const c = launch();
    let started = false;
    const start = c.start().then(() => (started = true));
    start.catch(() => undefined); // if an expectation below fails, afterEach kills the child
    const err = await c.waitFor<HealthEvent>(isHealth('watchError', 'pods', /403/), 'the 403 report');
    expect(err.message).toBe(
      "list failed: HTTP 403 Forbidden (the exporter's identity needs list and watch on pods: see deploy/kubernetes/clusterrole.yaml)",
    );
    await c.waitFor(
      (e) => e.type === 'log' && e.level === 'error' && e.message.startsWith('pods: list failed: HTTP 403 Forbidden'),
      'the error log line',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(started).toBe(false);
    server.allow('pods');
    await start;
    expect(c.events.filter(isReplace('pods'))).toHaveLength(1);
  });

  test('the kube-proxy ConfigMap: 403 and 404 are a quiet "absent" (logged once), changes are replaced', async () => {
    seed(server);
    server.remove('configmaps', kubeProxyConfigMap('iptables'));
    server.forbid('configmaps');
    const c = await startSynced();
    expect((c.events.find(isReplace('configmaps')) as ReplaceEvent).objects).toEqual([]);
    await new Promise((r) => setTimeout(r, 700)); // a few more polls
    const absent = c.logs().filter((m) => m.startsWith('configmaps:'));
    expect(absent).toEqual(['configmaps: kube-system/kube-proxy is not readable (HTTP 403 Forbidden); treating it as absent']);
    expect(c.events.filter((e) => e.type === 'watchError')).toEqual([]);
    expect(c.events.filter(isReplace('configmaps'))).toHaveLength(1); // no churn while nothing changes

    server.allow('configmaps');
    await new Promise((r) => setTimeout(r, 500)); // now 404: still absent, logged once
    expect(c.logs('info').filter((m) => m.includes('kube-proxy is not present'))).toHaveLength(1);
    expect(c.events.filter(isReplace('configmaps'))).toHaveLength(1);

    server.add('configmaps', kubeProxyConfigMap('ipvs'));
    const appeared = await c.waitFor<ReplaceEvent>(
      (e) => isReplace('configmaps')(e) && (e as ReplaceEvent).objects.length === 1,
      'the ConfigMap',
    );
    expect((appeared.objects[0] as any).data['config.conf']).toContain('mode: ipvs');
    expect(appeared.objects[0]!.kind).toBe('ConfigMap');

    const n = c.events.length;
    server.update('configmaps', kubeProxyConfigMap('nftables'));
    const changed = await c.waitFor<ReplaceEvent>(isReplace('configmaps'), 'the changed ConfigMap', 5000, n);
    expect((changed.objects[0] as any).data['config.conf']).toContain('mode: nftables');

    server.failNext(1, 503, 'configmaps');
    await c.waitFor(
      isHealth('watchError', 'configmaps', /^get kube-system\/kube-proxy failed: HTTP 503 ServiceUnavailable$/),
      'a 503 report',
      5000,
      n,
    );
    const m = c.events.length;
    server.remove('configmaps', kubeProxyConfigMap('nftables'));
    const gone = await c.waitFor<ReplaceEvent>(isReplace('configmaps'), 'the ConfigMap gone', 5000, m);
    expect(gone.objects).toEqual([]);
  });

  test('stop() ends everything: the child exits by itself, also mid-list and while retries are pending', async () => {
    seed(server);
    // 1. A running, synced source.
    let c = await startSynced();
    const quiet = await c.stop();
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stopMs).toBeLessThan(1500);

    // 2. A list that never answers, and a resource whose list keeps failing (retry timer pending):
    //    start() rejects with a clear reason, and nothing stays behind.
    server.hangNext(1, 'pods');
    server.forbid('nodes');
    c = launch();
    const start = c.start();
    await c.waitFor(isHealth('watchError', 'nodes', /403/), 'the nodes failure');
    const stopped = await c.stop();
    expect(stopped.exitCode).toBe(0);
    await expect(start).rejects.toThrow(/stopped before (pods|nodes) were listed/);
    await c.kill();

    // 3. The server gone: watches failing and backing off.
    server.allow('nodes');
    c = await startSynced();
    await server.stop();
    await c.waitFor(isHealth('watchError', 'pods', /ECONNREFUSED/), 'ECONNREFUSED');
    const away = await c.stop();
    expect(away.exitCode).toBe(0);
    await server.restart();
  });

  test('a ConfigMap GET and a watch that never answer fail after the request timeout, reported, then recover', async () => {
    seed(server);
    const c = await startSynced({ requestTimeoutSeconds: 1 });
    const from = c.events.length;
    server.hangNext(1, 'configmaps');
    const cm = await c.waitFor<HealthEvent>(isHealth('watchError', 'configmaps', /timeout/), 'the ConfigMap GET timeout', 10_000, from);
    expect(cm.message).toBe('get kube-system/kube-proxy failed: no complete response within 1.0s (request timeout)');
    await c.waitFor(
      (e) => e.type === 'synced' && e.resource === 'configmaps' && e.at > cm.at,
      'the ConfigMap readable again',
      10_000,
      from,
    );

    server.hangNext(1, 'nodes', 'watch');
    server.dropWatches('clean', 'nodes');
    const w = await c.waitFor<HealthEvent>(isHealth('watchError', 'nodes', /timeout/), 'the watch header timeout', 10_000, from);
    expect(w.message).toBe('watch failed: no response headers within 1.0s (request timeout)');
    // Reopened without any change: reported current again, no relist.
    await c.waitFor((e) => e.type === 'synced' && e.resource === 'nodes' && e.at > w.at, 'nodes current again', 10_000, from);
    expect(c.events.slice(from).filter(isReplace('nodes'))).toHaveLength(0);
    server.add('nodes', node('node-z'));
    await c.waitFor(isObject('upsert', 'nodes', 'node-z'), 'an event after the recovery', 5000, from);
  });

  test('an exec credentials plugin that hangs is a failure within the request timeout, reported and retried', async () => {
    seed(server);
    const execConfig = join(dir, 'exec-kubeconfig');
    writeFileSync(
      execConfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "${server.url}", insecure-skip-tls-verify: true}}]`,
        'contexts: [{name: c, context: {cluster: c, user: u}}]',
        'current-context: c',
        'users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: sleep, args: ["30"], interactiveMode: Never}}}]',
        '',
      ].join('\n'),
    );
    const c = launch({ kubeconfig: execConfig, requestTimeoutSeconds: 1 });
    const start = c.start();
    start.catch(() => undefined);
    // Timed from the source's start in the child (booting the child is not part of it).
    const started = await c.waitFor((e) => e.type === 'log' && e.message.startsWith('watching '), 'the start', 20_000);
    const err = await c.waitFor<HealthEvent>(isHealth('watchError', 'nodes', /credentials/), 'the credentials timeout', 10_000);
    expect(err.at - started.at).toBeLessThan(3500);
    expect(err.message).toBe("list failed: the kubeconfig's credentials were not ready within 1.0s (exec plugin?)");
    await c.waitFor(isHealth('watchError', 'configmaps', /credentials were not ready/), 'the ConfigMap GET times out too', 5000);
    expect(server.requests).toHaveLength(0); // nothing was sent without credentials
    const stopped = await c.stop();
    expect(stopped.exitCode).toBe(0);
  });

  test('start() rejects with a clear message for a bad kubeconfig, and never echoes its contents', async () => {
    let c = launch({ kubeconfig: join(dir, 'missing') });
    await expect(c.start()).rejects.toThrow(`cannot load kubeconfig ${join(dir, 'missing')}: file not found`);
    await c.stop();

    c = launch({ context: 'prod' });
    await expect(c.start()).rejects.toThrow(`kubeconfig ${kubeconfig} has no context "prod" (contexts: loopscope-test)`);
    await c.stop();

    const broken = join(dir, 'broken');
    writeFileSync(broken, `users:\n- name: u\n  user:\n    token: ${TEST_TOKEN}\n  bad: [\n`);
    c = launch({ kubeconfig: broken });
    const err = await c.start().then(
      () => new Error('resolved'),
      (e: Error) => e,
    );
    expect(err.message).toMatch(/^cannot load kubeconfig .*broken: not valid YAML at line \d+/);
    expect(err.message).not.toContain(TEST_TOKEN);
    await c.stop();
  });
});

describe('error descriptions and backoff', () => {
  test('errors are reduced to status, reason or network code: no URLs, headers or tokens', () => {
    const apiException = Object.assign(
      new Error(`HTTP-Code: 403\nMessage: Unknown\nBody: {...}\nHeaders: {"authorization":"Bearer ${TEST_TOKEN}"}`),
      {
        code: 403,
        body: { kind: 'Status', reason: 'Forbidden', message: `pods is forbidden; token ${TEST_TOKEN}` },
      },
    );
    expect(describeError(apiException)).toBe('HTTP 403 Forbidden');
    const watchError = Object.assign(new Error('Gone'), { statusCode: 410 });
    expect(describeError(watchError)).toBe('HTTP 410 Gone');
    const fetchError = Object.assign(
      new Error(`request to https://10.0.0.1/api/v1/pods?token=${TEST_TOKEN} failed, reason: connect ECONNREFUSED`),
      {
        name: 'FetchError',
        type: 'system',
        code: 'ECONNREFUSED',
        errno: 'ECONNREFUSED',
      },
    );
    expect(describeError(fetchError)).toBe('connection refused (ECONNREFUSED)');
    expect(describeError(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }))).toBe(
      'TLS error (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    );
    expect(describeError(new Error(`exec plugin said ${TEST_TOKEN}`))).toBe(
      'unexpected Error before any HTTP response (credentials plugin, certificate files?)',
    );
    expect(describeError(new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false'))).toBe(
      'HTTP protocol is not allowed when skipTLSVerify is not set or false',
    );
    expect(describeError('a string')).toBe('unknown error');
  });

  test('backoff doubles from the initial delay up to the cap, with jitter in [base/2, base], and resets', () => {
    const seq = (random: number): number[] => {
      const b = new Backoff(1000, 30_000, 2, () => random);
      return Array.from({ length: 8 }, () => b.next());
    };
    expect(seq(1)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(seq(0)).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
    const b = new Backoff(1000, 30_000, 2, () => 1);
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(1000);
  });
});
