import { readFileSync } from 'node:fs';
import {
  analyzeCluster,
  buildReport,
  explain,
  loadCluster,
  LoopscopeError,
  whatIf,
  type ClusterAnalysis,
  type WhatIfChange,
} from '@loopscope/core';
import { demoSnapshotPath } from '@loopscope/demo';
import type { AtRiskList, AtRiskQuery, ClusterApi, ExplainLookup, WhatIfOutcome } from './clusterApi';

/**
 * The bundled demo cluster analysed in this process, answering like an exporter would: lets the
 * console mode be tried with nothing running.
 */
export class DemoCluster implements ClusterApi {
  readonly location = 'the bundled demo cluster';
  private analysis?: ClusterAnalysis;

  constructor(readonly name = 'demo') {}

  private analyse(): ClusterAnalysis {
    if (!this.analysis) {
      const file = demoSnapshotPath();
      this.analysis = analyzeCluster(loadCluster([{ name: file, text: readFileSync(file, 'utf8') }]));
    }
    return this.analysis;
  }

  async explain(target: string): Promise<ExplainLookup> {
    const result = explain(this.analyse(), target);
    if (result.ok) return { status: 'found', explanation: result.explanation };
    return { status: result.problem, message: result.message, suggestions: result.suggestions };
  }

  async atRisk(query: AtRiskQuery): Promise<AtRiskList> {
    const report = buildReport(this.analyse(), { fixes: false, links: false });
    const services = report.services
      .filter((s) => s.verdict === 'loopback' && (!query.namespace || s.namespace === query.namespace))
      .sort((a, b) => b.worstClientProbability - a.worstClientProbability || b.loopbackProbability - a.loopbackProbability)
      .map((s) => ({
        namespace: s.namespace,
        name: s.name,
        worstClientProbability: s.worstClientProbability,
        loopbackProbability: s.loopbackProbability,
        atRiskNodes: s.atRiskNodes.length,
        clientPodsOnAtRiskNodes: s.clientPodsOnAtRiskNodes,
        affectedWorkloads: s.affectedWorkloads.length,
      }));
    return { summary: report.summary, total: services.length, services: services.slice(0, query.limit) };
  }

  async whatIf(changes: WhatIfChange[]): Promise<WhatIfOutcome> {
    try {
      return { ok: true, result: whatIf(this.analyse(), changes) };
    } catch (err) {
      if (err instanceof LoopscopeError) return { ok: false, message: err.message };
      throw err;
    }
  }
}
