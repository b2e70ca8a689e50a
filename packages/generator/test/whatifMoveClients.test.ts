/**
 * The move-clients fix on generated clusters: moving every client workload (the fix as explain
 * offers it, figured from each ingress point's loop sum) gives the same prediction as naming every
 * workload (figured link by link), including pod backends whose own p differs from their node's.
 */
import { analyzeCluster, clusterFromObjects, whatIf, workloadLabel, type KubeObject } from '@loopscope/core';
import { generateCluster, type GenerateClusterOptions } from '../src';

const clusters: Array<[string, GenerateClusterOptions]> = [
  [
    'TKE IPVS, a third of the Services to pods',
    {
      seed: 11,
      provider: 'tke',
      proxyMode: 'ipvs',
      nodes: 60,
      pods: 1800,
      services: 120,
      internalLbServices: 40,
      localShare: 0.5,
      directToPodShare: 0.3,
    },
  ],
  [
    'AWS iptables, half to pods',
    { seed: 5, provider: 'aws', proxyMode: 'iptables', nodes: 40, pods: 1200, services: 80, internalLbServices: 30, directToPodShare: 0.5 },
  ],
];

test.each(clusters)('%s: every workload moved = each workload named', (_name, options) => {
  const g = generateCluster(options);
  const objects = Object.values(g.items).flat() as KubeObject[];
  const analysis = analyzeCluster(clusterFromObjects(objects));
  const everyWorkload = analysis.context.cluster.workloads.map((w) => workloadLabel(w));
  const looping = analysis.services.filter((s) => s.verdict === 'loopback');
  expect(looping.length).toBeGreaterThan(5);
  let moved = 0;
  for (const sa of looping) {
    const service = `${sa.service.namespace}/${sa.service.name}`;
    const all = whatIf(analysis, [{ kind: 'moveClients', service }]).services[0]!.after;
    const named = whatIf(analysis, [{ kind: 'moveClients', service, workloads: everyWorkload }]).services[0]!.after;
    expect(all.probability).toBeCloseTo(named.probability, 12);
    expect(all.worstClientProbability).toBeDefined();
    expect(all.worstClientProbability).toBeCloseTo(named.worstClientProbability!, 12);
    expect(all.verdict).toBe(named.verdict);
    if (all.probability < sa.probability) moved++;
  }
  expect(moved).toBeGreaterThan(0);
});
