/** Steps 1–6 of docs/model.md and the definitions of docs/model.md that the facts tests do not already pin down. */
import { analyzeCluster, buildReport, clusterFromObjects, type ProfileOverrides } from '../../src';
import { deploymentPods, endpointSlice, kubeProxyPod, lbService, list, node, pod, workedExample, type Obj } from './builders';

function analyse(objects: Obj[], overrides: ProfileOverrides = {}) {
  const analysis = analyzeCluster(clusterFromObjects(list(objects)), { overrides });
  return { analysis, sa: analysis.services.find((s) => s.service.name === 'payments')! };
}

describe('step 1: captured on the node', () => {
  it('a captured node contributes nothing even when it holds a backend', () => {
    const { sa } = analyse(workedExample('Local'), { ipvsBind: 'all' });
    expect(sa.probability).toBe(0);
    expect(sa.verdict).toBe('safe');
  });
  it('a cluster mid-upgrade: only nodes still on the unfixed build are at risk', () => {
    const objects = workedExample('Local', {
      kubeProxyVersion: 'v1.20.6-tke.12',
      annotations: {
        'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's',
        'service.cloud.tencent.com/prevent-loopback': 'true',
      },
    });
    // n2's kube-proxy pod is still on the old build.
    const kp = objects.find((o) => o.metadata!.name === 'kube-proxy-n2')!;
    (kp.spec as { containers: Array<{ image: string }> }).containers[0]!.image = 'ccr.ccs.tencentyun.com/library/kube-proxy:v1.20.6-tke.3';
    const { sa } = analyse(objects);
    expect(sa.ingresses[0]!.atRisk.map((r) => r.node)).toEqual([1]);
    expect(sa.probability).toBe((2 * 0.5) / 8);
  });
});

describe('step 2: the source the LB sees', () => {
  it('a CNI that masquerades pod traffic gives the node IP, which the CLB skips', () => {
    const { sa, analysis } = analyse(workedExample('Local'), { podIpRoutable: false });
    expect(sa.reasons.map((r) => r.code)).toContain('SOURCE_NODE_IP_CNI_MASQUERADE');
    expect(sa.probability).toBe(0);
    expect(analysis.context.profile.podIpRoutable.source).toBe('set by --pod-ip-routable');
  });
});

describe('step 4: eligible backends', () => {
  it('no eligible backend is its own finding, not loopback', () => {
    const objects = [
      node('n1', '10.0.0.1'),
      ...deploymentPods('pay', 'payments', ['n1']),
      ...deploymentPods('shop', 'checkout', ['n1']),
      kubeProxyPod('n1'),
      lbService('pay', 'payments', { policy: 'Cluster' }),
    ];
    objects.push(endpointSlice('pay', 'payments', [{ pod: objects[1]! }]));
    const { sa } = analyse(objects);
    expect(sa.probability).toBe(0);
    const finding = sa.reasons.find((r) => r.code === 'NO_ELIGIBLE_BACKEND')!;
    expect(finding.severity).toBe('error');
    expect(finding.nodes).toEqual(['n1']);
  });
  it('no ready endpoint: the LB has no backend (not loopback)', () => {
    const objects = workedExample('Local');
    const slice = objects.find((o) => o.kind === 'EndpointSlice')! as { endpoints: Array<{ conditions: { ready: boolean } }> };
    for (const e of slice.endpoints) e.conditions.ready = false;
    const { sa } = analyse(objects);
    expect(sa.reasons.map((r) => r.code)).toContain('NO_READY_ENDPOINTS');
    expect(sa.probability).toBe(0);
  });
});

describe('step 5: uniform choice over eligible backends', () => {
  it('three backend nodes give p = 1/3 on each', () => {
    const nodes = ['n1', 'n2', 'n3'].map((n, i) => node(n, `10.0.0.${i + 1}`));
    const backends = deploymentPods('pay', 'payments', ['n1', 'n2', 'n3']);
    const objects = [
      ...nodes,
      ...backends,
      ...['n1', 'n2', 'n3'].map((n) => kubeProxyPod(n)),
      lbService('pay', 'payments'),
      endpointSlice(
        'pay',
        'payments',
        backends.map((p) => ({ pod: p })),
      ),
    ];
    const { sa } = analyse(objects);
    expect(sa.ingresses[0]!.atRisk.map((r) => r.p)).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(sa.probability).toBeCloseTo(1 / 3, 12);
  });
});

describe('step 6: pod backends and the pod network', () => {
  const direct = (): Obj[] =>
    workedExample('Local', {
      annotations: {
        'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 's',
        'service.cloud.tencent.com/direct-access': 'true',
      },
    });
  it('exclusive-ENI pods answer through the VPC: no loop', () => {
    const { sa } = analyse(direct(), { podNetwork: 'exclusive-eni' });
    expect(sa.probability).toBe(0);
  });
});

describe('definitions', () => {
  it('hostNetwork, pending and finished pods are not clients', () => {
    const objects = [
      ...workedExample('Local'),
      pod('shop', 'host-agent', 'n1', { hostNetwork: true }),
      pod('shop', 'pending', undefined, { phase: 'Pending' }),
      pod('shop', 'done', 'n1', { phase: 'Succeeded' }),
    ];
    const { sa, analysis } = analyse(objects);
    expect(analysis.context.cluster.clientPodCount).toBe(8);
    expect(sa.probability).toBe(0.375);
  });
  it('the Service figure is the largest over its ingress ports', () => {
    const objects = workedExample('Local');
    const svc = objects.find((o) => o.kind === 'Service')! as { status: { loadBalancer: { ingress: unknown[] } } };
    svc.status.loadBalancer.ingress.push({ ip: '10.0.0.101', ipMode: 'VIP' });
    const { sa } = analyse(objects);
    expect(sa.ingresses).toHaveLength(2);
    expect(sa.probability).toBe(0.375);
  });
  it('affected workloads resolve through owner references', () => {
    const objects = [
      ...workedExample('Local'),
      pod('shop', 'db-0', 'n1', { owner: { kind: 'StatefulSet', name: 'db' } }),
      pod('shop', 'agent-x', 'n1', { owner: { kind: 'DaemonSet', name: 'agent' } }),
      pod('shop', 'report-29000000-abcde', 'n1', { owner: { kind: 'Job', name: 'report-29000000' } }),
      pod('shop', 'bare', 'n1'),
      pod('shop', 'rs-pod', 'n1', { owner: { kind: 'ReplicaSet', name: 'legacy-rs' } }),
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'legacy-rs', namespace: 'shop', ownerReferences: [{ kind: 'Deployment', name: 'legacy', controller: true }] },
      },
    ];
    const report = buildReport(analyse(objects as Obj[]).analysis);
    const names = report.services[0]!.affectedWorkloads.map((w) => `${w.kind}/${w.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'StatefulSet/db',
        'DaemonSet/agent',
        'CronJob/report',
        'Pod/bare',
        'Deployment/legacy',
        'Deployment/checkout',
      ]),
    );
  });
});
