import {
  GENERATOR_NOW,
  GENERATOR_PROVIDERS,
  GeneratedCluster,
  GeneratedService,
  GeneratorProvider,
  generateCluster,
  toKubeLists,
} from '../src';
import { checkConsistency, inCidr, ipToInt, isReady, nodeIP } from './consistency';

const NOW = new Date(GENERATOR_NOW).toISOString().slice(0, 19) + 'Z';

const isInternal = (svc: GeneratedService): boolean => {
  const a = svc.metadata.annotations ?? {};
  return (
    a['service.kubernetes.io/qcloud-loadbalancer-internal-subnetid'] !== undefined ||
    a['service.beta.kubernetes.io/aws-load-balancer-scheme'] === 'internal' ||
    a['service.beta.kubernetes.io/aws-load-balancer-internal'] === 'true' ||
    a['service.beta.kubernetes.io/azure-load-balancer-internal'] === 'true' ||
    a['networking.gke.io/load-balancer-type'] === 'Internal' ||
    a['cloud.google.com/load-balancer-type'] === 'Internal'
  );
};
const isDirect = (svc: GeneratedService): boolean => {
  const a = svc.metadata.annotations ?? {};
  return (
    a['service.cloud.tencent.com/direct-access'] === 'true' || a['service.beta.kubernetes.io/aws-load-balancer-nlb-target-type'] === 'ip'
  );
};
const lbServices = (c: GeneratedCluster) => c.items.services.filter((s) => s.spec.type === 'LoadBalancer');
const podJsonSizes = (c: GeneratedCluster) => c.items.pods.map((p) => JSON.stringify(p).length);

const MEDIUM = { nodes: 40, pods: 1200, services: 120, internalLbServices: 30, publicLbServices: 10 } as const;

describe('generateCluster: determinism', () => {
  it('gives the same cluster, byte for byte, for the same options and seed', () => {
    const a = JSON.stringify(generateCluster({ ...MEDIUM, seed: 7 }).toList());
    const b = JSON.stringify(generateCluster({ ...MEDIUM, seed: 7 }).toList());
    expect(a).toBe(b);
  });

  it('gives a different cluster for a different seed', () => {
    const a = JSON.stringify(generateCluster({ ...MEDIUM, seed: 7 }).toList());
    const b = JSON.stringify(generateCluster({ ...MEDIUM, seed: 8 }).toList());
    expect(a).not.toBe(b);
  });

  it('draws the provider from weights with the seed', () => {
    const seen = new Set<GeneratorProvider>();
    for (let seed = 1; seed <= 40; seed++)
      seen.add(
        generateCluster({ nodes: 3, pods: 30, services: 4, internalLbServices: 1, providers: { aws: 1, gcp: 1 }, seed }).options.provider,
      );
    expect([...seen].sort()).toEqual(['aws', 'gcp']);
    const once = generateCluster({ nodes: 3, pods: 30, services: 4, internalLbServices: 1, providers: { aws: 1, gcp: 1 }, seed: 3 }).options
      .provider;
    expect(
      generateCluster({ nodes: 3, pods: 30, services: 4, internalLbServices: 1, providers: { aws: 1, gcp: 1 }, seed: 3 }).options.provider,
    ).toBe(once);
  });
});

