/**
 * One test per fact docs/model.md–docs/model.md of docs/model.md: each fails if the rule it names is dropped.
 */
import { analyzeCluster, clusterFromObjects, tkeBuildStatus, parseKubeVersion, type ProfileOverrides } from '../../src';
import { deploymentPods, endpointSlice, kubeProxyPod, lbService, list, node, pod, workedExample, type Obj } from './builders';

function analyse(objects: Obj[], overrides: ProfileOverrides = {}, ref = 'pay/payments') {
  const analysis = analyzeCluster(clusterFromObjects(list(objects)), { overrides });
  const sa = analysis.services.find((s) => `${s.service.namespace}/${s.service.name}` === ref)!;
  return { analysis, sa, codes: sa.reasons.map((r) => r.code) };
}

/** A 3-node cluster of a given provider, kube-proxy mode and version; Service endpoints on n1 only; 2 clients per node. */
function cluster(opts: {
  provider: string;
  mode?: string;
  version?: string;
  policy?: string;
  annotations?: Record<string, string>;
  ipMode?: string;
  cilium?: string;
  hostname?: string;
}): Obj[] {
  const version = opts.version ?? 'v1.30.2';
  const nodes = ['n1', 'n2', 'n3'].map((n, i) =>
    node(n, `10.0.0.${i + 1}`, { provider: `${opts.provider}${n}`, kubeProxyVersion: version }),
  );
  const backend = deploymentPods('pay', 'payments', ['n1']);
  const clients = deploymentPods('shop', 'checkout', ['n1', 'n2', 'n2', 'n3', 'n3']);
  const proxies = opts.cilium
    ? ['n1', 'n2', 'n3'].map((n) =>
        pod('kube-system', `cilium-${n}`, n, {
          hostNetwork: true,
          labels: { 'k8s-app': 'cilium' },
          containers: [{ name: 'cilium-agent', image: `quay.io/cilium/cilium:${opts.cilium}` }],
        }),
      )
    : ['n1', 'n2', 'n3'].map((n) => kubeProxyPod(n, [`--proxy-mode=${opts.mode ?? 'ipvs'}`], `registry.k8s.io/kube-proxy:${version}`));
  const svc = lbService('pay', 'payments', {
    policy: opts.policy ?? 'Local',
    annotations: opts.annotations,
    ipMode: opts.ipMode,
    hostname: opts.hostname,
  });
  return [
    ...nodes,
    ...backend,
    ...clients,
    ...proxies,
    svc,
    endpointSlice(
      'pay',
      'payments',
      backend.map((p) => ({ pod: p })),
    ),
  ];
}

