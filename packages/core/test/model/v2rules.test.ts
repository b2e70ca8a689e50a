/**
 * One describe per rule of the v2 model page (docs/model.md–docs/model.md, docs/model.md steps 3–4, docs/model.md definitions), on the
 * page's worked example (exposure 0.375, worst-client 0.5) and its corners.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  analyzeCluster,
  buildReport,
  clusterFromObjects,
  loadCluster,
  tkeBuildStatus,
  parseKubeVersion,
  type ProfileOverrides,
} from '../../src';
import { worstClientProbability } from '../../src/analysis/worstClient';
import { deploymentPods, endpointSlice, kubeProxyPod, lbService, list, node, pod, workedExample, type Obj } from './builders';

function analyse(objects: Obj[], overrides: ProfileOverrides = {}) {
  const analysis = analyzeCluster(clusterFromObjects(list(objects)), { overrides });
  const sa = analysis.services.find((s) => s.service.name === 'payments')!;
  const report = buildReport(analysis, { fixes: false, now: new Date(0) });
  const rs = report.services.find((s) => s.name === 'payments')!;
  return { analysis, sa, report, rs, codes: sa.reasons.map((r) => r.code) };
}

const svcOf = (objects: Obj[]): Obj => objects.find((o) => o.kind === 'Service')!;
const annotate = (objects: Obj[], annotations: Record<string, string>): Obj[] => {
  svcOf(objects).metadata!.annotations = annotations;
  return objects;
};
const specOf = (o: Obj): Record<string, unknown> => o.spec as Record<string, unknown>;

/** The worked example on AWS: nodes with AWS provider IDs, the given Service annotations. */
function awsExample(annotations: Record<string, string>, policy: 'Local' | 'Cluster' = 'Local'): Obj[] {
  const objects = workedExample(policy);
  for (const o of objects) if (o.kind === 'Node') specOf(o).providerID = `aws:///us-east-1a/i-${o.metadata!.name}`;
  return annotate(objects, annotations);
}
const TYPE = 'service.beta.kubernetes.io/aws-load-balancer-type';
const LEGACY = 'service.beta.kubernetes.io/aws-load-balancer-internal';
const SCHEME = 'service.beta.kubernetes.io/aws-load-balancer-scheme';
const TARGET = 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type';
const TG_ATTRS = 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes';
// On AWS the upstream IPVS kube-proxy would capture: without the bind the LB hop is taken.
const NO_BIND: ProfileOverrides = { ipvsBind: 'none' };

describe('the worked example', () => {
  it('Local: exposure 0.375, worst-client 0.5, at-risk nodes n1 and n2', () => {
    const { sa, rs } = analyse(workedExample('Local'));
    expect(sa.verdict).toBe('loopback');
    expect(rs.loopbackProbability).toBe(0.375);
    expect(rs.worstClientProbability).toBe(0.5);
    expect([...rs.atRiskNodes].sort()).toEqual(['n1', 'n2']);
    expect(rs.clientPodsAtRisk).toBe(6);
    expect(rs.unreachable).toBeNull();
  });
  it('Cluster: SNAT, the CLB skips the client node: 0 and safe', () => {
    const { rs } = analyse(workedExample('Cluster'));
    expect(rs.verdict).toBe('safe');
    expect(rs.loopbackProbability).toBe(0);
    expect(rs.worstClientProbability).toBe(0);
  });
});

