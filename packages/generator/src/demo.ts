/**
 * The bundled demo (`packages/demo/demo-cluster.json`, the `@loopscope/demo` package): a small Tencent TKE cluster in IPVS mode
 * whose layout is chosen by hand, so that what loopscope reports can be checked on paper. The JSON
 * file is this function's output (test/generator/demo.test.ts keeps the two equal; set
 * LOOPSCOPE_WRITE_DEMO=1 when running that test to rewrite the file after changing this code).
 * See packages/demo/README.md for what it contains and what loopscope should find.
 */
import { AddressBlock, intToIp, ipToInt } from './ip';
import { kubeList } from './lists';
import { ClusterFacts, ObjectFactory, PodState, PodTemplateRuntime, WorkloadPlan } from './objects';
import { ANNOTATIONS, PROFILES, TKE_FIXED_BUILD } from './providers';
import { SeededRandom } from './random';
import type {
  GeneratedEnvVar,
  GeneratedKubeList,
  GeneratedKubeObject,
  GeneratedPod,
  GeneratedService,
  GeneratedServicePort,
} from './types';
import { COREFILE, RESOURCE_PROFILES, dnsServicePlan, appPlan, dnsPlan, kubeProxyPlan, systemDaemonSetPlan } from './workloads';

const MINUTE = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 2, 18, 9, 30, 0);
const CLUSTER_CREATED = Date.UTC(2024, 2, 11, 2, 10, 0);
const CLUSTER_CIDR = '172.16.0.0/16';
const VPC_CIDR = '10.0.0.0/16';
const SERVICE_BASE = '192.168.0.0';

/** The demo's nodes: TKE names nodes by their VPC address. */
export const DEMO_NODES = [
  { name: '10.0.1.11', zone: '800002', podCIDR: '172.16.0.0/26' },
  { name: '10.0.1.12', zone: '800002', podCIDR: '172.16.0.64/26' },
  { name: '10.0.1.13', zone: '800002', podCIDR: '172.16.0.128/26' },
  { name: '10.0.2.21', zone: '800003', podCIDR: '172.16.0.192/26' },
  { name: '10.0.2.22', zone: '800003', podCIDR: '172.16.1.0/26' },
  { name: '10.0.2.23', zone: '800003', podCIDR: '172.16.1.64/26' },
] as const;

type NodeRef = 1 | 2 | 3 | 4 | 5 | 6;

interface DemoNode {
  name: string;
  ip: string;
  zone: string;
  block: AddressBlock;
  created: number;
}

