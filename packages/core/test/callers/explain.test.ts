/** Explanations lead with known callers, then the worst-client figure, then the cluster-wide exposure. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCluster, clusterFromObjects, explain, loadCluster, renderExplanationText } from '../../src';
import { list, workedExample } from '../model/builders';

const demo = () =>
  analyzeCluster(
    loadCluster([
      { name: 'demo-cluster.json', text: readFileSync(join(__dirname, '..', '..', '..', 'demo', 'demo-cluster.json'), 'utf8') },
    ]),
  );

describe('explain with known callers', () => {
  it('the demo: checkout-api on 10.0.1.11 calls 10.0.3.15:8080 (env PAYMENTS_API_URL): 50% loop — first', () => {
    const r = explain(demo(), 'payments/payments-api');
    if (!r.ok) throw new Error(r.message);
    const e = r.explanation;
    expect(e.headline).toBe(
      'payments/payments-api: checkout-api on 10.0.1.11 calls 10.0.3.15:8080 (env PAYMENTS_API_URL): 50% of its connections loop back to its own node and time out (6 known callers). Up to 50% of new connections from 13 client pod(s) on 2 node(s) loop (internal-LB loopback on Tencent TKE); cluster-wide exposure 18.1%.',
    );
    const s = e.services[0]!;
    expect(s.worstClientProbability).toBe(0.5);
    expect(s.callerCount).toBe(6);
    expect(s.callersProbability).toBeCloseTo(1 / 6, 9);
    const text = renderExplanationText(e);
    // Callers come before the packet path.
    expect(text.indexOf('Known callers (6; on average 16.7% of their connections loop):')).toBeGreaterThan(0);
    expect(text.indexOf('Known callers')).toBeLessThan(text.indexOf('Packet path'));
    expect(text).toContain('  - checkout-api on 10.0.1.11 calls 10.0.3.15:8080 (env PAYMENTS_API_URL): 50% of its connections loop');
    expect(text).toMatch(/Keep client pods off the nodes that hold its endpoints → worst client 50%, exposure 4\.2%/);
  });

  it('without known callers the worst-client figure leads and the exposure comes second', () => {
    const r = explain(analyzeCluster(clusterFromObjects(list(workedExample('Local')))), 'pay/payments');
    if (!r.ok) throw new Error(r.message);
    expect(r.explanation.headline).toBe(
      "pay/payments: up to 50% of new connections from 6 client pod(s) on 2 node(s) to 10.0.0.100:8080 loop back to the client's own node and time out (internal-LB loopback on Tencent TKE); cluster-wide exposure 37.5%.",
    );
    expect(r.explanation.services[0]!.callerCount).toBe(0);
    expect(renderExplanationText(r.explanation)).not.toContain('Known callers');
  });

  it('callers that do not loop are named, and the headline says they run where nothing loops', () => {
    const objects = workedExample('Local');
    // A client on n3 (no endpoint there) names the LB address in its args.
    for (const o of objects) {
      const spec = o.spec as { nodeName?: string; containers?: Array<Record<string, unknown>> } | undefined;
      if (o.kind === 'Pod' && o.metadata!.namespace === 'shop' && spec?.nodeName === 'n3')
        spec.containers = [{ name: 'app', image: 'app:1', args: ['--upstream=http://10.0.0.100:8080'] }];
    }
    const r = explain(analyzeCluster(clusterFromObjects(list(objects))), 'pay/payments');
    if (!r.ok) throw new Error(r.message);
    expect(r.explanation.headline).toContain(
      'Its 2 known caller(s), e.g. checkout on n3 calls 10.0.0.100:8080 (args of container app), run where none of their connections loop.',
    );
    expect(r.explanation.headline.startsWith('pay/payments: up to 50% of new connections')).toBe(true);
  });
});