describe('rule: which AWS load balancer a Service gets', () => {
  it('legacy aws-load-balancer-internal: "0.0.0.0/0" is internal (any value but "false")', () => {
    const { sa, rs } = analyse(awsExample({ [LEGACY]: '0.0.0.0/0', [TYPE]: 'nlb' }), NO_BIND);
    expect(sa.scope).toBe('internal');
    expect(rs.loopbackProbability).toBe(0.375);
  });
  it('legacy aws-load-balancer-internal: "false" is a public LB', () => {
    const { sa } = analyse(awsExample({ [LEGACY]: 'false', [TYPE]: 'nlb' }), NO_BIND);
    expect(sa.verdict).toBe('not-applicable');
    expect(sa.scope).toBe('public');
  });
  it('no type annotation and no loadBalancerClass: a Classic ELB, a proxy — safe with its own reason', () => {
    const { sa, codes } = analyse(awsExample({ [LEGACY]: 'true' }), NO_BIND);
    expect(sa.verdict).toBe('safe');
    expect(codes).toContain('AWS_CLASSIC_ELB');
  });
  it('AWS LB Controller (loadBalancerClass service.k8s.aws/nlb) without a scheme: internal by default', () => {
    const objects = awsExample({});
    specOf(svcOf(objects)).loadBalancerClass = 'service.k8s.aws/nlb';
    const { sa, rs } = analyse(objects, NO_BIND);
    expect(sa.scope).toBe('internal');
    expect(rs.loopbackProbability).toBe(0.375);
  });
  it('another loadBalancerClass: an implementation not modelled — unknown, never safe', () => {
    const objects = awsExample({ [LEGACY]: 'true' });
    specOf(svcOf(objects)).loadBalancerClass = 'example.com/other-lb';
    const { sa, codes } = analyse(objects, NO_BIND);
    expect(sa.verdict).toBe('unknown');
    expect(codes).toContain('UNKNOWN_LB_CLASS');
  });
  it('AWS LB Controller with scheme internet-facing: public', () => {
    const { sa } = analyse(awsExample({ [TYPE]: 'external', [SCHEME]: 'internet-facing' }), NO_BIND);
    expect(sa.scope).toBe('public');
    expect(sa.verdict).toBe('not-applicable');
  });
  it('type nlb-ip: IP targets, client IP preservation off by default — safe', () => {
    const { sa, codes } = analyse(awsExample({ [TYPE]: 'nlb-ip' }), NO_BIND);
    expect(sa.backendKind).toBe('pod');
    expect(sa.verdict).toBe('safe');
    expect(codes).toContain('AWS_CLIENT_IP_NOT_PRESERVED');
  });
  it('IP targets with preserve_client_ip.enabled=true: clients on a backend pod node loop', () => {
    const { sa } = analyse(awsExample({ [TYPE]: 'external', [TARGET]: 'ip', [TG_ATTRS]: 'preserve_client_ip.enabled=true' }), NO_BIND);
    expect(sa.verdict).toBe('loopback');
  });
  it('instance targets with preserve_client_ip.enabled=false: safe', () => {
    const { sa, codes } = analyse(
      awsExample({ [TYPE]: 'external', [TARGET]: 'instance', [TG_ATTRS]: 'preserve_client_ip.enabled=false' }),
      NO_BIND,
    );
    expect(sa.verdict).toBe('safe');
    expect(codes).toContain('AWS_CLIENT_IP_NOT_PRESERVED');
  });
});

/** The worked example with iptables kube-proxy at `version`, and the ingress in ipMode Proxy. */
function ipModeProxyExample(version: string | undefined): Obj[] {
  const objects = workedExample('Local', { kubeProxyVersion: version ?? 'v1.30.2' });
  for (const o of objects) {
    if (o.kind === 'Service')
      (o.status as { loadBalancer: { ingress: Array<Record<string, string>> } }).loadBalancer.ingress[0]!.ipMode = 'Proxy';
    if (o.metadata!.name!.startsWith('kube-proxy-')) {
      const c = (specOf(o).containers as Array<{ args: string[]; image: string }>)[0]!;
      c.args = ['--proxy-mode=iptables'];
      if (version === undefined) c.image = 'registry.k8s.io/kube-proxy';
    }
    if (version === undefined && o.kind === 'Node') delete (o.status as { nodeInfo?: unknown }).nodeInfo;
  }
  return objects;
}

describe('rule: ipMode Proxy support by version', () => {
  it('kube-proxy 1.30 honours ipMode Proxy: the packet goes to the LB and loops (0.375)', () => {
    expect(analyse(ipModeProxyExample('v1.30.2')).rs.loopbackProbability).toBe(0.375);
  });
  it('kube-proxy 1.29 (gate alpha, off) still captures: safe', () => {
    expect(analyse(ipModeProxyExample('v1.29.9')).sa.verdict).toBe('safe');
  });
  it('an unknown kube-proxy version with ipMode Proxy is unknown, naming what to supply', () => {
    const { sa } = analyse(ipModeProxyExample(undefined));
    expect(sa.verdict).toBe('unknown');
    const r = sa.reasons.find((x) => x.code === 'UNKNOWN_IPMODE_SUPPORT')!;
    expect(r.source).toContain('kubectl get pods -n kube-system -o json');
  });
  it('an unknown version does not matter without ipMode Proxy', () => {
    const objects = ipModeProxyExample(undefined);
    delete (svcOf(objects).status as { loadBalancer: { ingress: Array<Record<string, string>> } }).loadBalancer.ingress[0]!.ipMode;
    expect(analyse(objects).sa.verdict).toBe('safe');
  });
  it.each([
    ['v1.16.5', 'safe'],
    ['v1.17.0', 'loopback'],
    ['v1.18.0', 'safe'],
    ['v1.18.1', 'loopback'],
  ])('Cilium %s with ipMode Proxy: %s', (version, verdict) => {
    const objects = workedExample('Local').filter((o) => !o.metadata!.name!.startsWith('kube-proxy-'));
    for (const n of ['n1', 'n2', 'n3']) {
      objects.push(
        pod('kube-system', `cilium-${n}`, n, {
          hostNetwork: true,
          labels: { 'k8s-app': 'cilium' },
          containers: [{ name: 'cilium-agent', image: `quay.io/cilium/cilium:${version}` }],
        }),
      );
    }
    (svcOf(objects).status as { loadBalancer: { ingress: Array<Record<string, string>> } }).loadBalancer.ingress[0]!.ipMode = 'Proxy';
    expect(analyse(objects).sa.verdict).toBe(verdict);
  });
});