/** The demo cluster as one List, as `kubectl get … -o json` prints it. */
export function buildDemoCluster(): GeneratedKubeList {
  const rng = new SeededRandom(20240311);
  const profile = PROFILES.tke;
  const facts: ClusterFacts = {
    profile,
    minor: 20,
    now: NOW,
    clusterName: 'cls-demo',
    clusterCidr: CLUSTER_CIDR,
    nodeCount: DEMO_NODES.length,
  };
  const f = new ObjectFactory(rng, facts);
  const out = {
    nodes: [] as GeneratedKubeObject[],
    pods: [] as GeneratedPod[],
    services: [] as GeneratedKubeObject[],
    slices: [] as GeneratedKubeObject[],
    rs: [] as GeneratedKubeObject[],
    jobs: [] as GeneratedKubeObject[],
    ds: [] as GeneratedKubeObject[],
    cm: [] as GeneratedKubeObject[],
  };

  // ---------------------------------------------------------------- nodes
  const nodes: DemoNode[] = DEMO_NODES.map((n, i) => {
    const created = CLUSTER_CREATED + (i < 3 ? 20 * MINUTE : 41 * DAY + 35 * MINUTE) + i * 97_000;
    const identity = profile.nodeIdentity(rng, i, n.name, n.zone, 'cls-demo');
    const node = f.node({
      name: n.name,
      ip: n.name,
      zone: n.zone,
      providerID: identity.providerID,
      labels: { ...identity.labels, 'tke.cloud.tencent.com/nodepool-id': i < 3 ? 'np-8k2dqx4v' : 'np-3jr7w6mc' },
      podCIDR: n.podCIDR,
      version: TKE_FIXED_BUILD,
      created,
      ready: true,
    });
    f.registerNodeUid(n.name, node.metadata.uid);
    out.nodes.push(node);
    const [base] = n.podCIDR.split('/');
    return { name: n.name, ip: n.name, zone: n.zone, block: new AddressBlock(ipToInt(base!), 64).skip(2), created };
  });
  const node = (ref: NodeRef): DemoNode => nodes[ref - 1]!;

  const podAt = (
    rt: PodTemplateRuntime,
    ref: NodeRef | undefined,
    state: PodState,
    created: number,
    name?: string,
    restarts = 0,
  ): GeneratedPod => {
    const n = ref === undefined ? undefined : node(ref);
    const hostNetwork = rt.plan.hostNetwork === true;
    const pod = f.pod(rt, {
      name,
      node: n ? { name: n.name, ip: n.ip } : undefined,
      podIP: n && !hostNetwork && state !== 'pending' ? intToIp(n.block.next()) : undefined,
      state,
      created: n ? Math.max(created, n.created + 4 * MINUTE) : created,
      restarts,
    });
    out.pods.push(pod);
    return pod;
  };

  // ---------------------------------------------------------------- kube-system
  const sys = CLUSTER_CREATED + 3 * MINUTE;
  const kp = f.template(kubeProxyPlan(profile, TKE_FIXED_BUILD, 'ipvs', CLUSTER_CIDR, sys, rng.uuid()));
  // Every node was moved to the fixed build in the same maintenance window (kube-proxy pods recreated then).
  const upgraded = Date.UTC(2025, 0, 14, 16, 5, 0);
  for (const ref of [1, 2, 3, 4, 5, 6] as const) podAt(kp, ref, 'ready', upgraded + ref * 41_000);
  out.ds.push(f.daemonSet(kp, 6, 6));
  for (const agent of profile.cniDaemonSets) {
    const rt = f.template(systemDaemonSetPlan(agent, sys, rng.uuid()));
    for (const ref of [1, 2, 3, 4, 5, 6] as const) podAt(rt, ref, 'ready', sys);
    out.ds.push(f.daemonSet(rt, 6, 6));
  }
  const dns = f.template(dnsPlan(profile, sys));
  const dnsPods = [podAt(dns, 2, 'ready', sys), podAt(dns, 5, 'ready', sys + 45 * DAY)];
  out.rs.push(f.replicaSet(dns, 2, 2, rng.uuid()));
  out.cm.push(f.configMap('kube-system', 'coredns', { Corefile: COREFILE }, sys, { 'addonmanager.kubernetes.io/mode': 'EnsureExists' }));
  out.cm.push(
    f.configMap(
      'kube-system',
      'ip-masq-agent-config',
      { config: JSON.stringify({ NonMasqueradeCIDRs: [CLUSTER_CIDR, VPC_CIDR], MasqLinkLocal: true, ResyncInterval: '1m0s' }) },
      sys,
    ),
  );

  // ---------------------------------------------------------------- applications
  const registry = profile.registry;
  const env = (name: string, extra: GeneratedEnvVar[] = []): GeneratedEnvVar[] => [
    { name: 'APP_NAME', value: name },
    { name: 'APP_ENV', value: 'production' },
    { name: 'LOG_LEVEL', value: 'info' },
    { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
    ...extra,
  ];
  const deployment = (
    ns: string,
    name: string,
    tag: string,
    created: number,
    placement: Array<NodeRef | 'pending' | ['crashloop', NodeRef]>,
    opts: Partial<Parameters<typeof appPlan>[0]> = {},
  ): GeneratedPod[] => {
    const plan = appPlan({
      namespace: ns,
      name,
      kind: 'Deployment',
      image: `${registry}/${ns}/${name}:${tag}`,
      ports: [{ name: 'http', containerPort: 8080 }],
      env: env(name),
      resources: RESOURCE_PROFILES[1],
      created,
      team: ns,
      version: tag,
      podAnnotations: { 'prometheus.io/path': '/metrics', 'prometheus.io/port': '9102', 'prometheus.io/scrape': 'true' },
      ...opts,
    });
    const rt = f.template(plan);
    const pods = placement.map((p, i) => {
      const at = created + (i + 1) * 17_000;
      if (p === 'pending') return podAt(rt, undefined, 'pending', NOW - 38 * MINUTE);
      if (Array.isArray(p)) return podAt(rt, p[1], 'crashloop', at, undefined, 0);
      return podAt(rt, p, 'ready', at, undefined, 0);
    });
    const ready = pods.filter((p) => p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    out.rs.push(f.replicaSet(rt, placement.length, ready, rng.uuid(), 3));
    return pods;
  };
  const days = (n: number): number => NOW - n * DAY;

  const lb = (ip: string) => ({ ingress: [{ ip }] });
  const internal = (subnet: string, lbId: string | undefined, extra: Record<string, string> = {}): Record<string, string> => {
    const a: Record<string, string> = { [ANNOTATIONS.tkeInternalSubnet]: subnet, ...extra };
    if (lbId) a[ANNOTATIONS.tkeLoadBalancerId] = lbId;
    return a;
  };
  const service = (
    ns: string,
    name: string,
    clusterIP: string,
    type: 'ClusterIP' | 'LoadBalancer',
    ports: GeneratedServicePort[],
    created: number,
    backing: GeneratedPod[],
    opts: {
      annotations?: Record<string, string>;
      etp?: 'Local' | 'Cluster';
      hc?: number;
      ingress?: { ingress: Array<{ ip: string }> };
    } = {},
  ): GeneratedService => {
    const svc = f.service({
      namespace: ns,
      name,
      type,
      clusterIP,
      selector: { app: name },
      ports,
      externalTrafficPolicy: type === 'LoadBalancer' ? (opts.etp ?? 'Cluster') : undefined,
      healthCheckNodePort: opts.hc,
      labels: { app: name },
      annotations: opts.annotations,
      ingress: opts.ingress?.ingress,
      created,
    });
    out.services.push(svc);
    out.slices.push(
      ...f.endpointSlices(
        svc,
        backing.map((pod) => ({ pod, zone: nodes.find((n) => n.name === pod.spec.nodeName)?.zone })),
        created,
      ),
    );
    return svc;
  };
  const http = (port: number, nodePort?: number): GeneratedServicePort => {
    const p: GeneratedServicePort = { name: 'http', port, protocol: 'TCP', targetPort: 8080 };
    if (nodePort !== undefined) p.nodePort = nodePort;
    return p;
  };

  // payments/payments-api: the seed's case. Internal CLB, Local, endpoints on nodes 1 and 2 only.
  const paymentsCreated = days(132);
  const payments = deployment('payments', 'payments-api', '2.14.3', paymentsCreated, [1, 1, 2], {
    sidecar: true,
    serviceAccountName: 'payments-api',
  });
  service('payments', 'payments-api', '192.168.14.203', 'LoadBalancer', [http(8080, 31380)], paymentsCreated, payments, {
    annotations: internal('subnet-6xk2l3vq', 'lb-9mq4c1ze'),
    etp: 'Local',
    hc: 32145,
    ingress: lb('10.0.3.15'),
  });

  // orders/orders-api: the same shape with Cluster (safe on TKE: SNAT to the node IP, the CLB skips the client's node).
  const ordersCreated = days(97);
  const orders = deployment('orders', 'orders-api', '1.31.0', ordersCreated, [2, 3, 4, ['crashloop', 5]]);
  service('orders', 'orders-api', '192.168.9.87', 'LoadBalancer', [http(8080, 30876)], ordersCreated, orders, {
    annotations: internal('subnet-6xk2l3vq', 'lb-2hv7k0dw'),
    etp: 'Cluster',
    ingress: lb('10.0.3.16'),
  });

  // inventory/inventory-api: Local, but prevent-loopback on the fixed build: kube-proxy binds the VIP.
  const inventoryCreated = days(64);
  const inventory = deployment('inventory', 'inventory-api', '0.9.12', inventoryCreated, [3, 5]);
  service('inventory', 'inventory-api', '192.168.11.42', 'LoadBalancer', [http(80, 31722)], inventoryCreated, inventory, {
    annotations: internal('subnet-6xk2l3vq', 'lb-5tn8e3xa', { [ANNOTATIONS.tkePreventLoopback]: 'true' }),
    etp: 'Local',
    hc: 30391,
    ingress: lb('10.0.3.17'),
  });

  // search/search-api: direct-to-pod internal CLB (backends are the pod IPs), Cluster policy.
  const searchCreated = days(41);
  const search = deployment('search', 'search-api', '3.2.0', searchCreated, [4, 4, 6], { resources: RESOURCE_PROFILES[2] });
  service('search', 'search-api', '192.168.6.150', 'LoadBalancer', [http(80, 32210)], searchCreated, search, {
    annotations: internal('subnet-6xk2l3vq', 'lb-k1w9f6pj', { [ANNOTATIONS.tkeDirectAccess]: 'true' }),
    etp: 'Cluster',
    ingress: lb('10.0.3.18'),
  });

  // web/storefront: public CLB (out of scope).
  const webCreated = days(210);
  const storefront = deployment('web', 'storefront', '5.8.1', webCreated, [1, 5], {
    ports: [
      { name: 'http', containerPort: 8080 },
      { name: 'https', containerPort: 8443 },
    ],
  });
  service(
    'web',
    'storefront',
    '192.168.3.21',
    'LoadBalancer',
    [http(80, 30080), { name: 'https', nodePort: 30443, port: 443, protocol: 'TCP', targetPort: 8443 }],
    webCreated,
    storefront,
    { annotations: { [ANNOTATIONS.tkeLoadBalancerId]: 'lb-7cz0v2qs' }, etp: 'Cluster', ingress: lb('119.29.184.37') },
  );

  // catalog/catalog: plain ClusterIP.
  const catalogCreated = days(250);
  const catalog = deployment('catalog', 'catalog', '4.0.7', catalogCreated, [2, 6]);
  service('catalog', 'catalog', '192.168.7.66', 'ClusterIP', [http(80)], catalogCreated, catalog);

  // reports/reports-api: internal LB requested, no ingress yet.
  const reportsCreated = NOW - 25 * MINUTE;
  const reports = deployment('reports', 'reports-api', '0.3.0', reportsCreated, [3, 4]);
  service('reports', 'reports-api', '192.168.12.118', 'LoadBalancer', [http(8080, 30912)], reportsCreated, reports, {
    annotations: internal('subnet-6xk2l3vq', undefined),
    etp: 'Local',
    hc: 31004,
  });

  // Clients.
  const clientsCreated = days(120);
  deployment('checkout', 'checkout-api', '7.2.0', clientsCreated, [1, 3, 6], {
    env: env('checkout-api', [
      // Upstreams called through their internal CLB addresses (how the timeouts start).
      { name: 'PAYMENTS_API_URL', value: 'http://10.0.3.15:8080' },
      { name: 'INVENTORY_API_URL', value: 'http://10.0.3.17' },
      { name: 'SEARCH_API_URL', value: 'http://10.0.3.18' },
      { name: 'CATALOG_URL', value: 'http://catalog.catalog.svc.cluster.local' },
    ]),
    sidecar: true,
  });
  deployment('orders', 'order-worker', '1.31.0', ordersCreated, [5, 6], {
    ports: [{ name: 'metrics', containerPort: 9102 }],
    env: env('order-worker', [
      { name: 'PAYMENTS_API_URL', value: 'http://10.0.3.15:8080' },
      { name: 'ORDERS_API_URL', value: 'http://10.0.3.16:8080' },
    ]),
  });
  deployment('search', 'search-indexer', '3.2.0', searchCreated, [3], {
    ports: [{ name: 'metrics', containerPort: 9102 }],
    env: env('search-indexer', [{ name: 'SEARCH_API_URL', value: 'http://10.0.3.18' }]),
  });
  deployment('analytics', 'etl-runner', '0.12.4', NOW - 40 * MINUTE, ['pending'], {
    ports: [],
    resources: { limits: { cpu: '32', memory: '128Gi' }, requests: { cpu: '32', memory: '128Gi' } },
  });
  deployment('monitoring', 'blackbox-exporter', 'v0.25.0', days(300), [2], {
    image: 'ccr.ccs.tencentyun.com/library/blackbox-exporter:v0.25.0',
    ports: [{ name: 'http', containerPort: 9115, hostPort: 9115 }],
    hostNetwork: true,
    env: [],
  });

  // payments/ledger: a StatefulSet.
  const ledgerPlan = appPlan({
    namespace: 'payments',
    name: 'ledger',
    kind: 'StatefulSet',
    image: `${registry}/payments/ledger:2.14.3`,
    ports: [{ name: 'http', containerPort: 8080 }],
    env: env('ledger', [{ name: 'PAYMENTS_API_URL', value: 'http://payments-api.payments.svc.cluster.local:8080' }]),
    resources: RESOURCE_PROFILES[3],
    created: paymentsCreated,
    team: 'payments',
    dataVolume: true,
  });
  const ledger = f.template(ledgerPlan);
  podAt(ledger, 1, 'ready', paymentsCreated + MINUTE, 'ledger-0');
  podAt(ledger, 5, 'ready', paymentsCreated + 2 * MINUTE, 'ledger-1');

  // logging/fluent-bit: a DaemonSet on every node, on the pod network.
  const fbPlan = appPlan({
    namespace: 'logging',
    name: 'fluent-bit',
    kind: 'DaemonSet',
    image: 'cr.fluentbit.io/fluent/fluent-bit:2.2.2',
    ports: [{ name: 'http', containerPort: 2020 }],
    env: [],
    resources: RESOURCE_PROFILES[0],
    created: days(300),
  });
  fbPlan.tolerations = [{ operator: 'Exists' }];
  const fb = f.template(fbPlan);
  for (const ref of [1, 2, 3, 4, 5, 6] as const) podAt(fb, ref, 'ready', days(300));
  out.ds.push(f.daemonSet(fb, 6, 6));

  // CronJob pods: one running (payments/settlement-sync, every 15 min), one completed (reports/nightly-report).
  const cronJob = (
    ns: string,
    cron: string,
    scheduled: number,
    ref: NodeRef,
    state: 'ready' | 'succeeded',
    extraEnv: GeneratedEnvVar[],
  ): void => {
    const jobName = `${cron}-${Math.floor(scheduled / MINUTE)}`;
    const plan: WorkloadPlan = appPlan({
      namespace: ns,
      name: jobName,
      kind: 'Job',
      image: `${registry}/${ns}/${cron}:1.4.0`,
      ports: [],
      env: env(cron, extraEnv),
      containerName: cron,
      configVolume: false,
      resources: RESOURCE_PROFILES[0],
      restartPolicy: 'OnFailure',
      created: scheduled,
      parent: { apiVersion: 'batch/v1beta1', kind: 'CronJob', name: cron, uid: rng.uuid() },
    });
    plan.selector = {};
    plan.labels = { ...plan.labels, app: cron };
    const rt = f.template(plan);
    const pod = podAt(rt, ref, state, scheduled + 1000);
    const finished = pod.status.containerStatuses?.[0]?.state.terminated?.finishedAt;
    out.jobs.push(
      f.job(rt, state === 'ready' ? 'running' : 'succeeded', scheduled + 1000, finished ? Date.parse(finished) + 1000 : undefined),
    );
  };
  cronJob('payments', 'settlement-sync', Math.floor((NOW - 3 * MINUTE) / (15 * MINUTE)) * 15 * MINUTE, 1, 'ready', [
    { name: 'PAYMENTS_API_URL', value: 'http://10.0.3.15:8080' },
  ]);
  cronJob('reports', 'nightly-report', Date.UTC(2025, 2, 17, 18, 0, 0), 4, 'succeeded', [
    { name: 'CATALOG_URL', value: 'http://catalog.catalog.svc.cluster.local' },
  ]);

  // default/debug-shell: a bare pod someone left running.
  const debug = f.template(
    appPlan({
      namespace: 'default',
      name: 'debug-shell',
      kind: 'Pod',
      image: 'nicolaka/netshoot:v0.13',
      ports: [],
      env: [],
      resources: undefined,
      created: NOW - 5 * 60 * MINUTE,
      command: ['sleep', 'infinity'],
    }),
  );
  podAt(debug, 1, 'ready', NOW - 5 * 60 * MINUTE, 'debug-shell');

  // ---------------------------------------------------------------- built-in Services
  const kubernetes = f.service({
    namespace: 'default',
    name: 'kubernetes',
    type: 'ClusterIP',
    clusterIP: intToIp(ipToInt(SERVICE_BASE) + 1),
    ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 60002 }],
    labels: { component: 'apiserver', provider: 'kubernetes' },
    created: CLUSTER_CREATED,
  });
  out.services.push(kubernetes);
  out.slices.push(f.apiserverSlice(kubernetes, ['169.254.128.7'], 60002, CLUSTER_CREATED));
  const kubeDns = f.service(dnsServicePlan(intToIp(ipToInt(SERVICE_BASE) + 10), sys));
  out.services.push(kubeDns);
  out.slices.push(
    ...f.endpointSlices(
      kubeDns,
      dnsPods.map((pod) => ({ pod, zone: nodes.find((n) => n.name === pod.spec.nodeName)?.zone })),
      sys,
    ),
  );

  const byNsName = (a: GeneratedKubeObject, b: GeneratedKubeObject): number =>
    cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name, b.metadata.name);
  out.pods.sort(byNsName);
  out.services.sort(byNsName);
  out.slices.sort(byNsName);
  out.rs.sort(byNsName);
  out.jobs.sort(byNsName);
  out.ds.sort(byNsName);
  out.cm.sort(byNsName);
  return kubeList([...out.nodes, ...out.pods, ...out.services, ...out.slices, ...out.rs, ...out.jobs, ...out.ds, ...out.cm]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The demo as the JSON file holds it: keys sorted as kubectl prints them, four-space indent. */
export function demoClusterJson(): string {
  return JSON.stringify(sortKeysDeep(buildDemoCluster()), null, 4) + '\n';
}

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeysDeep((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}
