/** Detection of the datapath profile from kube-proxy args, its ConfigMap and DaemonSet, Cilium and versions. */
import { analyzeCluster, clusterFromObjects, detectProfile } from '../../src';
import { kubeProxyPod, list, node, pod, type Obj } from './builders';

function profileOf(objects: Obj[]) {
  return detectProfile(clusterFromObjects(list(objects)));
}

const nodes = (): Obj[] => [node('n1', '10.0.0.1'), node('n2', '10.0.0.2')];

describe('proxy mode', () => {
  it('--proxy-mode=ipvs and --proxy-mode ipvs', () => {
    const p = profileOf([...nodes(), kubeProxyPod('n1', ['--proxy-mode=ipvs']), kubeProxyPod('n2', ['--proxy-mode', 'iptables'])]);
    expect(p.nodes.map((n) => n.proxyMode.value)).toEqual(['ipvs', 'iptables']);
    expect(p.nodes[0]!.proxyMode.source).toContain('--proxy-mode=ipvs');
  });
  it('a shell command line (TKE style) is read too', () => {
    const p = profileOf([...nodes(), kubeProxyPod('n1', ['/bin/sh', '-c', 'kube-proxy --proxy-mode=ipvs --v=2']), kubeProxyPod('n2', [])]);
    expect(p.nodes[0]!.proxyMode.value).toBe('ipvs');
    expect(p.nodes[1]!.proxyMode.value).toBe('iptables');
  });
  it('--config reads the kube-proxy ConfigMap', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-proxy', namespace: 'kube-system' },
      data: { 'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "ipvs"\n' },
    };
    const p = profileOf([...nodes(), kubeProxyPod('n1', ['--config=/var/lib/kube-proxy/config.conf']), cm as Obj]);
    expect(p.nodes[0]!.proxyMode.value).toBe('ipvs');
    expect(p.nodes[0]!.proxyMode.source).toContain('ConfigMap');
    // n2 has no kube-proxy pod in the snapshot: the ConfigMap decides it too.
    expect(p.nodes[1]!.proxyMode.value).toBe('ipvs');
  });
  it('--config without the ConfigMap is unknown, naming what to add', () => {
    const p = profileOf([...nodes(), kubeProxyPod('n1', ['--config=/var/lib/kube-proxy/config.conf'])]);
    expect(p.nodes[0]!.proxyMode.value).toBe('unknown');
    expect(p.nodes[0]!.proxyMode.source).toMatch(/--proxy-mode/);
  });
  it('the DaemonSet when no pod is in the snapshot', () => {
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-proxy', namespace: 'kube-system' },
      spec: { template: { spec: { containers: [{ name: 'kube-proxy', args: ['--proxy-mode=nftables'] }] } } },
    };
    expect(profileOf([...nodes(), ds as Obj]).nodes.map((n) => n.proxyMode.value)).toEqual(['nftables', 'nftables']);
  });
  it('Cilium agents and no kube-proxy: kube-proxy replacement', () => {
    const agents = ['n1', 'n2'].map((n) =>
      pod('kube-system', `cilium-${n}`, n, {
        hostNetwork: true,
        labels: { 'k8s-app': 'cilium' },
        containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.17.3@sha256:abc' }],
      }),
    );
    const p = profileOf([...nodes(), ...agents]);
    expect(p.nodes.map((n) => n.proxyMode.value)).toEqual(['cilium-kpr', 'cilium-kpr']);
    expect(p.nodes[0]!.honoursIpModeProxy.value).toBe(true);
  });
  it('nothing to go on: unknown, and LB Services become unknown naming --proxy-mode', () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'a', annotations: { 'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 'x' } },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } },
    };
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 's-1', namespace: 'a', labels: { 'kubernetes.io/service-name': 's' } },
      endpoints: [{ addresses: ['172.16.0.9'], nodeName: 'n1' }],
    };
    const objects = [...nodes(), pod('a', 'c', 'n1'), svc as Obj, slice as Obj];
    const a = analyzeCluster(clusterFromObjects(list(objects)));
    expect(a.services[0]!.verdict).toBe('unknown');
    expect(a.services[0]!.reasons.find((r) => r.code === 'UNKNOWN_PROXY_MODE')!.source).toContain('--proxy-mode');
  });
});

describe('TKE kube-proxy build', () => {
  it('from the kube-proxy image first, else status.nodeInfo.kubeProxyVersion, per node', () => {
    const objects = [
      node('n1', '10.0.0.1', { kubeProxyVersion: 'v1.20.6-tke.12' }),
      node('n2', '10.0.0.2', { kubeProxyVersion: 'v1.20.6-tke.12' }),
    ];
    objects.push(kubeProxyPod('n1', ['--proxy-mode=ipvs'], 'ccr.ccs.tencentyun.com/library/kube-proxy:v1.20.6-tke.3'));
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-proxy', namespace: 'kube-system' },
      spec: { template: { spec: { containers: [{ name: 'kube-proxy', args: ['--proxy-mode=ipvs'] }] } } },
    };
    const p = profileOf([...objects, ds as Obj]);
    expect(p.nodes[0]!.ipvsBind).toMatchObject({ value: 'none' });
    expect(p.nodes[0]!.ipvsBind!.source).toContain('v1.20.6-tke.3');
    expect(p.nodes[1]!.ipvsBind).toMatchObject({ value: 'annotated' });
    expect(p.nodes[1]!.ipvsBind!.source).toContain('kubeProxyVersion');
  });
  it('a provider without TKE builds binds every LB IP (upstream)', () => {
    const objects = [
      node('n1', '10.0.0.1', { provider: 'aws:///a/i-1', kubeProxyVersion: 'v1.29.0' }),
      kubeProxyPod('n1', ['--proxy-mode=ipvs'], 'registry.k8s.io/kube-proxy:v1.29.0'),
    ];
    expect(profileOf(objects).nodes[0]!.ipvsBind!.value).toBe('all');
  });
});

describe('provider', () => {
  it('falls back to an internal-LB annotation when no node has a providerID', () => {
    const n = node('n1', '10.0.0.1');
    delete (n.spec as Record<string, unknown>).providerID;
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'a', annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' } },
      spec: { type: 'LoadBalancer' },
    };
    const p = profileOf([n, svc as Obj]);
    expect(p.provider.value).toBe('azure');
    expect(p.provider.source).toContain('azure-load-balancer-internal');
  });
  it('unknown: pod-IP routability unknown too, naming the flags', () => {
    const n = node('n1', '10.0.0.1', { provider: 'kind://docker/kind/kind-control-plane' });
    const p = profileOf([n]);
    expect(p.provider.value).toBe('unknown');
    expect(p.provider.source).toContain('--provider');
    expect(p.podIpRoutable.source).toContain('--pod-ip-routable');
  });
});
