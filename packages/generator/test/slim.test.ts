import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCluster, buildReport, clusterFromObjects, slimObject, type KubeObject } from '@loopscope/core';
import { generateCluster } from '../src';

function figures(items: unknown[]) {
  const report = buildReport(analyzeCluster(clusterFromObjects({ kind: 'List', items })), { now: new Date(0) });
  return { services: report.services, links: report.links, cluster: report.cluster };
}

describe('slimObject keeps exactly what the model reads', () => {
  it('the demo cluster gives the same report slim as full', () => {
    const items = JSON.parse(readFileSync(join(__dirname, '..', '..', 'demo', 'demo-cluster.json'), 'utf8')).items as KubeObject[];
    const slim = items.map(slimObject).filter((o): o is KubeObject => o !== undefined);
    expect(figures(slim)).toEqual(figures(items));
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(items).length / 4);
  });

  it.each(['tke', 'aws', 'azure', 'gcp'] as const)('a generated %s cluster gives the same report slim as full', (provider) => {
    const items = generateCluster({
      seed: 3,
      provider,
      nodes: 20,
      pods: 400,
      services: 40,
      internalLbServices: 15,
      publicLbServices: 3,
      directToPodShare: 0.3,
      ipModeProxyShare: 0.2,
      awsIngressIp: true,
    }).toList().items as KubeObject[];
    const slim = items.map(slimObject).filter((o): o is KubeObject => o !== undefined);
    expect(figures(slim)).toEqual(figures(items));
  });
});