describe('rule: TKE builds outside the documented list', () => {
  it('lines newer than 1.20 bind like the fixed builds', () => {
    expect(tkeBuildStatus(parseKubeVersion('v1.24.4-tke.1')!)).toBe('fixed');
    expect(tkeBuildStatus(parseKubeVersion('v1.30.0-tke.2')!)).toBe('fixed');
    const annotations = {
      'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's',
      'service.cloud.tencent.com/prevent-loopback': 'true',
    };
    expect(analyse(workedExample('Local', { kubeProxyVersion: 'v1.26.1-tke.5', annotations })).sa.verdict).toBe('safe');
  });
  it('lines older than 1.12 never bound, whatever their build number', () => {
    expect(tkeBuildStatus(parseKubeVersion('v1.10.5-tke.99')!)).toBe('unfixed');
    const annotations = {
      'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's',
      'service.cloud.tencent.com/prevent-loopback': 'true',
    };
    expect(analyse(workedExample('Local', { kubeProxyVersion: 'v1.10.5-tke.99', annotations })).rs.loopbackProbability).toBe(0.375);
  });
});

describe('rule: a TKE IPVS node with no kube-proxy version', () => {
  const versionless = (annotations?: Record<string, string>): Obj[] => {
    const objects = workedExample('Local', annotations ? { annotations } : {});
    for (const o of objects) {
      if (o.kind === 'Node') delete (o.status as { nodeInfo?: unknown }).nodeInfo;
      if (o.metadata!.name!.startsWith('kube-proxy-'))
        (specOf(o).containers as Array<{ image: string }>)[0]!.image = 'ccr.ccs.tencentyun.com/library/kube-proxy';
    }
    return objects;
  };
  it('without prevent-loopback no build binds: the figure does not depend on the version', () => {
    expect(analyse(versionless()).rs.loopbackProbability).toBe(0.375);
  });
  it('with prevent-loopback the build decides: unknown, naming what to supply', () => {
    const { sa } = analyse(
      versionless({
        'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's',
        'service.cloud.tencent.com/prevent-loopback': 'true',
      }),
    );
    expect(sa.verdict).toBe('unknown');
    expect(sa.reasons.find((r) => r.code === 'UNKNOWN_TKE_BUILD')!.source).toContain('kubectl get pods -n kube-system -o json');
  });
});

const podIps = (objects: Obj[], match: (o: Obj) => boolean): string[] =>
  objects.filter((o) => o.kind === 'Pod' && match(o)).map((o) => (o.status as { podIP: string }).podIP);

describe('rule: loadBalancerSourceRanges', () => {
  it('a client outside the ranges fails outright (q = 1) and its p leaves the exposure', () => {
    const objects = workedExample('Local');
    // Every client pod but one on n1 (a checkout pod, p = 1/2) is inside the ranges.
    const inside = podIps(
      objects,
      (o) => !(o.metadata!.name!.startsWith('checkout') && specOf(o).nodeName === 'n1' && o.metadata!.name!.includes('-0x')),
    );
    specOf(svcOf(objects)).loadBalancerSourceRanges = inside.map((ip) => `${ip}/32`);
    const { sa, rs, codes } = analyse(objects);
    expect(sa.verdict).toBe('loopback');
    expect(rs.loopbackProbability).toBe(0.3125); // (3·½ + 2·½) / 8
    expect(rs.worstClientProbability).toBe(0.5);
    expect(rs.unreachable).toEqual({ clientPods: 1, nodes: ['n1'], reasons: [expect.stringContaining('loadBalancerSourceRanges')] });
    expect(codes).toContain('OUTSIDE_SOURCE_RANGES');
  });
  it('captured on the node or not: kube-proxy enforces the ranges too', () => {
    const objects = workedExample('Local');
    specOf(svcOf(objects)).loadBalancerSourceRanges = ['192.168.0.0/16'];
    const { sa, rs } = analyse(objects, { ipvsBind: 'all' });
    expect(sa.verdict).toBe('unreachable');
    expect(rs.unreachable!.clientPods).toBe(8);
  });
  it('with SNAT the source is the node IP: pod IPs inside the ranges do not help', () => {
    const objects = workedExample('Cluster');
    specOf(svcOf(objects)).loadBalancerSourceRanges = ['172.16.0.0/12'];
    const { sa, rs } = analyse(objects);
    expect(sa.verdict).toBe('unreachable');
    expect(rs.unreachable!.clientPods).toBe(8);
    specOf(svcOf(objects)).loadBalancerSourceRanges = ['10.0.0.0/24'];
    expect(analyse(objects).sa.verdict).toBe('safe');
  });
});