const TKE = 'qcloud:///800002/ins-';
const AWS = 'aws:///us-east-1a/i-';
const AZURE = 'azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/';
const GCP = 'gce://proj/us-central1-a/';
// An AWS Load Balancer Controller NLB (docs/model.md: with neither a type nor a class the in-tree controller makes a Classic ELB)
const AWS_INTERNAL = {
  'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
  'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
};
const AZURE_INTERNAL = { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' };

describe('F1: IPVS SNAT is decided by KUBE-LOAD-BALANCER-LOCAL', () => {
  it('Local: no SNAT, the LB sees the pod IP and the client node can be chosen', () => {
    const { sa, codes } = analyse(workedExample('Local'));
    expect(codes).toContain('SOURCE_POD_IP_LOCAL');
    expect(sa.probability).toBeGreaterThan(0);
  });
  it('Cluster: KUBE-MARK-MASQ, the LB sees the node IP', () => {
    const { codes } = analyse(workedExample('Cluster'));
    expect(codes).toContain('SOURCE_NODE_IP_CLUSTER');
  });
});

describe('F2: upstream IPVS binds LB IPs on kube-ipvs0; TKE IPVS did not', () => {
  it('upstream IPVS captures the LB IP on the node', () => {
    const { sa, codes } = analyse(cluster({ provider: AWS, annotations: AWS_INTERNAL }));
    expect(codes).toContain('CAPTURED_IPVS_BIND');
    expect(sa.probability).toBe(0);
    expect(sa.verdict).toBe('safe');
  });
  it('an unfixed TKE build sends it out to the CLB', () => {
    const { sa, codes } = analyse(cluster({ provider: TKE, version: 'v1.20.6-tke.3' }));
    expect(codes).toContain('NOT_CAPTURED_TKE_IPVS');
    // 1 backend node (n1); the 2 clients on n1 (backend pod + 1 checkout) always loop: 2/6.
    expect(sa.probability).toBeCloseTo(2 / 6, 12);
  });
});

describe('F3: the fixed TKE build binds only Services annotated prevent-loopback', () => {
  it('fixed build + annotation: captured', () => {
    const { sa, codes } = analyse(
      cluster({
        provider: TKE,
        version: 'v1.20.6-tke.12',
        annotations: {
          'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's',
          'service.cloud.tencent.com/prevent-loopback': 'true',
        },
      }),
    );
    expect(codes).toContain('CAPTURED_PREVENT_LOOPBACK');
    expect(sa.probability).toBe(0);
  });
  it('fixed build without the annotation still loops', () => {
    const { sa, codes } = analyse(cluster({ provider: TKE, version: 'v1.20.6-tke.12' }));
    expect(codes).toContain('NOT_CAPTURED_TKE_NO_ANNOTATION');
    expect(sa.probability).toBeGreaterThan(0);
  });
  it('the annotation on an unfixed build does nothing', () => {
    const { sa } = analyse(
      cluster({
        provider: TKE,
        version: 'v1.18.4-tke.19',
        annotations: {
          'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's',
          'service.cloud.tencent.com/prevent-loopback': 'true',
        },
      }),
    );
    expect(sa.probability).toBeGreaterThan(0);
  });
  it.each([
    ['v1.20.6-tke.12', 'fixed'],
    ['v1.20.6-tke.11', 'unfixed'],
    ['v1.20.7-tke.1', 'fixed'],
    ['v1.18.4-tke.20', 'fixed'],
    ['v1.18.4-tke.19', 'unfixed'],
    ['v1.16.3-tke.25', 'fixed'],
    ['v1.16.3-tke.24', 'unfixed'],
    ['v1.14.3-tke.24', 'fixed'],
    ['v1.14.3-tke.23', 'unfixed'],
    ['v1.12.4-tke.30', 'fixed'],
    ['v1.12.4-tke.29', 'unfixed'],
    ['v1.22.5-tke.1', 'fixed'],
    ['v1.19.3-tke.40', 'unfixed'],
    ['v1.20.6', 'not-tke'],
  ])('build %s is %s', (raw, status) => {
    expect(tkeBuildStatus(parseKubeVersion(raw)!)).toBe(status);
  });
});

describe('F4: the TKE CLB never forwards to a backend whose IP is the source', () => {
  it('TKE + Cluster: the client node is skipped, figure 0', () => {
    const { sa, codes } = analyse(cluster({ provider: TKE, version: 'v1.20.6-tke.3', policy: 'Cluster' }));
    expect(codes).toContain('SOURCE_NODE_IP_CLUSTER');
    expect(sa.probability).toBe(0);
  });
  it('without the skip (AWS, IPVS without the bind) the same shape hairpins: p = 1/3 on every node', () => {
    const { sa } = analyse(cluster({ provider: AWS, annotations: AWS_INTERNAL, policy: 'Cluster' }), { ipvsBind: 'none' });
    expect(sa.probability).toBeCloseTo(1 / 3, 12);
  });
});

describe('F5: iptables and nftables capture pod traffic to the LB IP (KUBE-EXT short-circuit), also for Local', () => {
  it.each(['iptables', 'nftables'])('%s', (mode) => {
    const { sa, codes } = analyse(cluster({ provider: TKE, mode }));
    expect(codes).toContain(mode === 'iptables' ? 'CAPTURED_IPTABLES' : 'CAPTURED_NFTABLES');
    expect(sa.probability).toBe(0);
  });
});

describe('F6: ipMode Proxy — kube-proxy leaves the IP alone and adds no SNAT', () => {
  it('kube-proxy 1.30 iptables, ipMode Proxy, Local: goes to the LB with the pod IP and loops', () => {
    const { sa, codes } = analyse(cluster({ provider: AWS, annotations: AWS_INTERNAL, mode: 'iptables', ipMode: 'Proxy' }));
    expect(codes).toEqual(expect.arrayContaining(['NOT_CAPTURED_IPMODE_PROXY', 'SOURCE_POD_IP_NO_SNAT']));
    expect(sa.probability).toBeCloseTo(2 / 6, 12);
  });
  it('ipMode Proxy with Cluster adds no SNAT either (unlike VIP under IPVS)', () => {
    const { codes } = analyse(cluster({ provider: AWS, annotations: AWS_INTERNAL, mode: 'ipvs', ipMode: 'Proxy', policy: 'Cluster' }));
    expect(codes).toContain('SOURCE_POD_IP_NO_SNAT');
    expect(codes).not.toContain('SOURCE_NODE_IP_CLUSTER');
  });
  it('kube-proxy before 1.30 ignores ipMode and captures', () => {
    const { sa, codes } = analyse(
      cluster({ provider: AWS, annotations: AWS_INTERNAL, mode: 'iptables', ipMode: 'Proxy', version: 'v1.28.4' }),
    );
    expect(codes).toContain('CAPTURED_IPTABLES');
    expect(sa.probability).toBe(0);
  });
});

describe('F7: Cilium kube-proxy replacement', () => {
  it('captures VIP LB IPs at the socket', () => {
    const { sa, codes } = analyse(cluster({ provider: AWS, annotations: AWS_INTERNAL, cilium: 'v1.17.3' }));
    expect(codes).toContain('CAPTURED_CILIUM');
    expect(sa.probability).toBe(0);
  });
  it.each([
    ['v1.16.5', 0],
    ['v1.17.0', 1],
    ['v1.18.0', 0],
    ['v1.18.1', 1],
  ])('ipMode Proxy on cilium %s: loops=%s', (version, loops) => {
    const { sa } = analyse(cluster({ provider: AWS, annotations: AWS_INTERNAL, cilium: version, ipMode: 'Proxy' }));
    expect(sa.probability > 0 ? 1 : 0).toBe(loops);
  });
});

describe('F8: other clouds', () => {
  it('AWS internal NLB with instance targets and Local: loops (no skip)', () => {
    const { sa } = analyse(cluster({ provider: AWS, annotations: AWS_INTERNAL }), { ipvsBind: 'none' });
    expect(sa.probability).toBeCloseTo(2 / 6, 12);
  });
  it('AWS NLB hostname ingress: never captured, even by upstream IPVS', () => {
    const { sa, codes } = analyse(
      cluster({ provider: AWS, annotations: AWS_INTERNAL, hostname: 'internal-x.elb.us-east-1.amazonaws.com' }),
    );
    expect(codes).toContain('NOT_CAPTURED_HOSTNAME');
    expect(sa.probability).toBeGreaterThan(0);
  });
  it('AWS IP targets without client IP preservation: safe', () => {
    const { sa, codes } = analyse(
      cluster({
        provider: AWS,
        annotations: { ...AWS_INTERNAL, 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip' },
        hostname: 'x.elb.amazonaws.com',
      }),
    );
    expect(codes).toContain('AWS_CLIENT_IP_NOT_PRESERVED');
    expect(sa.probability).toBe(0);
  });
  it("AWS IP targets with preserve_client_ip: clients on the backend pod's node loop", () => {
    const { sa } = analyse(
      cluster({
        provider: AWS,
        hostname: 'x.elb.amazonaws.com',
        annotations: {
          ...AWS_INTERNAL,
          'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
          'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'preserve_client_ip.enabled=true',
        },
      }),
    );
    expect(sa.backendKind).toBe('pod');
    // 1 backend pod on n1: both n1 clients (the backend itself hairpins) loop: 2/6.
    expect(sa.probability).toBeCloseTo(2 / 6, 12);
  });
  it('Azure internal LB, Cluster: the node-IP source hairpins (no skip): p = 1/3', () => {
    const { sa } = analyse(cluster({ provider: AZURE, annotations: AZURE_INTERNAL, policy: 'Cluster', hostname: undefined }), {
      proxyMode: 'ipvs',
      ipvsBind: 'none',
    });
    expect(sa.probability).toBeCloseTo(1 / 3, 12);
  });
  it('GCP internal passthrough LB: answered locally', () => {
    const { sa, codes } = analyse(cluster({ provider: GCP, annotations: { 'networking.gke.io/load-balancer-type': 'Internal' } }), {
      ipvsBind: 'none',
    });
    expect(codes).toContain('GCP_LOCAL_ROUTE');
    expect(sa.verdict).toBe('safe');
  });
});

describe('F9: signals in the API objects', () => {
  it.each([
    [TKE, 'tke'],
    [AWS, 'aws'],
    [AZURE, 'azure'],
    [GCP, 'gcp'],
  ])('providerID %s → %s', (prefix, provider) => {
    const { analysis } = analyse(cluster({ provider: prefix }));
    expect(analysis.context.profile.provider.value).toBe(provider);
    expect(analysis.context.profile.provider.source).toContain('spec.providerID');
  });
  it('nodes labelled exclude-from-external-load-balancers are not backends', () => {
    const objects = workedExample('Local');
    const n1 = objects.find((o) => o.kind === 'Node' && o.metadata!.name === 'n1')!;
    n1.metadata!.labels!['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
    const { sa } = analyse(objects);
    // Only n2 is a backend now: its 2 clients always loop; 2/8.
    expect(sa.probability).toBe(0.25);
  });
  it('TKE direct access: pod backends; a client loops when the LB picks a pod on its node', () => {
    const objects = workedExample('Local', {
      annotations: {
        'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's',
        'service.cloud.tencent.com/direct-access': 'true',
      },
    });
    const { sa, codes } = analyse(objects);
    expect(codes).toContain('BACKENDS_PODS');
    expect(sa.backendKind).toBe('pod');
    // Backends: 1 pod on n1, 1 on n2. Non-backend clients on n1 (3) and n2 (1): p = 1/2. The
    // backend pods themselves: the CLB skips their own IP, leaving the other node's pod: p = 0.
    expect(sa.probability).toBe((3 * 0.5 + 1 * 0.5) / 8);
  });
});

describe('F10: public LBs are out of scope unless the profile says otherwise', () => {
  const publicSvc = (): Obj[] => workedExample('Local', { annotations: {} });
  it('not-applicable by default', () => {
    const { sa, codes } = analyse(publicSvc());
    expect(sa.verdict).toBe('not-applicable');
    expect(codes).toContain('PUBLIC_LB');
  });
  it('analysed with --public-lb-in-scope', () => {
    const { sa } = analyse(publicSvc(), { publicLbInScope: true });
    expect(sa.probability).toBe(0.375);
  });
});
