import type { ClusterAnalysis } from '../analysis/analyze';
import { atRiskNodes, serviceLinks } from '../analysis/exposure';
import { round } from '../analysis/service';
import { worstClientProbability } from '../analysis/worstClient';
import type { Report } from './report';
import { reportSummary } from './summary';

/** One Service at risk, with counts instead of the lists the full report carries. */
export interface AtRiskService {
  namespace: string;
  name: string;
  /** The headline: the largest p over the Service's client pods (the list ranks by it). */
  worstClientProbability: number;
  loopbackProbability: number;
  atRiskNodes: number;
  clientPodsOnAtRiskNodes: number;
  affectedWorkloads: number;
}

/** `GET /api/v1/services/at-risk`: what "which services are at risk" needs, worst first. */
export interface AtRiskList {
  apiVersion: 'loopscope/v1';
  generatedAt: string;
  summary: Report['summary'];
  /** Services with verdict `loopback` (in the namespace, when one is asked for). */
  total: number;
  /** Worst first: by the worst-client figure, then the cluster exposure. */
  services: AtRiskService[];
}

/**
 * `GET /api/v1/services/at-risk` of the exporter, and what the Slack bot's "which services are at
 * risk" reads. Built from the analysis, not the report: no fixes (a what-if each), no per-link objects. The
 * links of a Service at risk come from core's per-analysis cache, which the metrics fill too.
 */
export function atRiskList(analysis: ClusterAnalysis, options: { generatedAt: string; namespace?: string; limit?: number }): AtRiskList {
  const { cluster } = analysis.context;
  const services: AtRiskService[] = [];
  for (const sa of analysis.services) {
    if (sa.verdict !== 'loopback' || (options.namespace && sa.service.namespace !== options.namespace)) continue;
    const nodes = atRiskNodes(sa);
    const workloads = new Set<number>();
    for (const l of serviceLinks(analysis.context, sa)) workloads.add(l.workload);
    services.push({
      namespace: sa.service.namespace,
      name: sa.service.name,
      worstClientProbability: round(worstClientProbability(sa)),
      loopbackProbability: round(sa.probability),
      atRiskNodes: nodes.length,
      clientPodsOnAtRiskNodes: nodes.reduce((a, n) => a + cluster.nodes[n]!.clientPods, 0),
      affectedWorkloads: workloads.size,
    });
  }
  services.sort(
    (a, b) =>
      b.worstClientProbability - a.worstClientProbability ||
      b.loopbackProbability - a.loopbackProbability ||
      b.clientPodsOnAtRiskNodes - a.clientPodsOnAtRiskNodes ||
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
  );
  return {
    apiVersion: 'loopscope/v1',
    generatedAt: options.generatedAt,
    summary: reportSummary(analysis),
    total: services.length,
    services: options.limit !== undefined ? services.slice(0, options.limit) : services,
  };
}