describe('rule: nodes as LB backends', () => {
  it('a cordoned node stays a backend; a NotReady one is not (Cluster); the reason says it is an approximation', () => {
    const objects = awsExample({ [TYPE]: 'external' }, 'Cluster');
    const n2 = objects.find((o) => o.metadata!.name === 'n2')!;
    specOf(n2).unschedulable = true;
    const n3 = objects.find((o) => o.metadata!.name === 'n3')!;
    (n3.status as { conditions: Array<{ status: string }> }).conditions[0]!.status = 'False';
    const { sa } = analyse(objects, NO_BIND);
    const b = sa.backends!;
    expect(b.kind === 'node' && b.nodes).toEqual([0, 1]);
    expect(b.reason.message).toContain('approximation');
  });
  it('Local: nodes with a ready endpoint, excluded nodes left out', () => {
    const objects = workedExample('Local');
    const n2 = objects.find((o) => o.metadata!.name === 'n2')!;
    n2.metadata!.labels!['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
    const { sa, rs } = analyse(objects);
    expect(sa.backends!.kind === 'node' && sa.backends!.nodes).toEqual([0]);
    expect(rs.worstClientProbability).toBe(1); // n1's clients: the only backend is their own node
  });
});

/** TKE direct-to-pod on the worked example's nodes. */
const DIRECT = { 'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's', 'service.cloud.tencent.com/direct-access': 'true' };

describe('step 3: pod backends per address family and per port; unplaced endpoints', () => {
  it('dual-stack endpoints are not counted twice: the IPv4 listener has the IPv4 endpoints', () => {
    const v4 = workedExample('Local', { annotations: DIRECT });
    const dual = workedExample('Local', { annotations: DIRECT });
    const slice = dual.find((o) => o.kind === 'EndpointSlice')!;
    const v6 = JSON.parse(JSON.stringify(slice)) as Obj & { endpoints: Array<{ addresses: string[] }> };
    v6.metadata!.name = 'payments-v6';
    v6.addressType = 'IPv6';
    v6.endpoints.forEach((e, i) => (e.addresses = [`fd00::${i + 1}`]));
    dual.push(v6);
    const a = analyse(v4);
    const b = analyse(dual);
    expect(b.sa.ingresses[0]!.backends.kind === 'pod' && b.sa.ingresses[0]!.backends.endpoints.length).toBe(2);
    expect(b.rs.loopbackProbability).toBe(a.rs.loopbackProbability);
    expect(b.rs.worstClientProbability).toBe(0.5);
  });
  it('each Service port has the endpoints whose slice carries its name', () => {
    const objects = workedExample('Local', { annotations: DIRECT });
    const svc = svcOf(objects);
    specOf(svc).ports = [
      { name: 'http', port: 8080, protocol: 'TCP', nodePort: 30080 },
      { name: 'metrics', port: 9090, protocol: 'TCP', nodePort: 30090 },
    ];
    const slice = objects.find((o) => o.kind === 'EndpointSlice')! as Obj & { endpoints: unknown[] };
    const metrics = JSON.parse(JSON.stringify(slice)) as Obj & { endpoints: unknown[]; ports: unknown[] };
    metrics.metadata!.name = 'payments-metrics';
    metrics.ports = [{ name: 'metrics', port: 9090, protocol: 'TCP' }];
    metrics.endpoints = metrics.endpoints.slice(0, 1); // only the n1 pod serves metrics
    objects.push(metrics);
    const { sa } = analyse(objects);
    const [http, m] = sa.ingresses;
    expect(http!.ingress.port).toBe(8080);
    expect(http!.backends.kind === 'pod' && http!.backends.endpoints.length).toBe(2);
    expect(m!.backends.kind === 'pod' && m!.backends.endpoints.length).toBe(1);
    // n1's checkout pods on :9090 have one backend, on their own node.
    expect(m!.atRisk.find((r) => r.node === 0)!.p).toBe(1);
  });
  it('a ready endpoint with no nodeName is eligible, never loops, and makes the figure a lower bound', () => {
    const objects = workedExample('Local', { annotations: DIRECT });
    const slice = objects.find((o) => o.kind === 'EndpointSlice')! as Obj & { endpoints: unknown[] };
    slice.endpoints.push({ addresses: ['172.31.9.9'], conditions: { ready: true } });
    const { sa, codes } = analyse(objects);
    const b = sa.ingresses[0]!.backends;
    expect(b.kind === 'pod' && b.endpoints.length).toBe(3);
    expect(sa.ingresses[0]!.atRisk.find((r) => r.node === 0)!.p).toBeCloseTo(1 / 3, 12);
    expect(codes).toContain('UNPLACED_ENDPOINTS');
  });
  it('a client that is itself an unplaced pod backend: skipped by the CLB, never a negative share', () => {
    // n2 is missing: payments-b (a client on n2, and a backend) cannot be placed.
    const objects = workedExample('Local', { annotations: DIRECT }).filter((o) => !(o.kind === 'Node' && o.metadata!.name === 'n2'));
    const { sa, rs } = analyse(objects);
    const podP = [...sa.ingresses[0]!.podP.values()];
    expect(podP.every((p) => p >= 0)).toBe(true);
    // n1's three checkout pods: 1 of 2 backends on their node; the payments pods skip themselves and do not loop.
    expect(rs.loopbackProbability).toBe(0.1875);
  });
  it('Local node backends: an unplaced ready endpoint is an eligible node backend too', () => {
    const objects = workedExample('Local');
    const slice = objects.find((o) => o.kind === 'EndpointSlice')! as Obj & { endpoints: unknown[] };
    slice.endpoints.push({ addresses: ['172.31.9.9'], conditions: { ready: true } });
    const { rs } = analyse(objects);
    expect(rs.worstClientProbability).toBeCloseTo(1 / 3, 6);
  });
});

describe('step 4: the self-skip applies to any backend', () => {
  it('a hostNetwork pod backend whose IP is the SNATed node IP is skipped by the CLB', () => {
    const nodes = [node('n1', '10.0.0.1'), node('n2', '10.0.0.2')];
    const hostBackend = pod('pay', 'payments-host', 'n1', {
      ip: '10.0.0.1',
      hostNetwork: true,
      owner: { kind: 'DaemonSet', name: 'payments-host' },
    });
    const podBackend = pod('pay', 'payments-pod', 'n2', { owner: { kind: 'ReplicaSet', name: 'payments-7d' } });
    const clients = deploymentPods('shop', 'checkout', ['n1', 'n2']);
    const objects = [
      ...nodes,
      hostBackend,
      podBackend,
      ...clients,
      kubeProxyPod('n1'),
      kubeProxyPod('n2'),
      lbService('pay', 'payments', { policy: 'Cluster', annotations: DIRECT }),
      endpointSlice('pay', 'payments', [{ pod: hostBackend }, { pod: podBackend }]),
    ];
    const { sa } = analyse(objects);
    const ing = sa.ingresses[0]!;
    // n1's client: SNAT to 10.0.0.1 = the hostNetwork backend's IP, skipped; the n2 pod is the only choice.
    expect(ing.atRisk.find((r) => r.node === 0)).toBeUndefined();
    expect(ing.noEligibleNodes).toEqual([]);
    // n2's client: its node IP is no backend's IP; one of two backends is on its node.
    expect(ing.atRisk.find((r) => r.node === 1)!.p).toBe(0.5);
  });
});

/** Each EndpointSlice of a snapshot as a v1 Endpoints object (one subset per slice). */
function slicesToEndpoints(items: Obj[]): Obj[] {
  const byService = new Map<string, Obj>();
  const out: Obj[] = [];
  for (const o of items) {
    if (o.kind !== 'EndpointSlice') {
      out.push(o);
      continue;
    }
    const ns = o.metadata!.namespace!;
    const name = o.metadata!.labels!['kubernetes.io/service-name']!;
    let ep = byService.get(`${ns}/${name}`);
    if (!ep) {
      ep = { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: ns, name }, subsets: [] };
      byService.set(`${ns}/${name}`, ep);
      out.push(ep);
    }
    const slice = o as Obj & {
      endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean }; nodeName?: string; targetRef?: unknown }>;
      ports?: unknown[];
    };
    const addr = (e: NonNullable<typeof slice.endpoints>[number]) => ({ ip: e.addresses[0], nodeName: e.nodeName, targetRef: e.targetRef });
    (ep.subsets as unknown[]).push({
      addresses: (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map(addr),
      notReadyAddresses: (slice.endpoints ?? []).filter((e) => e.conditions?.ready === false).map(addr),
      ports: slice.ports,
    });
  }
  return out;
}