describe('generateCluster: counts', () => {
  it('produces exactly the requested nodes, pods, Services and LB mix', () => {
    const c = generateCluster({ ...MEDIUM, seed: 3 });
    expect(c.items.nodes).toHaveLength(MEDIUM.nodes);
    expect(c.items.pods).toHaveLength(MEDIUM.pods);
    expect(c.items.services).toHaveLength(MEDIUM.services);
    const lbs = lbServices(c);
    expect(lbs.filter(isInternal)).toHaveLength(MEDIUM.internalLbServices);
    expect(lbs.filter((s) => !isInternal(s))).toHaveLength(MEDIUM.publicLbServices);
    expect(c.items.services.filter((s) => s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes')).toHaveLength(1);
    expect(c.items.services.filter((s) => s.metadata.namespace === 'kube-system' && s.metadata.name === 'kube-dns')).toHaveLength(1);
  });

  it('applies the shares exactly (rounded) to the LB Services and nodes', () => {
    const c = generateCluster({
      ...MEDIUM,
      seed: 5,
      localShare: 0.5,
      directToPodShare: 0.2,
      preventLoopbackShare: 0.1,
      fixedBuildShare: 0.25,
      ipModeProxyShare: 0.25,
    });
    const lbs = lbServices(c);
    const internal = lbs.filter(isInternal);
    expect(lbs.filter((s) => s.spec.externalTrafficPolicy === 'Local')).toHaveLength(Math.round(0.5 * lbs.length));
    expect(internal.filter(isDirect)).toHaveLength(Math.round(0.2 * internal.length));
    expect(internal.filter((s) => s.metadata.annotations?.['service.cloud.tencent.com/prevent-loopback'] === 'true')).toHaveLength(
      Math.round(0.1 * internal.length),
    );
    expect(lbs.filter((s) => s.status.loadBalancer.ingress?.[0]?.ipMode === 'Proxy')).toHaveLength(Math.round(0.25 * lbs.length));
    expect(c.items.nodes.filter((n) => n.status.nodeInfo.kubeProxyVersion === 'v1.20.6-tke.12')).toHaveLength(
      Math.round(0.25 * MEDIUM.nodes),
    );
    expect(c.items.nodes.filter((n) => n.status.nodeInfo.kubeProxyVersion === 'v1.20.6-tke.3')).toHaveLength(
      MEDIUM.nodes - Math.round(0.25 * MEDIUM.nodes),
    );
  });

  it('keeps endpoints per Service within the range', () => {
    const c = generateCluster({ ...MEDIUM, seed: 9, endpointsPerService: [3, 4], notReadyPodShare: 0 });
    for (const svc of c.items.services) {
      if (svc.metadata.namespace === 'default' || svc.metadata.namespace === 'kube-system') continue;
      const n = c.items.endpointSlices
        .filter(
          (s) => s.metadata.namespace === svc.metadata.namespace && s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name,
        )
        .reduce((sum, s) => sum + s.endpoints.length, 0);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(4);
    }
  });

  it('includes every kind of client workload when the budget allows', () => {
    const c = generateCluster({ ...MEDIUM, seed: 11 });
    const owners = new Set(c.items.pods.map((p) => p.metadata.ownerReferences?.[0]?.kind ?? 'none'));
    expect([...owners].sort()).toEqual(['DaemonSet', 'Job', 'ReplicaSet', 'StatefulSet', 'none']);
    expect(c.items.pods.some((p) => p.status.phase === 'Pending' && p.spec.nodeName === undefined)).toBe(true);
    expect(c.items.pods.some((p) => p.status.phase === 'Succeeded')).toBe(true);
    expect(c.items.pods.some((p) => p.spec.hostNetwork && p.metadata.namespace !== 'kube-system')).toBe(true);
    expect(c.items.daemonSets.some((d) => d.metadata.namespace !== 'kube-system' && !d.spec.template.spec.hostNetwork)).toBe(true);
    expect(c.items.jobs.length).toBeGreaterThan(0);
  });

  it('rejects impossible options with a RangeError naming the option', () => {
    expect(() => generateCluster({ nodes: 0 })).toThrow(/nodes/);
    expect(() => generateCluster({ nodes: 10, pods: 5 })).toThrow(
      'pods (5) is below the 32 system pods of 10 nodes (kube-proxy, tke-bridge-agent, ip-masq-agent on every node, 2 DNS replicas)',
    );
    expect(() => generateCluster({ services: 5, internalLbServices: 4, publicLbServices: 1 })).toThrow(/services \(5\)/);
    expect(() => generateCluster({ nodes: 2, pods: 30, services: 30 })).toThrow(/endpointsPerService/);
    expect(() => generateCluster({ localShare: 1.5 })).toThrow(/localShare/);
    expect(() => generateCluster({ endpointsPerService: [4, 2] })).toThrow(/endpointsPerService/);
    expect(() => generateCluster({ provider: 'ibm' as GeneratorProvider })).toThrow(/provider/);
    expect(() => generateCluster({ kubeProxyVersion: '1.20' })).toThrow(/kubeProxyVersion/);
  });

  it('handles the smallest clusters', () => {
    const c = generateCluster({ nodes: 1, pods: 5, services: 2, internalLbServices: 0, publicLbServices: 0 });
    expect(c.items.pods).toHaveLength(5);
    expect(c.items.services).toHaveLength(2);
    expect(checkConsistency(c.items, NOW)).toEqual([]);
  });
});

describe.each(GENERATOR_PROVIDERS)('generateCluster: provider %s', (provider) => {
  const cluster = generateCluster({ ...MEDIUM, provider, seed: 21, directToPodShare: 0.5, awsIngressIp: false });

  it('is internally consistent (nodes, pod IPs, owners, EndpointSlices, ports)', () => {
    expect(checkConsistency(cluster.items, NOW)).toEqual([]);
  });

  it('writes the provider signals of F9', () => {
    const idFormat: Record<GeneratorProvider, RegExp> = {
      tke: /^qcloud:\/\/\/8000\d\d\/ins-[a-z0-9]{8}$/,
      aws: /^aws:\/\/\/us-west-2[abc]\/i-0[0-9a-f]{16}$/,
      azure:
        /^azure:\/\/\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/[^/]+\/virtualMachines\/\d+$/,
      gcp: /^gce:\/\/[a-z0-9-]+\/us-central1-[abc]\/gke-[a-z0-9-]+$/,
    };
    for (const n of cluster.items.nodes) {
      expect(n.spec.providerID).toMatch(idFormat[provider]);
      expect(n.metadata.labels?.['topology.kubernetes.io/zone']).toBeTruthy();
      expect(n.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(n.status.nodeInfo.kubeProxyVersion).toBe(n.status.nodeInfo.kubeletVersion);
    }
    const lbs = lbServices(cluster);
    const internal = lbs.filter(isInternal);
    expect(internal).toHaveLength(MEDIUM.internalLbServices);
    const expectDirect = provider === 'tke' || provider === 'aws' ? Math.round(0.5 * internal.length) : 0;
    expect(internal.filter(isDirect)).toHaveLength(expectDirect);
    expect(lbs.filter((s) => !isInternal(s)).every((s) => !isDirect(s))).toBe(true);
  });

  it('gives every LB Service an ingress of the right kind', () => {
    const vpc = cluster.items.nodes.map(nodeIP);
    const sameVpc = (ip: string): boolean => vpc.some((n) => ipToInt(n) >>> 16 === ipToInt(ip) >>> 16);
    for (const svc of lbServices(cluster)) {
      const ingress = svc.status.loadBalancer.ingress;
      expect(ingress).toHaveLength(1);
      const entry = ingress![0]!;
      if (provider === 'aws') {
        expect(entry.hostname).toMatch(/\.elb\.us-west-2\.amazonaws\.com$/);
        expect(entry.ip).toBeUndefined();
      } else {
        expect(entry.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        expect(sameVpc(entry.ip!)).toBe(isInternal(svc));
      }
      if (svc.spec.externalTrafficPolicy === 'Local') expect(svc.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    }
    for (const svc of cluster.items.services.filter((s) => s.spec.type === 'ClusterIP')) expect(svc.status.loadBalancer).toEqual({});
  });

  it('runs kube-proxy with --proxy-mode on every node (hostNetwork)', () => {
    const kp = cluster.items.pods.filter((p) => p.metadata.namespace === 'kube-system' && /^kube-proxy-/.test(p.metadata.name));
    expect(kp).toHaveLength(MEDIUM.nodes);
    expect(new Set(kp.map((p) => p.spec.nodeName)).size).toBe(MEDIUM.nodes);
    const mode = provider === 'tke' ? 'ipvs' : 'iptables';
    for (const p of kp) {
      expect(p.spec.hostNetwork).toBe(true);
      expect(p.spec.containers[0]!.args).toContain(`--proxy-mode=${mode}`);
      const node = cluster.items.nodes.find((n) => n.metadata.name === p.spec.nodeName)!;
      expect(p.spec.containers[0]!.image.endsWith(node.status.nodeInfo.kubeProxyVersion) || provider === 'aws').toBe(true);
    }
    if (provider === 'gcp') expect(kp.every((p) => p.metadata.ownerReferences?.[0]?.kind === 'Node')).toBe(true);
    else expect(cluster.items.daemonSets.some((d) => d.metadata.name === 'kube-proxy')).toBe(true);
  });

  it('writes pods of realistic size (1.5–5 KB of JSON each)', () => {
    const sizes = podJsonSizes(cluster);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1536);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5120);
  });
});

describe('generateCluster: proxy modes', () => {
  it('cilium: Cilium agents on every node and no kube-proxy', () => {
    const c = generateCluster({ ...MEDIUM, proxyMode: 'cilium', seed: 2 });
    expect(c.items.pods.filter((p) => /^kube-proxy/.test(p.metadata.name))).toHaveLength(0);
    const agents = c.items.pods.filter((p) => p.metadata.labels?.['k8s-app'] === 'cilium');
    expect(agents).toHaveLength(MEDIUM.nodes);
    for (const a of agents) {
      expect(a.spec.hostNetwork).toBe(true);
      expect(a.spec.containers[0]!.image).toMatch(/^quay\.io\/cilium\/cilium:v1\.17\.3(@sha256:[0-9a-f]{64})?$/);
    }
    expect(c.items.configMaps.find((m) => m.metadata.name === 'cilium-config')?.data['kube-proxy-replacement']).toBe('true');
    expect(checkConsistency(c.items, NOW)).toEqual([]);
    expect(Math.max(...podJsonSizes(c))).toBeLessThanOrEqual(5120);
  });

  it.each(['iptables', 'nftables', 'ipvs'] as const)('%s: kube-proxy args carry the mode', (mode) => {
    const c = generateCluster({ nodes: 4, pods: 60, services: 6, internalLbServices: 2, provider: 'aws', proxyMode: mode });
    const kp = c.items.pods.filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy');
    expect(kp).toHaveLength(4);
    for (const p of kp) expect(p.spec.containers[0]!.args).toContain(`--proxy-mode=${mode}`);
  });

  it('TKE: each kube-proxy pod runs its node build; the DaemonSet template the fixed one', () => {
    const c = generateCluster({ ...MEDIUM, fixedBuildShare: 0.5, seed: 4 });
    for (const p of c.items.pods.filter((x) => x.metadata.labels?.['k8s-app'] === 'kube-proxy')) {
      const node = c.items.nodes.find((n) => n.metadata.name === p.spec.nodeName)!;
      expect(p.spec.containers[0]!.image).toBe(`ccr.ccs.tencentyun.com/library/kube-proxy:${node.status.nodeInfo.kubeProxyVersion}`);
    }
    const ds = c.items.daemonSets.find((d) => d.metadata.name === 'kube-proxy')!;
    expect(ds.spec.template.spec.containers[0]!.image).toBe('ccr.ccs.tencentyun.com/library/kube-proxy:v1.20.6-tke.12');
    expect(ds.spec.updateStrategy.type).toBe('OnDelete');
  });

  it('kubeProxyVersion pins every node', () => {
    const c = generateCluster({ nodes: 5, pods: 60, services: 4, kubeProxyVersion: 'v1.20.6-tke.3' });
    expect(new Set(c.items.nodes.map((n) => n.status.nodeInfo.kubeProxyVersion))).toEqual(new Set(['v1.20.6-tke.3']));
  });
});

describe('generateCluster: pods, nodes and endpoints', () => {
  const c = generateCluster({
    ...MEDIUM,
    seed: 13,
    notReadyPodShare: 0.2,
    notReadyNodeShare: 0.1,
    excludedNodeShare: 0.1,
    pendingIngressShare: 0.2,
  });

  it('stays consistent with not-ready pods and nodes', () => {
    expect(checkConsistency(c.items, NOW)).toEqual([]);
  });

  it('every scheduled pod sits on an existing node, inside its podCIDR', () => {
    const nodes = new Map(c.items.nodes.map((n) => [n.metadata.name, n]));
    for (const p of c.items.pods) {
      if (p.status.phase === 'Pending') continue;
      const node = nodes.get(p.spec.nodeName!);
      expect(node).toBeDefined();
      if (!p.spec.hostNetwork) expect(inCidr(p.status.podIP!, node!.spec.podCIDR!)).toBe(true);
    }
  });

  it('endpoints name existing pods on the stated nodes; ready means a Ready pod', () => {
    const byUid = new Map(c.items.pods.map((p) => [p.metadata.uid, p]));
    let ready = 0;
    let notReady = 0;
    for (const s of c.items.endpointSlices) {
      for (const e of s.endpoints) {
        if (!e.targetRef) continue;
        const pod = byUid.get(e.targetRef.uid)!;
        expect(pod).toBeDefined();
        expect(e.nodeName).toBe(pod.spec.nodeName);
        expect(e.addresses).toEqual([pod.status.podIP]);
        expect(e.conditions.ready).toBe(isReady(pod));
        if (e.conditions.ready) ready++;
        else notReady++;
      }
    }
    expect(ready).toBeGreaterThan(0);
    expect(notReady).toBeGreaterThan(0);
  });

  it('marks NotReady and excluded nodes', () => {
    expect(c.items.nodes.filter((n) => n.status.conditions.find((x) => x.type === 'Ready')?.status === 'Unknown')).toHaveLength(4);
    expect(
      c.items.nodes.filter((n) => n.metadata.labels?.['node.kubernetes.io/exclude-from-external-load-balancers'] === 'true'),
    ).toHaveLength(4);
  });

  it('leaves some LB Services without ingress when asked', () => {
    const lbs = lbServices(c);
    expect(lbs.filter((s) => s.status.loadBalancer.ingress === undefined)).toHaveLength(Math.round(0.2 * lbs.length));
  });

  it('shares frozen templates between pods of a workload', () => {
    const rsPods = c.items.pods.filter((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet');
    const p = rsPods[0]!;
    expect(Object.isFrozen(p.spec.containers)).toBe(true);
    expect(() => {
      (p.spec.containers[0] as { image: string }).image = 'x';
    }).toThrow(TypeError);
  });
});

describe('toKubeLists', () => {
  const c = generateCluster({ ...MEDIUM, seed: 17 });

  it('splits pods over files and keeps everything else whole', () => {
    const files = toKubeLists(c, { podsPerFile: 500 });
    expect(files.map((f) => f.name)).toEqual([
      'nodes.json',
      'pods-000.json',
      'pods-001.json',
      'pods-002.json',
      'services.json',
      'endpointslices.json',
      'kube-system.json',
      'workloads.json',
    ]);
    const pods = files.filter((f) => f.name.startsWith('pods-')).flatMap((f) => f.list.items);
    expect(pods).toHaveLength(MEDIUM.pods);
    expect(files[0]!.list.items).toHaveLength(MEDIUM.nodes);
    for (const f of files) {
      expect(f.list.apiVersion).toBe('v1');
      expect(f.list.kind).toBe('List');
      expect(JSON.parse(JSON.stringify(f.list)).items.length).toBe(f.list.items.length);
    }
    const ks = files.find((f) => f.name === 'kube-system.json')!.list.items;
    expect(ks.every((o) => o.metadata.namespace === 'kube-system')).toBe(true);
    expect(new Set(ks.map((o) => o.kind))).toEqual(new Set(['ConfigMap', 'DaemonSet']));
    const wl = files.find((f) => f.name === 'workloads.json')!.list.items;
    expect(new Set(wl.map((o) => o.kind))).toEqual(new Set(['ReplicaSet', 'Job']));
  });

  it('writes one pods file by default for small clusters, and rejects a bad split', () => {
    expect(toKubeLists(c).filter((f) => f.name.startsWith('pods-'))).toHaveLength(1);
    expect(() => toKubeLists(c, { podsPerFile: 0 })).toThrow(/podsPerFile/);
  });

  it('toList holds every object once', () => {
    const list = c.toList();
    const i = c.items;
    expect(list.items).toHaveLength(
      i.nodes.length +
        i.pods.length +
        i.services.length +
        i.endpointSlices.length +
        i.replicaSets.length +
        i.jobs.length +
        i.daemonSets.length +
        i.configMaps.length,
    );
  });
});
