import type { ClusterAnalysis } from '../analysis/analyze';
import { atRiskNodes } from '../analysis/exposure';
import type { Report } from './report';

/**
 * The counts every answer opens with (the report and the at-risk list): Services per verdict, and
 * the client pods on nodes where some Service's connections loop, each node counted once.
 */
export function reportSummary(analysis: ClusterAnalysis): Report['summary'] {
  const { cluster } = analysis.context;
  const summary: Report['summary'] = {
    services: 0,
    clientPods: cluster.clientPodCount,
    clientPodsAtRisk: 0,
    loopback: 0,
    unreachable: 0,
    safe: 0,
    'not-applicable': 0,
    unknown: 0,
  };
  const nodesAtRisk = new Set<number>();
  for (const sa of analysis.services) {
    summary.services++;
    summary[sa.verdict]++;
    for (const n of atRiskNodes(sa)) nodesAtRisk.add(n);
  }
  for (const n of nodesAtRisk) summary.clientPodsAtRisk += cluster.nodes[n]!.clientPods;
  return summary;
}
