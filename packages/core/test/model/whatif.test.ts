import { analyzeCluster, buildReport, clusterFromObjects, fixesFor, LoopscopeError, whatIf } from '../../src';
import { fixedBuildFor } from '../../src/whatif/whatif';
import { parseKubeVersion } from '../../src/profile/versions';
import { deploymentPods, endpointSlice, kubeProxyPod, lbService, list, node, workedExample } from './builders';

const analysis = () => analyzeCluster(clusterFromObjects(list(workedExample('Local'))));

describe('what-if', () => {
  it('externalTrafficPolicy Cluster takes the worked example from 0.375 to 0', () => {
    const r = whatIf(analysis(), [{ kind: 'trafficPolicy', service: 'pay/payments', value: 'Cluster' }]);
    expect(r.services).toEqual([
      {
        namespace: 'pay',
        name: 'payments',
        before: { verdict: 'loopback', probability: 0.375, worstClientProbability: 0.5 },
        after: { verdict: 'safe', probability: 0, worstClientProbability: 0 },
      },
    ]);
  });

  it('the annotation alone does nothing on an unfixed build; with the fixed build it captures', () => {
    const a = analysis();
    expect(whatIf(a, [{ kind: 'preventLoopback', service: 'payments', value: true }]).services[0]!.after.probability).toBe(0.375);
    const both = whatIf(a, [
      { kind: 'kubeProxyVersion', version: 'tke-fixed' },
      { kind: 'preventLoopback', service: 'payments', value: true },
    ]);
    expect(both.services[0]!.after).toEqual({ verdict: 'safe', probability: 0, worstClientProbability: 0 });
  });

  it('upgrading one node leaves the others looping', () => {
    const r = whatIf(analysis(), [
      { kind: 'kubeProxyVersion', version: 'v1.20.6-tke.12', nodes: ['n1'] },
      { kind: 'preventLoopback', service: 'payments', value: true },
    ]);
    // n1 (4 clients) is captured now; n2's 2 clients keep p = 1/2.
    expect(r.services[0]!.after.probability).toBe(1 / 8);
  });

  it('moving one workload off the at-risk nodes removes its share only', () => {
    const r = whatIf(analysis(), [{ kind: 'moveClients', service: 'pay/payments', workloads: ['shop/deployment/checkout'] }]);
    // checkout has 3 pods on n1 and 1 on n2, each p = 1/2: 2 of the 3 looping units go.
    expect(r.services[0]!.after.probability).toBe(0.125);
  });

  it('the analysis it started from is not changed', () => {
    const a = analysis();
    whatIf(a, [{ kind: 'trafficPolicy', service: 'pay/payments', value: 'Cluster' }]);
    expect(a.context.cluster.services[0]!.trafficPolicy).toBe('Local');
    expect(buildReport(a).services[0]!.loopbackProbability).toBe(0.375);
  });

  it('unknown Services and nodes are clear errors', () => {
    expect(() => whatIf(analysis(), [{ kind: 'trafficPolicy', service: 'nope', value: 'Cluster' }])).toThrow(
      new LoopscopeError('NOT_FOUND', 'no Service "nope" in the snapshot'),
    );
    expect(() => whatIf(analysis(), [{ kind: 'kubeProxyVersion', version: 'v1.2' }])).toThrow(
      expect.objectContaining({ code: 'CHANGE_INVALID' }),
    );
    expect(() => whatIf(analysis(), [{ kind: 'kubeProxyVersion', version: 'v1.20.6-tke.12', nodes: ['n9'] }])).toThrow(
      'node "n9" is not in the snapshot',
    );
  });
});

