import { readFileSync } from 'node:fs';
import { analyzeCluster, buildReport, explain, loadCluster, LoopscopeError, whatIf, type ClusterAnalysis, type WhatIfChange } from '@loopscope/core';
import { demoSnapshotPath } from '@loopscope/core/node';
import type { AtRiskList, ClusterApi, ExplainLookup, WhatIfOutcome } from './clusterApi';

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

  async atRisk(): Promise<AtRiskList> {
    const report = buildReport(this.analyse(), { maxLinks: 0 });
    return { summary: report.summary, services: report.services.filter((s) => s.verdict === 'loopback').sort((a, b) => b.loopbackProbability - a.loopbackProbability) };
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
