import type { Explanation, Report, WhatIfChange, WhatIfResult } from '@loopscope/core';

/** What one cluster says about a target: an explanation, or why there is none. */
export type ExplainLookup =
  { status: 'found'; explanation: Explanation } | { status: 'unknown' | 'ambiguous'; message: string; suggestions: string[] };

/** A Service at risk as the exporter's compact list gives it: figures, not lists. */
export interface AtRiskService {
  namespace: string;
  name: string;
  /** The headline figure (what the worst-placed client suffers); absent from exporters before it. */
  worstClientProbability?: number;
  loopbackProbability: number;
  atRiskNodes: number;
  clientPodsOnAtRiskNodes: number;
  affectedWorkloads: number;
}

export interface AtRiskList {
  summary: Report['summary'];
  /** Services with verdict `loopback` (in the namespace asked for). */
  total: number;
  /** The worst of them, worst first (at most the limit asked for). */
  services: AtRiskService[];
}

export interface AtRiskQuery {
  namespace?: string;
  limit: number;
}

export type WhatIfOutcome = { ok: true; result: WhatIfResult } | { ok: false; message: string };

/**
 * One cluster the bot can ask: a loopscope exporter over HTTP, or the bundled demo cluster
 * analysed in-process (console mode with no exporter running).
 */
export interface ClusterApi {
  readonly name: string;
  /** Where it is, for messages: the exporter URL, or "the bundled demo cluster". */
  readonly location: string;
  explain(target: string): Promise<ExplainLookup>;
  atRisk(query: AtRiskQuery): Promise<AtRiskList>;
  whatIf(changes: WhatIfChange[]): Promise<WhatIfOutcome>;
}

/** The cluster did not answer (down, slow, not ready, not an exporter): answer from the others. */
export class ClusterUnavailable extends Error {
  constructor(
    readonly cluster: string,
    readonly reason: string,
  ) {
    super(`cluster ${cluster}: ${reason}`);
    this.name = 'ClusterUnavailable';
  }
}
