/** Known callers (docs/model.md#callers): declared in container env/args/command, observed in conntrack. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  analyzeCluster,
  buildReport,
  explain,
  LiveCluster,
  loadCluster,
  loadNodeDumps,
  renderExplanationText,
  type KubeObject,
} from '../../src';
import { addressesIn, declaredAddresses, slimContainersForCallers } from '../../src/kube/containerAddresses';
import { slimObject } from '../../src/kube/slim';

const DEMO = join(__dirname, '..', '..', '..', 'demo');
const NODE = '10.0.1.11';
const demoText = () => readFileSync(join(DEMO, 'demo-cluster.json'), 'utf8');
const cluster = () => loadCluster([{ name: 'demo-cluster.json', text: demoText() }]);
const file = (name: string) => ({ text: readFileSync(join(DEMO, 'node-dumps', NODE, name), 'utf8'), file: `${NODE}/${name}` });
const dumps = () =>
  new Map([
    [
      NODE,
      loadNodeDumps({
        iptablesSave: file('iptables-save.txt'),
        ipset: file('ipset.txt'),
        addr: file('addr.txt'),
        conntrack: file('conntrack.txt'),
        nodeAddresses: [NODE],
      }),
    ],
  ]);

describe('addresses named in a container', () => {
  it('finds IPs with and without ports, bracketed IPv6, and LB hostnames', () => {
    expect(addressesIn('http://10.0.3.15:8080/pay')).toEqual([{ host: '10.0.3.15', port: 8080 }]);
    expect(addressesIn('--upstream=10.0.3.17')).toEqual([{ host: '10.0.3.17' }]);
    expect(addressesIn('https://[fd00::15]:443')).toEqual([{ host: 'fd00::15', port: 443 }]);
    expect(addressesIn('fd00::15')).toEqual([{ host: 'fd00::15' }]);
    expect(addressesIn('internal-pay-1234.us-east-1.elb.amazonaws.com:80')).toEqual([
      { host: 'internal-pay-1234.us-east-1.elb.amazonaws.com', port: 80 },
    ]);
  });

  it('leaves out cluster-local names, versions, file names and out-of-range octets', () => {
    expect(addressesIn('http://payments-api.payments.svc.cluster.local:8080')).toEqual([]);
    expect(addressesIn('catalog.catalog.svc')).toEqual([]);
    expect(addressesIn('v1.2.3')).toEqual([]);
    expect(addressesIn('/etc/app/config.yaml')).toEqual([]);
    expect(addressesIn('10.0.3.300')).toEqual([]);
    expect(addressesIn('1.2.3.4.5')).toEqual([]);
  });

  it('says where each address was found, and shares one list between equal templates', () => {
    const containers = [
      {
        name: 'app',
        env: [
          { name: 'PAYMENTS_API_URL', value: 'http://10.0.3.15:8080' },
          { name: 'LOG_LEVEL', value: 'info' },
        ],
        args: ['--inventory', '10.0.3.17'],
      },
    ];
    const a = declaredAddresses(containers);
    expect(a).toEqual([
      { host: '10.0.3.15', port: 8080, where: 'env PAYMENTS_API_URL' },
      { host: '10.0.3.17', where: 'args of container app' },
    ]);
    expect(declaredAddresses(JSON.parse(JSON.stringify(containers)))).toBe(a);
    expect(declaredAddresses([{ name: 'app', env: [{ name: 'X', value: 'plain' }] }])).toBeUndefined();
  });

  it('the slim containers keep only the values that name an address, and give the same addresses', () => {
    const containers = [
      {
        name: 'app',
        image: 'x:1',
        env: [
          { name: 'A', value: 'http://10.0.3.15:8080' },
          { name: 'B', value: 'x'.repeat(500) },
          { name: 'C', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
        args: ['--port', '8080'],
      },
      { name: 'sidecar', args: ['--metrics'] },
    ];
    const slim = slimContainersForCallers(containers);
    expect(slim).toEqual([{ name: 'app', env: [{ name: 'A', value: 'http://10.0.3.15:8080' }] }]);
    expect(declaredAddresses(slim)).toEqual(declaredAddresses(containers));
    expect(JSON.stringify(slim).length).toBeLessThan(100);
  });

  it('bounds what one pod can make it keep', () => {
    const env = Array.from({ length: 100 }, (_, i) => ({ name: `U${i}`, value: `http://10.0.${i}.1:80` }));
    expect(declaredAddresses([{ name: 'app', env }])).toHaveLength(8);
    expect(addressesIn(`${'1.'.repeat(100_000)}1`)).toEqual([]);
  });
});

describe('known callers in the report', () => {
  it('declared: checkout-api on 10.0.1.11 calls 10.0.3.15:8080 (env PAYMENTS_API_URL) and half its connections loop', () => {
    const payments = buildReport(analyzeCluster(cluster())).services.find((s) => s.name === 'payments-api')!;
    const checkout = payments.callers.find((c) => c.node === NODE && c.workload?.name === 'checkout-api')!;
    expect(checkout).toMatchObject({
      namespace: 'checkout',
      source: 'declared',
      where: 'env PAYMENTS_API_URL',
      ingress: { ip: '10.0.3.15', port: 8080 },
      probability: 0.5,
      workload: { kind: 'Deployment', name: 'checkout-api' },
    });
    // ledger names the Service by its cluster DNS name: not a caller through the LB.
    expect(payments.callers.map((c) => c.workload?.name)).not.toContain('ledger');
    // Callers: 2 at p = ½ (on 10.0.1.11), 4 at 0 → mean 1/6.
    expect(payments.callers.filter((c) => c.source === 'declared')).toHaveLength(6);
    expect(payments.callersProbability).toBeCloseTo(1 / 6, 6);
  });

  it('a Service nobody names has no callers and a null figure', () => {
    const report = buildReport(analyzeCluster(cluster()));
    const storefront = report.services.find((s) => s.name === 'storefront')!;
    expect(storefront.callers).toEqual([]);
    expect(storefront.callersProbability).toBeNull();
  });

  it('without EndpointSlices the callers are still named, but their figure is unknown, not 0% (never safe on incomplete input)', () => {
    const doc = JSON.parse(demoText()) as { items: KubeObject[] };
    const text = JSON.stringify({ ...doc, items: doc.items.filter((o) => o.kind !== 'EndpointSlice') });
    const analysis = analyzeCluster(loadCluster([{ name: 'no-slices.json', text }]));
    const payments = buildReport(analysis).services.find((s) => s.name === 'payments-api')!;
    expect(payments.verdict).toBe('unknown');
    expect(payments.callers.length).toBeGreaterThan(0);
    expect(payments.callersProbability).toBeNull();
    const result = explain(analysis, 'payments/payments-api');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.explanation.services[0]!.callersProbability).toBeNull();
    const text_ = renderExplanationText(result.explanation);
    expect(text_).toContain('env PAYMENTS_API_URL');
    expect(text_).toMatch(/Known callers \(6; how many of their connections loop is unknown/);
    expect(text_).not.toMatch(/0% of (its|their) connections loop/);
  });

  it('observed: a conntrack entry from a pod to the ingress makes it a caller, with the node and line', () => {
    const payments = buildReport(analyzeCluster(cluster(), { nodeDumps: dumps() })).services.find((s) => s.name === 'payments-api')!;
    const observed = payments.callers.filter((c) => c.source === 'observed');
    expect(observed.map((c) => c.workload?.name).sort()).toEqual(['checkout-api', 'storefront']);
    expect(observed[0]!.where).toMatch(/^conntrack -L on node 10\.0\.1\.11, line \d+ \[UNREPLIED\]$/);
    expect(observed.every((c) => c.probability === 0.5)).toBe(true);
    // A replied connection is a caller too (orders-api has no failure, but checkout-api calls it).
    const orders = buildReport(analyzeCluster(cluster(), { nodeDumps: dumps() })).services.find((s) => s.name === 'orders-api')!;
    expect(orders.callers.some((c) => c.source === 'observed' && c.workload?.name === 'checkout-api')).toBe(true);
  });

  it('the live model, fed slim objects, gives the same callers as a full analysis', () => {
    const items = (JSON.parse(demoText()) as { items: KubeObject[] }).items;
    const live = new LiveCluster();
    const byKind = new Map<string, KubeObject[]>();
    for (const o of items) byKind.set(o.kind!, [...(byKind.get(o.kind!) ?? []), o]);
    for (const [kind, list] of byKind) live.replace(kind, list);
    live.recompute();
    const callers = (r: ReturnType<typeof buildReport>) =>
      r.services.map((s) => ({ name: s.name, callers: s.callers, p: s.callersProbability }));
    const full = callers(buildReport(analyzeCluster(cluster()), { now: new Date(0) }));
    expect(callers(buildReport(live.analysis!, { now: new Date(0) }))).toEqual(full);
    expect(full.some((s) => s.callers.length > 0)).toBe(true);
    // A pod update that drops the env drops the caller, incrementally.
    const pod = items.find((o) => o.kind === 'Pod' && o.metadata?.name?.startsWith('settlement-sync'))! as KubeObject & {
      spec: { containers: Array<{ env?: unknown[] }> };
    };
    const edited = JSON.parse(JSON.stringify(pod)) as typeof pod;
    for (const c of edited.spec.containers) c.env = [];
    expect(live.upsert(edited)).toBe(true);
    live.recompute();
    const after = buildReport(live.analysis!).services.find((s) => s.name === 'payments-api')!;
    expect(after.callers.map((c) => c.pod)).not.toContain(pod.metadata!.name);
  });

  it('a slim pod keeps well under 1 KiB for its callers', () => {
    const pod = (JSON.parse(demoText()) as { items: KubeObject[] }).items.find(
      (o) => o.kind === 'Pod' && o.metadata?.name?.startsWith('checkout-api'),
    )!;
    const slim = slimObject(pod)!;
    expect(JSON.stringify((slim as { spec: { containers?: unknown } }).spec.containers)).toContain('PAYMENTS_API_URL');
    expect(JSON.stringify(slim).length).toBeLessThan(1024);
    expect(JSON.stringify(slim)).not.toContain('CATALOG_URL');
  });
});

describe('matching declared addresses to ingresses', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const b = require('../model/builders') as typeof import('../model/builders');
  const withEnv = (objects: ReturnType<typeof b.workedExample>, value: string) => {
    for (const o of objects) {
      const spec = o.spec as { nodeName?: string; containers?: Array<Record<string, unknown>> } | undefined;
      if (o.kind === 'Pod' && o.metadata!.namespace === 'shop')
        spec!.containers = [{ name: 'app', image: 'app:1', env: [{ name: 'UPSTREAM', value }] }];
    }
    return objects;
  };
  const callersOf = (objects: ReturnType<typeof b.workedExample>) =>
    buildReport(analyzeCluster(loadCluster([{ name: 'x.json', text: JSON.stringify(b.list(objects)) }]))).services[0]!;

  it('a port the Service does not serve is not a call to it; no port means any of its ports', () => {
    expect(callersOf(withEnv(b.workedExample('Local'), 'http://10.0.0.100:9999')).callers).toEqual([]);
    const any = callersOf(withEnv(b.workedExample('Local'), '10.0.0.100'));
    expect(any.callers).toHaveLength(6);
    expect(any.callers[0]!.ingress).toEqual({ ip: '10.0.0.100' });
    // 4 callers at ½ (3 on n1, 1 on n2), 2 at 0 on n3.
    expect(any.callersProbability).toBeCloseTo(4 / 6 / 2, 6);
  });

  it('an LB hostname matches, case-insensitively', () => {
    const objects = withEnv(b.workedExample('Local'), 'https://Internal-Pay-1.elb.us-east-1.amazonaws.com:8080/v1');
    const svc = objects.find((o) => o.kind === 'Service')! as { status: { loadBalancer: { ingress: unknown[] } } };
    svc.status.loadBalancer.ingress = [{ hostname: 'internal-pay-1.elb.us-east-1.amazonaws.com' }];
    const s = callersOf(objects);
    expect(s.callers.map((c) => c.ingress)).toContainEqual({ hostname: 'internal-pay-1.elb.us-east-1.amazonaws.com', port: 8080 });
    expect(s.callers).toHaveLength(6);
  });
});

describe('observed callers from a node agent', () => {
  it('its connection counters make the client pod an observed caller; bad entries are dropped', () => {
    const evidence = new Map([
      [
        NODE,
        loadNodeDumps({
          connections: [
            { clientIp: '172.16.0.5', ingressIp: '10.0.3.15', ingressPort: 8080, protocol: 'TCP', replied: 2, unreplied: 0 },
            { clientIp: 'not-an-ip', ingressIp: '10.0.3.15', ingressPort: 8080, protocol: 'tcp', replied: 1, unreplied: 1 },
            { clientIp: '172.16.0.5', ingressIp: '10.0.3.15', ingressPort: 70000, protocol: 'tcp', replied: 1, unreplied: 1 },
          ] as never,
        }),
      ],
    ]);
    const payments = buildReport(analyzeCluster(cluster(), { nodeDumps: evidence })).services.find((s) => s.name === 'payments-api')!;
    const observed = payments.callers.filter((c) => c.source === 'observed');
    expect(observed).toEqual([
      expect.objectContaining({
        podIP: '172.16.0.5',
        node: NODE,
        where: 'node agent conntrack events on node 10.0.1.11',
        probability: 0.5,
        ingress: { ip: '10.0.3.15', port: 8080 },
      }),
    ]);
  });
});