describe('v1 Endpoints and typed Lists (step 3)', () => {
  it('the demo with its EndpointSlices turned into v1 Endpoints gives the same report', () => {
    const text = readFileSync(join(__dirname, '..', '..', '..', 'demo', 'demo-cluster.json'), 'utf8');
    const demo = JSON.parse(text) as { items: Obj[] };
    const fromSlices = buildReport(analyzeCluster(loadCluster([{ name: 'demo', text }])), { now: new Date(0) });
    const converted = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: slicesToEndpoints(demo.items) });
    const fromEndpoints = buildReport(analyzeCluster(loadCluster([{ name: 'demo', text: converted }])), { now: new Date(0) });
    expect(fromSlices.summary.loopback).toBeGreaterThan(0);
    const withoutSourceNames = (r: typeof fromSlices) =>
      JSON.parse(
        JSON.stringify(r.services).replaceAll('EndpointSlices', 'X').replaceAll('EndpointSlice', 'X').replaceAll('Endpoints', 'X'),
      );
    expect(withoutSourceNames(fromEndpoints)).toEqual(withoutSourceNames(fromSlices));
    expect(fromEndpoints.summary).toEqual(fromSlices.summary);
    expect(fromEndpoints.links).toEqual(fromSlices.links);
  });
  it('items without kind in a NodeList / PodList take the List’s item kind', () => {
    const objects = workedExample('Local');
    const typed = (kind: string) => ({
      apiVersion: 'v1',
      kind: `${kind}List`,
      items: objects.filter((o) => o.kind === kind).map(({ kind: _k, ...rest }) => rest),
    });
    const rest = objects.filter((o) => o.kind !== 'Node' && o.kind !== 'Pod');
    const cluster = clusterFromObjects([typed('Node'), typed('Pod'), list(rest)]);
    expect(cluster.nodes.length).toBe(3);
    expect(cluster.clientPodCount).toBe(8);
    const sa = analyzeCluster(cluster).services[0]!;
    expect(sa.probability).toBe(0.375);
  });
});

