import { analyzeCluster, buildReport, clusterFromObjects } from '../../src';
import { list, workedExample } from './builders';

function figure(objects: unknown, ref = 'pay/payments') {
  const analysis = analyzeCluster(clusterFromObjects(objects));
  const sa = analysis.services.find((s) => `${s.service.namespace}/${s.service.name}` === ref)!;
  return { analysis, sa };
}

describe('the worked example of docs/model.md', () => {
  it('gives exactly 0.375 with externalTrafficPolicy Local', () => {
    const { sa } = figure(list(workedExample('Local')));
    expect(sa.probability).toBe(0.375);
    expect(sa.verdict).toBe('loopback');
    const p = Object.fromEntries(sa.ingresses[0]!.atRisk.map((r) => [r.node, r.p]));
    expect(p).toEqual({ 0: 0.5, 1: 0.5 });
  });

  it('gives 0 with Cluster: SNAT to the node IP, and the CLB skips the client node', () => {
    const { sa } = figure(list(workedExample('Cluster')));
    expect(sa.probability).toBe(0);
    expect(sa.verdict).toBe('safe');
    expect(sa.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['SOURCE_NODE_IP_CLUSTER', 'NOT_CAPTURED_TKE_IPVS']));
  });

  it('reports the at-risk nodes, the affected workloads and the links', () => {
    const { analysis } = figure(list(workedExample('Local')));
    const report = buildReport(analysis);
    const svc = report.services.find((s) => s.name === 'payments')!;
    expect(svc.atRiskNodes.sort()).toEqual(['n1', 'n2']);
    expect(svc.clientPodsOnAtRiskNodes).toBe(6);
    expect(svc.affectedWorkloads.map((w) => `${w.kind}/${w.name}:${w.pods}`).sort()).toEqual([
      'Deployment/checkout:4',
      'Deployment/payments-b:1',
      'Deployment/payments:1',
    ]);
    const links = report.links.filter((l) => l.service.name === 'payments');
    expect(links).toContainEqual(
      expect.objectContaining({
        client: expect.objectContaining({ node: 'n1', workload: 'checkout', pods: 3 }),
        probability: 0.5,
        backend: { kind: 'node', node: 'n1', nodePort: 30080 },
      }),
    );
    expect(links.every((l) => l.client.node !== 'n3')).toBe(true);
  });
});
