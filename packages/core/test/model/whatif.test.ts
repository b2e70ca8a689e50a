import { analyzeCluster, buildReport, clusterFromObjects, fixesFor, LoopscopeError, whatIf } from '../../src';
import { list, workedExample } from './builders';

const analysis = () => analyzeCluster(clusterFromObjects(list(workedExample('Local'))));

describe('what-if', () => {
  it('externalTrafficPolicy Cluster takes the worked example from 0.375 to 0', () => {
    const r = whatIf(analysis(), [{ kind: 'trafficPolicy', service: 'pay/payments', value: 'Cluster' }]);
    expect(r.services).toEqual([{ namespace: 'pay', name: 'payments', before: { verdict: 'loopback', probability: 0.375 }, after: { verdict: 'safe', probability: 0 } }]);
  });

  it('the annotation alone does nothing on an unfixed build; with the fixed build it captures', () => {
    const a = analysis();
    expect(whatIf(a, [{ kind: 'preventLoopback', service: 'payments', value: true }]).services[0]!.after.probability).toBe(0.375);
    const both = whatIf(a, [
      { kind: 'kubeProxyVersion', version: 'tke-fixed' },
      { kind: 'preventLoopback', service: 'payments', value: true },
    ]);
    expect(both.services[0]!.after).toEqual({ verdict: 'safe', probability: 0 });
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
    expect(() => whatIf(analysis(), [{ kind: 'trafficPolicy', service: 'nope', value: 'Cluster' }])).toThrow(new LoopscopeError('NOT_FOUND', 'no Service "nope" in the snapshot'));
    expect(() => whatIf(analysis(), [{ kind: 'kubeProxyVersion', version: 'v1.2' }])).toThrow(expect.objectContaining({ code: 'CHANGE_INVALID' }));
    expect(() => whatIf(analysis(), [{ kind: 'kubeProxyVersion', version: 'v1.20.6-tke.12', nodes: ['n9'] }])).toThrow('node "n9" is not in the snapshot');
  });
});

describe('fixes (§6), each with its predicted figure, in order', () => {
  it('lists the fixes that apply with what-if figures', () => {
    const a = analysis();
    const fixes = fixesFor(a, a.services[0]!);
    expect(fixes.map((f) => [f.id, f.predictedProbability])).toEqual([
      ['use-cluster-ip', 0],
      ['tke-prevent-loopback', 0],
      ['traffic-policy-cluster', 0],
      ['move-clients', 0],
    ]);
  });

  it('on AWS, Cluster is offered but predicted not to fix it: every node becomes a backend that hairpins', () => {
    const objects = workedExample('Local', { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' } });
    for (const o of objects) if (o.kind === 'Node') (o.spec as Record<string, string>).providerID = `aws:///us-east-1a/i-${o.metadata!.name}`;
    const a = analyzeCluster(clusterFromObjects(list(objects)), { overrides: { ipvsBind: 'none' } });
    const cluster = fixesFor(a, a.services[0]!).find((f) => f.id === 'traffic-policy-cluster')!;
    expect(cluster.predictedProbability).toBeCloseTo(1 / 3, 6);
  });
});
