import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { GeneratedKubeList, GeneratedService } from '../src';
import { demoClusterJson } from '../src/demo';
import { checkConsistency, inCidr, splitList } from './consistency';

const DEMO_PATH = join(__dirname, '..', '..', 'demo', 'demo-cluster.json');

describe('demo/demo-cluster.json', () => {
  const expected = demoClusterJson();
  if (process.env.LOOPSCOPE_WRITE_DEMO === '1') writeFileSync(DEMO_PATH, expected);
  const text = readFileSync(DEMO_PATH, 'utf8');
  const list = JSON.parse(text) as GeneratedKubeList;
  const c = splitList(list.items);
  const svc = (ns: string, name: string): GeneratedService =>
    c.services.find((s) => s.metadata.namespace === ns && s.metadata.name === name)!;
  const endpointNodes = (ns: string, name: string): string[] =>
    c.endpointSlices
      .filter((s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === name)
      .flatMap((s) => s.endpoints.filter((e) => e.conditions.ready).map((e) => e.nodeName!))
      .sort();

  it('is what buildDemoCluster() writes (rerun with LOOPSCOPE_WRITE_DEMO=1 after changing packages/generator/src/demo.ts)', () => {
    expect(text).toBe(expected);
  });

  it('is a v1 List as kubectl prints it', () => {
    expect(list.apiVersion).toBe('v1');
    expect(list.kind).toBe('List');
    expect(text.startsWith('{\n    "apiVersion": "v1",\n    "items": [')).toBe(true);
    expect(text).not.toContain('managedFields');
  });

  it('is internally consistent', () => {
    expect(checkConsistency(c, '2025-03-18T09:30:00Z')).toEqual([]);
  });

  it('has six TKE nodes on the fixed kube-proxy build, pods inside their /26', () => {
    expect(c.nodes.map((n) => n.metadata.name)).toEqual(['10.0.1.11', '10.0.1.12', '10.0.1.13', '10.0.2.21', '10.0.2.22', '10.0.2.23']);
    for (const n of c.nodes) {
      expect(n.spec.providerID).toMatch(/^qcloud:\/\/\/80000[23]\/ins-[a-z0-9]{8}$/);
      expect(n.status.nodeInfo.kubeProxyVersion).toBe('v1.20.6-tke.12');
      expect(n.status.nodeInfo.kubeletVersion).toBe('v1.20.6-tke.12');
      expect(n.spec.podCIDR).toMatch(/^172\.16\.\d+\.\d+\/26$/);
    }
    for (const p of c.pods.filter((x) => x.status.podIP && !x.spec.hostNetwork)) {
      const node = c.nodes.find((n) => n.metadata.name === p.spec.nodeName)!;
      expect(inCidr(p.status.podIP!, node.spec.podCIDR!)).toBe(true);
    }
  });

  it('runs kube-proxy in IPVS mode on every node', () => {
    const kp = c.pods.filter((p) => p.metadata.labels?.['k8s-app'] === 'kube-proxy');
    expect(kp.map((p) => p.spec.nodeName).sort()).toEqual(c.nodes.map((n) => n.metadata.name));
    for (const p of kp) {
      expect(p.spec.hostNetwork).toBe(true);
      expect(p.spec.containers[0]!.image).toBe('ccr.ccs.tencentyun.com/library/kube-proxy:v1.20.6-tke.12');
      expect(p.spec.containers[0]!.args).toEqual(
        expect.arrayContaining([
          '--proxy-mode=ipvs',
          '--ipvs-scheduler=rr',
          '--hostname-override=$(NODE_NAME)',
          '--kubeconfig=/var/lib/kube-proxy/config',
          '--v=2',
          '--metrics-bind-address=0.0.0.0',
        ]),
      );
    }
    expect(c.daemonSets.map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual([
      'kube-system/ip-masq-agent',
      'kube-system/kube-proxy',
      'kube-system/tke-bridge-agent',
      'logging/fluent-bit',
    ]);
  });

  it('has the Services the README describes', () => {
    const internal = 'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid';
    const payments = svc('payments', 'payments-api');
    expect(payments.spec.type).toBe('LoadBalancer');
    expect(payments.spec.externalTrafficPolicy).toBe('Local');
    expect(payments.metadata.annotations?.[internal]).toMatch(/^subnet-/);
    expect(payments.status.loadBalancer.ingress).toEqual([{ ip: '10.0.3.15' }]);
    expect(endpointNodes('payments', 'payments-api')).toEqual(['10.0.1.11', '10.0.1.11', '10.0.1.12']);

    const orders = svc('orders', 'orders-api');
    expect(orders.spec.externalTrafficPolicy).toBe('Cluster');
    expect(orders.metadata.annotations?.[internal]).toBeDefined();
    expect(endpointNodes('orders', 'orders-api')).toEqual(['10.0.1.12', '10.0.1.13', '10.0.2.21']);

    const inventory = svc('inventory', 'inventory-api');
    expect(inventory.spec.externalTrafficPolicy).toBe('Local');
    expect(inventory.metadata.annotations?.['service.cloud.tencent.com/prevent-loopback']).toBe('true');
    expect(endpointNodes('inventory', 'inventory-api')).toEqual(['10.0.1.13', '10.0.2.22']);

    const search = svc('search', 'search-api');
    expect(search.metadata.annotations?.['service.cloud.tencent.com/direct-access']).toBe('true');
    expect(search.metadata.annotations?.[internal]).toBeDefined();
    expect(endpointNodes('search', 'search-api')).toEqual(['10.0.2.21', '10.0.2.21', '10.0.2.23']);

    const storefront = svc('web', 'storefront');
    expect(storefront.metadata.annotations?.[internal]).toBeUndefined();
    expect(storefront.status.loadBalancer.ingress?.[0]?.ip).toMatch(/^119\./);

    expect(svc('catalog', 'catalog').spec.type).toBe('ClusterIP');

    const reports = svc('reports', 'reports-api');
    expect(reports.metadata.annotations?.[internal]).toBeDefined();
    expect(reports.status.loadBalancer).toEqual({});
  });

  it('has the client pods per node the README lists', () => {
    const clients = c.pods.filter((p) => p.status.phase === 'Running' && !p.spec.hostNetwork && p.spec.nodeName);
    const perNode: Record<string, number> = {};
    for (const p of clients) perNode[p.spec.nodeName!] = (perNode[p.spec.nodeName!] ?? 0) + 1;
    expect(perNode).toEqual({ '10.0.1.11': 8, '10.0.1.12': 5, '10.0.1.13': 6, '10.0.2.21': 5, '10.0.2.22': 7, '10.0.2.23': 5 });
    expect(c.pods).toHaveLength(57);
    expect(c.pods.filter((p) => p.status.phase === 'Pending' && !p.spec.nodeName)).toHaveLength(1);
    expect(c.pods.filter((p) => p.status.phase === 'Succeeded')).toHaveLength(1);
  });

  it('resolves every owner chain (Pod → ReplicaSet → Deployment, Pod → Job → CronJob)', () => {
    const kinds = new Set(c.pods.map((p) => p.metadata.ownerReferences?.[0]?.kind ?? 'none'));
    expect([...kinds].sort()).toEqual(['DaemonSet', 'Job', 'ReplicaSet', 'StatefulSet', 'none']);
    for (const j of c.jobs) expect(j.metadata.ownerReferences?.[0]?.kind).toBe('CronJob');
    for (const r of c.replicaSets) expect(r.metadata.ownerReferences?.[0]?.kind).toBe('Deployment');
  });
});