function configMap(name: string, data: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'kube-system', name }, data };
}

describe('the kube-proxy and ip-masq-agent ConfigMaps (step 2)', () => {
  const withConfig = (conf: string): Obj[] => {
    const objects = workedExample('Local');
    for (const o of objects)
      if (o.metadata!.name!.startsWith('kube-proxy-'))
        (specOf(o).containers as Array<{ args: string[] }>)[0]!.args = ['--config=/var/lib/kube-proxy/config.conf'];
    objects.push(configMap('kube-proxy', { 'config.conf': conf }));
    return objects;
  };
  it('`mode: ipvs  # note` is ipvs (read as YAML)', () => {
    const { rs, analysis } = analyse(
      withConfig('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs  # TKE\n'),
    );
    expect(analysis.context.profile.nodes[0]!.proxyMode.value).toBe('ipvs');
    expect(rs.loopbackProbability).toBe(0.375);
  });
  it('flow-style YAML and iptables mode: captured, safe', () => {
    const { sa } = analyse(withConfig('{mode: "iptables", clusterCIDR: 172.16.0.0/16}'));
    expect(sa.verdict).toBe('safe');
  });
  it('a config.conf that is not YAML: the mode is unknown and said in problems', () => {
    const { sa, report } = analyse(withConfig('mode: [ipvs\n'));
    expect(sa.verdict).toBe('unknown');
    expect(report.problems.join('\n')).toMatch(/kube-proxy.*not valid YAML/);
  });
  it('ip-masq-agent: the LB address inside nonMasqueradeCIDRs keeps the pod IP (loops)', () => {
    const objects = workedExample('Local');
    objects.push(configMap('ip-masq-agent', { config: 'nonMasqueradeCIDRs:\n  - 10.0.0.0/8\nmasqLinkLocal: false\n' }));
    expect(analyse(objects).rs.loopbackProbability).toBe(0.375);
  });
  it('ip-masq-agent: the LB address outside nonMasqueradeCIDRs is masqueraded to the node IP, which the CLB skips', () => {
    const objects = workedExample('Local');
    objects.push(configMap('ip-masq-agent', { config: 'nonMasqueradeCIDRs: ["172.16.0.0/12"]' }));
    const { sa, codes } = analyse(objects);
    expect(sa.verdict).toBe('safe');
    expect(codes).toContain('SOURCE_NODE_IP_MASQ_AGENT');
  });
  it('--pod-ip-routable overrides the ip-masq-agent ConfigMap', () => {
    const objects = workedExample('Local');
    objects.push(configMap('ip-masq-agent', { config: 'nonMasqueradeCIDRs: ["172.16.0.0/12"]' }));
    expect(analyse(objects, { podIpRoutable: true }).rs.loopbackProbability).toBe(0.375);
  });
});

