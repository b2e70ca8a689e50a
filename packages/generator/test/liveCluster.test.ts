/**
 * The live model converges to the same figures as a from-scratch analysis of the same objects,
 * whatever the order of events, and re-analyses only what a change can move.
 */
import { analyzeCluster, clusterFromObjects, LiveCluster, type KubeObject } from '@loopscope/core';
import { generateCluster } from '../src';

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

function fromScratch(objects: Obj[]) {
  return figures(analyzeCluster(clusterFromObjects({ kind: 'List', items: objects })).services);
}

function seeded(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

describe('LiveCluster', () => {
  const generated = generateCluster({
    seed: 11,
    provider: 'tke',
    nodes: 12,
    pods: 300,
    services: 30,
    internalLbServices: 12,
    publicLbServices: 2,
    localShare: 0.6,
    directToPodShare: 0.3,
    fixedBuildShare: 0.5,
  });
  const items = () => JSON.parse(JSON.stringify(generated.toList().items)) as Obj[];

  function load(objects: Obj[]): LiveCluster {
    const live = new LiveCluster();
    const byKind = new Map<string, Obj[]>();
    for (const o of objects) {
      const list = byKind.get(o.kind!) ?? [];
      list.push(o);
      byKind.set(o.kind!, list);
    }
    for (const [kind, list] of byKind) live.replace(kind, list);
    expect(live.recompute().mode).toBe('full');
    return live;
  }

  it('a full sync gives the same figures as the batch analysis', () => {
    const objects = items();
    const live = load(objects);
    expect(figures(live.analysis!.services)).toEqual(fromScratch(objects));
  });

  it('random pod and endpoint events converge to the batch figures, incrementally', () => {
    const objects = items();
    const live = load(objects);
    const rand = seeded(5);
    const pods = () => objects.filter((o) => o.kind === 'Pod' && o.metadata!.namespace !== 'kube-system');
    const nodes = objects.filter((o) => o.kind === 'Node').map((n) => n.metadata!.name!);
    let incremental = 0;
    for (let step = 0; step < 60; step++) {
      const r = rand();
      const list = pods();
      const pod = list[Math.floor(rand() * list.length)]!;
      if (r < 0.3) {
        // a new client pod (a copy on another node)
        const copy: Obj = JSON.parse(JSON.stringify(pod));
        copy.metadata!.name = `${pod.metadata!.name}-x${step}`;
        copy.spec.nodeName = nodes[Math.floor(rand() * nodes.length)];
        copy.status.podIP = `172.31.${step}.${Math.floor(rand() * 250) + 1}`;
        objects.push(copy);
        live.upsert(copy);
      } else if (r < 0.55) {
        objects.splice(objects.indexOf(pod), 1);
        live.remove(pod);
      } else if (r < 0.75) {
        pod.status.phase = pod.status.phase === 'Running' ? 'Succeeded' : 'Running';
        live.upsert(pod);
      } else if (r < 0.9) {
        const slices = objects.filter((o) => o.kind === 'EndpointSlice' && o.endpoints?.length);
        const slice = slices[Math.floor(rand() * slices.length)]!;
        const ep = slice.endpoints[Math.floor(rand() * slice.endpoints.length)];
        ep.conditions = { ...ep.conditions, ready: !(ep.conditions?.ready ?? true) };
        live.upsert(slice);
      } else {
        // a status-only update: nothing the model reads changes
        pod.status.conditions = [
          { type: 'Ready', status: 'True', lastTransitionTime: `2026-11-29T00:00:${String(step % 60).padStart(2, '0')}Z` },
        ];
        expect(live.upsert(pod)).toBe(false);
      }
      const result = live.recompute();
      if (result.mode === 'incremental') incremental++;
      expect(figures(live.analysis!.services)).toEqual(fromScratch(objects));
    }
    expect(incremental).toBeGreaterThan(40);
  });

  it('a Service change re-analyses that Service only; a node change rebuilds', () => {
    const objects = items();
    const live = load(objects);
    const svc = objects.find((o) => o.kind === 'Service' && o.spec.type === 'LoadBalancer' && o.spec.externalTrafficPolicy === 'Local')!;
    svc.spec.externalTrafficPolicy = 'Cluster';
    live.upsert(svc);
    const r = live.recompute();
    expect(r).toMatchObject({ mode: 'incremental', servicesAnalysed: 1 });
    expect(figures(live.analysis!.services)).toEqual(fromScratch(objects));
    const node = objects.find((o) => o.kind === 'Node')!;
    node.metadata!.labels!['node.kubernetes.io/exclude-from-external-load-balancers'] = 'true';
    live.upsert(node);
    expect(live.recompute().mode).toBe('full');
    expect(figures(live.analysis!.services)).toEqual(fromScratch(objects));
  });
});
