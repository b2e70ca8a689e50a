/**
 * The live model converges to the same figures as a from-scratch analysis of the same objects,
 * whatever the order of events, and re-analyses only what a change can move. (The same on random
 * generated clusters: packages/generator/test/liveCluster.test.ts.)
 */
import { analyzeCluster, clusterFromObjects, LiveCluster, type KubeObject } from '../../src';
import { unreachableClients } from '../../src/analysis/unreachable';
import { workedExample } from './builders';

type Obj = KubeObject & Record<string, any>;

function figures(
  services: Array<{
    service: { namespace: string; name: string };
    verdict: string;
    probability: number;
    ingresses: Array<{ atRisk: Array<{ node: number; clientPods: number }> }>;
  }>,
) {
  return services.map((s) => ({
    svc: `${s.service.namespace}/${s.service.name}`,
    verdict: s.verdict,
    p: Math.round(s.probability * 1e9) / 1e9,
    atRisk: s.ingresses.map((i) => i.atRisk.filter((r) => r.clientPods > 0).length),
  }));
}

describe('LiveCluster and malformed objects', () => {
  it('a list with objects it cannot read keeps the rest and says which', () => {
    const live = new LiveCluster();
    const skipped = live.replace('Service', [
      { kind: 'Service', metadata: { name: 'ok', namespace: 'a' }, spec: { type: 'ClusterIP', ports: [{ port: 80 }] } },
      { kind: 'Service', metadata: { name: 'bad', namespace: 'a' }, spec: { ports: { not: 'a list' } } } as never,
    ]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain('Service a/bad (item 1)');
    live.recompute();
    expect(live.analysis!.services.map((s) => s.service.name)).toEqual(['ok']);
    // An update of a broken object throws to the caller (the exporter counts it); the model is intact.
    expect(() => live.upsert({ kind: 'Service', metadata: { name: 'bad2', namespace: 'a' }, spec: { ports: 'x' } } as never)).toThrow();
    expect(live.recompute().mode).toBe('none');
  });
});

describe('LiveCluster with v2 inputs', () => {
  // The worked example with v1 Endpoints instead of its EndpointSlice and source ranges on the Service.

  function example(): Obj[] {
    const objects = workedExample('Local') as Obj[];
    const i = objects.findIndex((o) => o.kind === 'EndpointSlice');
    const slice = objects[i]!;
    objects[i] = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { namespace: 'pay', name: 'payments' },
      subsets: [
        {
          addresses: slice.endpoints.map((e: Obj) => ({ ip: e.addresses[0], nodeName: e.nodeName, targetRef: e.targetRef })),
          notReadyAddresses: [],
          ports: slice.ports,
        },
      ],
    };
    const svc = objects.find((o) => o.kind === 'Service')!;
    svc.spec.selector = { app: 'payments' };
    svc.spec.loadBalancerSourceRanges = ['172.16.0.0/16'];
    return objects;
  }
  const withQ = (analysis: ReturnType<typeof analyzeCluster>) => ({
    figures: figures(analysis.services),
    unreachable: analysis.services.map((s) => unreachableClients(analysis.context, s)?.clientPods ?? 0),
  });

  it('Endpoints, source ranges and pods on unknown nodes converge to the batch figures', () => {
    const objects = example();
    const live = new LiveCluster();
    const byKind = new Map<string, Obj[]>();
    for (const o of objects) byKind.set(o.kind!, [...(byKind.get(o.kind!) ?? []), o]);
    for (const [kind, list] of byKind) live.replace(kind, list);
    live.recompute();
    const batch = () => withQ(analyzeCluster(clusterFromObjects({ kind: 'List', items: objects })));
    expect(withQ(live.analysis!)).toEqual(batch());
    expect(live.analysis!.services[0]!.probability).toBe(0.375);

    // A client pod whose IP is outside the ranges: q = 1 for it, incrementally.
    const outsider: Obj = JSON.parse(
      JSON.stringify(objects.find((o) => o.kind === 'Pod' && o.spec.nodeName === 'n1' && o.metadata!.namespace === 'shop')),
    );
    outsider.metadata!.name = 'checkout-outsider';
    outsider.status.podIP = '192.168.7.7';
    objects.push(outsider);
    live.upsert(outsider);
    expect(live.recompute().mode).toBe('incremental');
    expect(withQ(live.analysis!)).toEqual(batch());
    expect(withQ(live.analysis!).unreachable).toEqual([1]);

    // The Endpoints object changes: n2's endpoint not ready.
    const ep = objects.find((o) => o.kind === 'Endpoints')!;
    ep.subsets[0].notReadyAddresses = [ep.subsets[0].addresses.pop()];
    live.upsert(ep);
    expect(live.recompute()).toMatchObject({ mode: 'incremental', servicesAnalysed: 1 });
    expect(withQ(live.analysis!)).toEqual(batch());

    // A pod on a node the model has never seen: a full rebuild with a placeholder node.
    const stray: Obj = JSON.parse(JSON.stringify(outsider));
    stray.metadata!.name = 'checkout-stray';
    stray.spec.nodeName = 'n9';
    stray.status.podIP = '172.16.200.1';
    objects.push(stray);
    live.upsert(stray);
    expect(live.recompute().mode).toBe('full');
    expect(withQ(live.analysis!)).toEqual(batch());
    expect(live.analysis!.context.cluster.clientPodCount).toBe(10);
  });
});