describe('client pods: pods on nodes missing from the input', () => {
  it('still count as clients; the node holds no backend; the Service says the input is incomplete', () => {
    const objects = workedExample('Local').filter((o) => !(o.kind === 'Node' && o.metadata!.name === 'n3'));
    const { rs, codes, report } = analyse(objects);
    expect(report.cluster.clientPods).toBe(8);
    expect(report.cluster.nodes).toBe(2);
    expect(rs.loopbackProbability).toBe(0.375);
    expect(codes).toContain('INPUT_INCOMPLETE');
    expect(report.problems.join('\n')).toContain('not in the input (n3)');
  });
  it('a missing node holding an endpoint is no Local backend: its endpoint is eligible but unplaced', () => {
    const objects = workedExample('Local').filter((o) => !(o.kind === 'Node' && o.metadata!.name === 'n2'));
    const { rs, codes } = analyse(objects);
    // n1's 4 clients: 2 eligible (n1, the unplaced one), 1 loops → ½; n2's and n3's: 0.
    expect(rs.loopbackProbability).toBe(0.25);
    expect(rs.atRiskNodes).toEqual(['n1']);
    expect(codes).toEqual(expect.arrayContaining(['UNPLACED_ENDPOINTS', 'INPUT_INCOMPLETE']));
  });
});

describe('q beside p: the unreachable verdict', () => {
  it('no eligible backend (one node, Cluster: the CLB skips the only backend): unreachable, with clients and nodes', () => {
    const objects = [
      node('n1', '10.0.0.1'),
      ...deploymentPods('pay', 'payments', ['n1']),
      ...deploymentPods('shop', 'checkout', ['n1', 'n1']),
      kubeProxyPod('n1'),
      lbService('pay', 'payments', { policy: 'Cluster' }),
    ];
    objects.push(endpointSlice('pay', 'payments', [{ pod: objects[1]! }]));
    const { sa, rs, report } = analyse(objects);
    expect(sa.verdict).toBe('unreachable');
    expect(rs.unreachable).toEqual({ clientPods: 3, nodes: ['n1'], reasons: [expect.stringContaining('no eligible backend')] });
    expect(report.summary.unreachable).toBe(1);
    expect(worstClientProbability(sa)).toBe(0);
  });
  it('no ready endpoint behind an internal LB: every client fails outright', () => {
    const objects = workedExample('Local');
    const slice = objects.find((o) => o.kind === 'EndpointSlice')! as Obj & { endpoints: Array<{ conditions: { ready: boolean } }> };
    for (const e of slice.endpoints) e.conditions.ready = false;
    const { sa, rs } = analyse(objects);
    expect(sa.verdict).toBe('unreachable');
    expect(rs.unreachable!.clientPods).toBe(8);
    expect(rs.unreachable!.nodes.sort()).toEqual(['n1', 'n2', 'n3']);
  });
  it('loopback wins over unreachable: some p > 0 is loopback, with the unreachable clients filled in', () => {
    const objects = workedExample('Local', { annotations: DIRECT });
    // payments-b (on n2) is alone on n2 with no other backend there: with direct-to-pod Local, its
    // own IP is skipped; it still has n1's backend. Make n1's backend not ready: now it has none.
    const slice = objects.find((o) => o.kind === 'EndpointSlice')! as Obj & { endpoints: Array<{ conditions: { ready: boolean } }> };
    slice.endpoints[0]!.conditions.ready = false;
    const { sa, rs } = analyse(objects);
    expect(sa.verdict).toBe('loopback');
    expect(rs.unreachable).toEqual({ clientPods: 1, nodes: ['n2'], reasons: [expect.stringContaining('no eligible backend')] });
  });
});