describe('fixes, each with its predicted figure, in order', () => {
  it('lists the fixes that apply with what-if figures', () => {
    const a = analysis();
    const fixes = fixesFor(a, a.services[0]!);
    expect(fixes.map((f) => [f.id, f.predictedProbability])).toEqual([
      ['use-cluster-ip', 0],
      ['tke-prevent-loopback', 0],
      ['traffic-policy-cluster', 0],
      // The clients move to n3; the Service's own pods (one on n1, one on n2, p = ½ each) stay.
      ['move-clients', 0.125],
    ]);
  });

  it('on AWS, Cluster is offered but predicted not to fix it: every node becomes a backend that hairpins', () => {
    const objects = workedExample('Local', {
      annotations: {
        'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
        'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
      },
    });
    for (const o of objects)
      if (o.kind === 'Node') (o.spec as Record<string, string>).providerID = `aws:///us-east-1a/i-${o.metadata!.name}`;
    const a = analyzeCluster(clusterFromObjects(list(objects)), { overrides: { ipvsBind: 'none' } });
    const cluster = fixesFor(a, a.services[0]!).find((f) => f.id === 'traffic-policy-cluster')!;
    expect(cluster.predictedProbability).toBeCloseTo(1 / 3, 6);
  });
});

describe('what-ifs as they would play out', () => {
  const v = (raw: string) => parseKubeVersion(raw);

  it('"tke-fixed" never downgrades: fixed and newer lines keep their build, older lines move up to theirs', () => {
    expect(fixedBuildFor(v('v1.30.2-tke.1'))).toBeUndefined();
    expect(fixedBuildFor(v('v1.22.5-tke.9'))).toBeUndefined();
    expect(fixedBuildFor(v('v1.20.6-tke.40'))).toBeUndefined();
    expect(fixedBuildFor(v('v1.30.1'))).toBeUndefined();
    expect(fixedBuildFor(v('v1.18.9'))).toBeUndefined(); // upstream: never "up" to v1.18.4-tke.20
    expect(fixedBuildFor(v('v1.18.2-tke.40'))).toBe('v1.18.4-tke.20');
    expect(fixedBuildFor(v('v1.20.6-tke.3'))).toBe('v1.20.6-tke.12');
    expect(fixedBuildFor(v('v1.18.4-tke.5'))).toBe('v1.18.4-tke.20');
    expect(fixedBuildFor(v('v1.13.1-tke.2'))).toBe('v1.14.3-tke.24');
    expect(fixedBuildFor(v('v1.10.5-tke.1'))).toBe('v1.12.4-tke.30');
    expect(fixedBuildFor(undefined)).toBe('v1.20.6-tke.12');
  });

  it('"tke-fixed" on v1.30 nodes keeps v1.30: with ipMode Proxy the prediction stays what v1.30 gives', () => {
    const objects = workedExample('Local', { kubeProxyVersion: 'v1.30.2-tke.1' });
    // ipMode Proxy: v1.30 honours it (the LB IP is not captured), a v1.20 build would not.
    const svc = objects.find((o) => o.kind === 'Service')! as { status: { loadBalancer: { ingress: Array<Record<string, string>> } } };
    svc.status.loadBalancer.ingress[0]!.ipMode = 'Proxy';
    const a = analyzeCluster(clusterFromObjects(list(objects)));
    const before = a.services[0]!.probability;
    const r = whatIf(a, [
      { kind: 'kubeProxyVersion', version: 'tke-fixed' },
      { kind: 'preventLoopback', service: 'payments', value: true },
    ]);
    const annotatedOnly = whatIf(a, [{ kind: 'preventLoopback', service: 'payments', value: true }]);
    expect(r.services[0]!.after).toEqual(annotatedOnly.services[0]!.after);
    expect(r.services[0]!.after.probability).toBeGreaterThan(0);
    expect(before).toBeGreaterThan(0);
    // A downgrade (what "tke-fixed" used to do) would capture the IP and predict 0.
    expect(
      whatIf(a, [
        { kind: 'kubeProxyVersion', version: 'v1.20.6-tke.12' },
        { kind: 'preventLoopback', service: 'payments', value: true },
      ]).services[0]!.after.probability,
    ).toBe(0);
  });

  it("anti-affinity: the clients move to nodes without endpoints, the Service's own pods stay (worst client ½)", () => {
    const a = analysis();
    const move = fixesFor(a, a.services[0]!).find((f) => f.id === 'move-clients')!;
    expect(move.predictedProbability).toBeCloseTo(0.125, 9);
    expect(move.predictedWorstClientProbability).toBe(0.5);
    expect(move.effective).toBe(true);
  });

  it('anti-affinity is not offered where every node holds an endpoint', () => {
    const nodes = [node('n1', '10.0.0.1'), node('n2', '10.0.0.2')];
    const backends = [...deploymentPods('pay', 'payments', ['n1', 'n2'])];
    const clients = deploymentPods('shop', 'checkout', ['n1', 'n2']);
    const objects = [
      ...nodes,
      ...backends,
      ...clients,
      kubeProxyPod('n1'),
      kubeProxyPod('n2'),
      lbService('pay', 'payments'),
      endpointSlice(
        'pay',
        'payments',
        backends.map((p) => ({ pod: p })),
      ),
    ];
    const a = analyzeCluster(clusterFromObjects(list(objects)));
    expect(a.services[0]!.verdict).toBe('loopback');
    expect(fixesFor(a, a.services[0]!).map((f) => f.id)).not.toContain('move-clients');
    expect(whatIf(a, [{ kind: 'moveClients', service: 'payments' }]).services[0]!.after.probability).toBe(a.services[0]!.probability);
  });

  it('anti-affinity is not offered for Cluster node backends (every node is a backend): AWS', () => {
    // An AWS Load Balancer Controller NLB with instance targets (client IP kept): without a type it would be a Classic ELB, a proxy.
    const objects = workedExample('Cluster', {
      annotations: {
        'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
        'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'instance',
        'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
      },
    });
    for (const o of objects)
      if (o.kind === 'Node') (o.spec as Record<string, string>).providerID = `aws:///us-east-1a/i-${o.metadata!.name}`;
    const a = analyzeCluster(clusterFromObjects(list(objects)), { overrides: { ipvsBind: 'none' } });
    expect(a.services[0]!.verdict).toBe('loopback');
    const ids = fixesFor(a, a.services[0]!).map((f) => f.id);
    expect(ids).not.toContain('move-clients');
    expect(whatIf(a, [{ kind: 'moveClients', service: 'payments' }]).services[0]!.after.probability).toBe(a.services[0]!.probability);
  });

  it('every node already on a fixed TKE build: fix 2 is "annotate the Service", not an upgrade', () => {
    const a = analyzeCluster(clusterFromObjects(list(workedExample('Local', { kubeProxyVersion: 'v1.20.6-tke.12' }))));
    expect(a.services[0]!.verdict).toBe('loopback');
    const fix = fixesFor(a, a.services[0]!).find((f) => f.id === 'tke-prevent-loopback')!;
    expect(fix.title).toBe('TKE: annotate the Service with service.cloud.tencent.com/prevent-loopback');
    expect(fix.changes).toEqual([{ kind: 'preventLoopback', service: 'pay/payments', value: true }]);
    expect(`${fix.title} ${fix.description}`).not.toMatch(/upgrade/i);
    expect(fix.predictedProbability).toBe(0);
    expect(fix.predictedWorstClientProbability).toBe(0);
  });

  it('unfixed nodes: fix 2 upgrades them (counted) and annotates', () => {
    const a = analysis();
    const fix = fixesFor(a, a.services[0]!).find((f) => f.id === 'tke-prevent-loopback')!;
    expect(fix.title).toBe('TKE: upgrade kube-proxy on 3 node(s) to a build with the bind, and annotate the Service');
    expect(fix.changes.map((c) => c.kind)).toEqual(['kubeProxyVersion', 'preventLoopback']);
  });

  it('several changes to one Service compose: two moveClients union their workloads, no TypeError', () => {
    const a = analysis();
    const both = whatIf(a, [
      { kind: 'moveClients', service: 'pay/payments', workloads: ['shop/deployment/checkout'] },
      { kind: 'moveClients', service: 'pay/payments', workloads: ['pay/deployment/payments'] },
    ]);
    const all = whatIf(a, [
      { kind: 'moveClients', service: 'pay/payments', workloads: ['shop/deployment/checkout', 'pay/deployment/payments'] },
    ]);
    expect(both.services[0]!.after).toEqual(all.services[0]!.after);
    // Moving clients after a policy change works on the new analysis.
    const withPolicy = whatIf(a, [
      { kind: 'trafficPolicy', service: 'payments', value: 'Cluster' },
      { kind: 'moveClients', service: 'payments' },
      { kind: 'moveClients', service: 'payments' },
    ]);
    expect(withPolicy.services[0]!.after).toEqual({ verdict: 'safe', probability: 0, worstClientProbability: 0 });
  });
});
