import { analyzeCluster, clusterFromObjects, explain, renderExplanationMarkdown, renderExplanationText } from '../../src';
import { list, pod, workedExample } from './builders';

const analysis = (policy: 'Local' | 'Cluster' = 'Local', extra: ReturnType<typeof pod>[] = []) =>
  analyzeCluster(clusterFromObjects(list([...workedExample(policy), ...extra])));

function ok(result: ReturnType<typeof explain>) {
  if (!result.ok) throw new Error(result.message);
  return result.explanation;
}

describe('explain', () => {
  it('a looping Service: verdict and figure, path hop by hop, where, fixes, evidence basis', () => {
    const e = ok(explain(analysis(), 'pay/payments'));
    expect(e.verdict).toBe('loopback');
    expect(e.probability).toBe(0.375);
    expect(e.headline).toContain('37.5%');
    const s = e.services[0]!;
    expect(s.path.map((h) => h.at)).toEqual([
      'client pod on n1',
      'node n1 egress',
      'node n1 POSTROUTING',
      'internal LB 10.0.0.100:8080',
      "n1:30080 (NodePort on the client's own node)",
      'reply inside n1',
    ]);
    expect(s.path.at(-1)!.fails).toBe(true);
    expect(s.where.nodes.map((n) => n.node)).toEqual(['n1', 'n2']);
    expect(s.fixes.map((f) => f.id)[0]).toBe('use-cluster-ip');
    expect(s.observed).toEqual([]);
    expect(s.inferred.length).toBeGreaterThan(0);
    const md = renderExplanationMarkdown(e);
    expect(md).toContain('#### Packet path (client on n1)');
    expect(md).toContain('→ worst client 0%, exposure 0%');
    expect(renderExplanationText(e)).toContain('<-- fails here');
  });

  it('a safe Service says why it is not loopback and what to check instead', () => {
    const e = ok(explain(analysis('Cluster'), 'payments'));
    expect(e.verdict).toBe('safe');
    expect(e.headline).toMatch(/safe from internal-LB loopback: .*node IP/);
    expect(e.services[0]!.checkInstead.length).toBeGreaterThan(0);
    expect(e.services[0]!.path.some((h) => h.what.includes('skips n1'))).toBe(true);
  });

  it('a workload: its own share and its own pod in the path', () => {
    const e = ok(explain(analysis(), 'deployment/checkout'));
    expect(e.target).toEqual({ kind: 'workload', label: 'shop/deployment/checkout' });
    // 6 checkout pods: 3 on n1 and 1 on n2 at p = 1/2, 2 on n3 at 0.
    expect(e.probability).toBeCloseTo(2 / 6, 12);
    expect(e.services[0]!.path[0]!.what).toContain('checkout');
  });

  it('a pod on a safe node: loopback is not the cause', () => {
    const a = analysis();
    const n3pod = a.context.cluster.pods.find((p) => p.node === 2 && p.role === 'client')!;
    const e = ok(explain(a, `pod/${n3pod.name}`));
    expect(e.verdict).toBe('safe');
    expect(e.headline).toContain('not the cause');
  });

  it('an LB IP and port', () => {
    const e = ok(explain(analysis(), '10.0.0.100:8080'));
    expect(e.target.kind).toBe('ingress');
    expect(e.probability).toBe(0.375);
  });

  it('an unknown target lists the closest names', () => {
    const r = explain(analysis(), 'paymnts');
    expect(r).toMatchObject({ ok: false, problem: 'unknown' });
    expect(!r.ok && r.suggestions.slice(0, 2)).toEqual(['pay/payments', 'pay/deployment/payments']);
  });

  it('an ambiguous name asks which', () => {
    const extra = [pod('other', 'checkout-x', 'n1', { owner: { kind: 'StatefulSet', name: 'checkout' } })];
    const r = explain(analysis('Local', extra), 'checkout');
    expect(r).toMatchObject({
      ok: false,
      problem: 'ambiguous',
      suggestions: ['other/statefulset/checkout', 'shop/deployment/checkout'].sort(),
    });
  });

  it('a hostNetwork pod is explained, not counted', () => {
    const e = ok(explain(analysis('Local', [pod('shop', 'hostnet', 'n1', { hostNetwork: true })]), 'pod/hostnet'));
    expect(e.headline).toContain('host network');
  });
});