describe('incomplete input is never safe', () => {
  it('no Pod objects: unknown, naming Pods and the kubectl that supplies them', () => {
    const { sa, rs } = analyse(workedExample('Local').filter((o) => o.kind !== 'Pod'));
    expect(sa.verdict).toBe('unknown');
    expect(rs.missing).toEqual([{ kind: 'Pod', kubectl: 'kubectl get pods -A -o json' }]);
  });
  it('a Service with a selector and neither EndpointSlices nor Endpoints: unknown', () => {
    const objects = workedExample('Local').filter((o) => o.kind !== 'EndpointSlice');
    specOf(svcOf(objects)).selector = { app: 'payments' };
    const { sa, rs } = analyse(objects);
    expect(sa.verdict).toBe('unknown');
    expect(rs.missing).toEqual([{ kind: 'EndpointSlice', kubectl: 'kubectl get endpointslices -A -o json' }]);
  });
  it('the same with v1 Endpoints only: analysed, the same figures', () => {
    const objects = slicesToEndpoints(workedExample('Local'));
    specOf(svcOf(objects)).selector = { app: 'payments' };
    const { rs } = analyse(objects);
    expect(rs.loopbackProbability).toBe(0.375);
    expect(rs.worstClientProbability).toBe(0.5);
  });
  it('a not-applicable Service stays not-applicable without Pods', () => {
    const objects = workedExample('Local').filter((o) => o.kind !== 'Pod');
    svcOf(objects).metadata!.annotations = {};
    expect(analyse(objects).sa.verdict).toBe('not-applicable');
  });
});

describe('inputs that look like different clusters get a warning', () => {
  it('pods on nodes none of which exist', () => {
    const a = workedExample('Local').filter((o) => o.kind === 'Node');
    const b = workedExample('Local').filter((o) => o.kind !== 'Node');
    for (const o of a) o.metadata!.name = `other-${o.metadata!.name}`;
    const cluster = loadCluster([
      { name: 'nodes.json', text: JSON.stringify(list(a)) },
      { name: 'rest.json', text: JSON.stringify(list(b)) },
    ]);
    expect(cluster.problems.map((p) => p.message).join('\n')).toMatch(
      /warning: none of the 3 node\(s\) the pods run on is among the 3 Node object\(s\)/,
    );
  });
  it('different kube-system Namespace uids', () => {
    const ns = (uid: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system', uid } });
    const cluster = loadCluster([
      { name: 'a.json', text: JSON.stringify(list([...workedExample('Local'), ns('uid-a')])) },
      { name: 'b.json', text: JSON.stringify(ns('uid-b')) },
    ]);
    expect(cluster.problems.map((p) => p.message).join('\n')).toContain('warning: the kube-system Namespace has 2 different uids');
  });
  it('EndpointSlices naming Services not in the input', () => {
    const objects = [...workedExample('Local'), endpointSlice('other', 'ghost', [])];
    const cluster = clusterFromObjects(list(objects));
    expect(cluster.problems.map((p) => p.message).join('\n')).toContain('EndpointSlices name 1 Service(s) not in the input (other/ghost)');
  });
  it('one consistent snapshot gets no such warning', () => {
    expect(clusterFromObjects(list(workedExample('Local'))).problems.filter((p) => p.message.startsWith('warning'))).toEqual([]);
  });
});

describe('inputs from several files', () => {
  it('two files, each with its own nodes and pods that never meet: a warning', () => {
    const a = workedExample('Local');
    const b = workedExample('Local').filter((o) => o.kind === 'Node' || o.kind === 'Pod');
    for (const o of b) {
      if (o.kind === 'Node') o.metadata!.name = `b-${o.metadata!.name}`;
      else {
        o.metadata!.name = `b-${o.metadata!.name}`;
        specOf(o).nodeName = `b-${specOf(o).nodeName as string}`;
      }
    }
    const cluster = loadCluster([
      { name: 'a.json', text: JSON.stringify(list(a)) },
      { name: 'b.json', text: JSON.stringify(list(b)) },
    ]);
    expect(cluster.problems.map((p) => p.message).join('\n')).toContain(
      "warning: the input files fall into 2 groups whose pods never run on each other's nodes (a.json; b.json)",
    );
  });
  it('nodes in one file and pods in others: no warning', () => {
    const objects = workedExample('Local');
    const cluster = loadCluster([
      { name: 'nodes.json', text: JSON.stringify(list(objects.filter((o) => o.kind === 'Node'))) },
      { name: 'pods.json', text: JSON.stringify(list(objects.filter((o) => o.kind === 'Pod'))) },
      { name: 'rest.json', text: JSON.stringify(list(objects.filter((o) => o.kind !== 'Pod' && o.kind !== 'Node'))) },
    ]);
    expect(cluster.problems.filter((p) => p.message.startsWith('warning'))).toEqual([]);
  });
});
