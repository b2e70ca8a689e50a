import {
  buildReport,
  formatProblem,
  LiveCluster,
  type ClusterAnalysis,
  type KubeObject,
  type NodeEvidence,
  type ProfileOverrides,
  type Report,
  type ReportOptions,
  reportSteps,
} from '@loopscope/core';
import type { HealthResource, ObjectSink, SourceHealth, WatchedResource } from './sources/types';
import type { Logger } from '@loopscope/core/node';

const KIND_RESOURCE: Record<string, WatchedResource> = {
  Node: 'nodes',
  Pod: 'pods',
  Service: 'services',
  EndpointSlice: 'endpointslices',
  ConfigMap: 'configmaps',
};

/** The kind each watched resource carries (a snapshot passes kinds directly). */
const RESOURCE_KIND: Record<WatchedResource, string> = {
  nodes: 'Node',
  pods: 'Pod',
  services: 'Service',
  endpointslices: 'EndpointSlice',
  configmaps: 'ConfigMap',
};

export interface EngineOptions {
  overrides?: ProfileOverrides;
  nodeDumps?: Map<string, NodeEvidence>;
  /** Wait this long after a change for more before recomputing (a rollout is many events). */
  debounceMs?: number;
  log?: Logger;
  now?: () => number;
  /** How often to confirm the analysis is current when nothing changes (default 60 s). */
  heartbeatMs?: number;
}

/** Counters and gauges of the exporter's own health, read by the metrics. */
export interface EngineHealth {
  watchRestarts: Map<HealthResource, number>;
  watchErrors: Map<HealthResource, number>;
  objectsSkipped: Map<HealthResource, number>;
  /** Watch events skipped as unusable (malformed line, over the size cap), each one counted. */
  eventsSkipped: Map<HealthResource, number>;
  analysisDurations: number[];
  lastSuccessfulAnalysis?: number;
  /** When the input was last known to be current (a sync, an event); undefined before the first. */
  inputFreshAt?: number;
  /** A list or watch has failed since then: the input may be going stale. */
  inputFailing: boolean;
  /** The resources whose last report was a failure (inputFailing while any is left). */
  failingResources: Set<HealthResource>;
  ready: boolean;
}

/**
 * Between the sources and the outputs: objects go into the live model, changes are debounced and
 * recomputed, and the last good analysis and report are kept for the metrics, the API and the
 * panel. A failing recompute keeps the last good answer; nothing here throws at a source.
 */
export class Engine implements ObjectSink, SourceHealth {
  readonly live: LiveCluster;
  readonly health: EngineHealth = {
    watchRestarts: new Map(),
    watchErrors: new Map(),
    objectsSkipped: new Map(),
    eventsSkipped: new Map(),
    analysisDurations: [],
    ready: false,
    inputFailing: false,
    failingResources: new Set(),
  };
  private timer?: NodeJS.Timeout;
  /**
   * Counts analyses: caches of the outputs key on it rather than hold the analysis itself, so an
   * old analysis is freed as soon as it is replaced.
   */
  generation = 0;
  /** Reports of the current analysis only, by options: a new analysis drops them all. */
  private reports: { analysis?: ClusterAnalysis; byOptions: Map<string, Report> } = { byOptions: new Map() };
  private readonly loggedSkips = new Set<string>();
  /**
   * Reports being built in slices: the live model updates its analysis in place, so a recompute
   * waits until they are done (one build at most) and then runs.
   */
  private reportsInProgress = 0;
  private recomputeHeld = false;
  /** Called after each successful recompute (the benchmark and tests wait on it). */
  onRecompute?: (result: ReturnType<LiveCluster['recompute']>) => void;

  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: EngineOptions = {}) {
    this.live = new LiveCluster({ overrides: options.overrides, nodeDumps: options.nodeDumps });
    // Confirms the analysis is current even when no change arrives (see recompute).
    this.heartbeat = setInterval(() => this.recompute(), options.heartbeatMs ?? 60_000);
    this.heartbeat.unref?.();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  // --- ObjectSink ---
  replace(resource: WatchedResource, objects: KubeObject[]): void {
    for (const reason of this.live.replace(RESOURCE_KIND[resource] ?? resource, objects))
      this.objectSkipped(resource, `malformed object: ${reason}`);
    this.changed();
  }

  upsert(resource: WatchedResource, object: KubeObject): void {
    if (this.guard(resource, () => this.live.upsert(object))) this.changed();
    else this.fresh();
  }

  remove(resource: WatchedResource, object: KubeObject): void {
    if (this.guard(resource, () => this.live.remove(object))) this.changed();
  }

  // --- SourceHealth ---
  watchRestarted(resource: HealthResource, reason: string): void {
    bump(this.health.watchRestarts, resource);
    this.options.log?.('warn', `watch on ${resource} restarted: ${reason}`);
  }

  watchError(resource: HealthResource, message: string): void {
    bump(this.health.watchErrors, resource);
    this.health.failingResources.add(resource);
    this.health.inputFailing = true;
    this.options.log?.('error', `${resource}: ${message}`);
  }

  objectSkipped(resource: HealthResource, reason: string): void {
    // Counted and logged once per distinct problem: a broken object re-sent on every relist, or
    // found again by every full rebuild, is one problem.
    const key = `${resource}|${reason}`;
    if (this.loggedSkips.has(key)) return;
    if (this.loggedSkips.size < 10_000) this.loggedSkips.add(key);
    bump(this.health.objectsSkipped, resource);
    this.options.log?.('warn', `skipped ${resource} object: ${reason}`);
  }

  /** Counted every time (each is a distinct event); the source logs each reason once. */
  eventSkipped(resource: HealthResource, _reason: string): void {
    bump(this.health.eventsSkipped, resource);
  }

  synced(resource: HealthResource): void {
    this.health.failingResources.delete(resource);
    this.fresh();
  }

  /** The input is current as of now, unless another resource is still failing. */
  private fresh(): void {
    if (this.health.failingResources.size > 0) return;
    this.health.inputFreshAt = this.now();
    this.health.inputFailing = false;
  }

  /**
   * Seconds the input may be out of date: 0 while the source is healthy (a quiet watch is current),
   * else the time since it was last known current.
   */
  inputAgeSeconds(): number | undefined {
    const at = this.health.inputFreshAt;
    if (at === undefined) return undefined;
    return this.health.inputFailing ? Math.max(0, (this.now() - at) / 1000) : 0;
  }

  /** An object the model cannot even slim is skipped and counted; the exporter keeps going. */
  private guard(resource: WatchedResource, f: () => boolean): boolean {
    try {
      return f();
    } catch (err) {
      this.objectSkipped(resource, `malformed object: ${(err as Error).message}`);
      return false;
    }
  }

  private changed(): void {
    this.fresh();
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.recompute();
    }, this.options.debounceMs ?? 500);
    this.timer.unref?.();
  }

  /** Recomputes now (the debounce calls it; the first sync and tests call it directly). */
  recompute(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.reportsInProgress > 0) {
      this.recomputeHeld = true;
      return;
    }
    try {
      const result = this.live.recompute();
      if (result.mode === 'none') {
        // Nothing changed: the analysis is still current, and the stale alert must not fire in a
        // quiet cluster.
        if (this.health.ready) this.health.lastSuccessfulAnalysis = this.now();
        return;
      }
      this.health.analysisDurations.push(result.durationMs / 1000);
      this.health.lastSuccessfulAnalysis = this.now();
      this.health.ready = true;
      // A new analysis: what was built from the old one goes now, not when a reader next asks
      // (an API nobody calls for hours must not keep the old analysis alive beside the new one).
      this.generation++;
      this.reports = { byOptions: new Map() };
      this.onRecompute?.(result);
      if (result.mode === 'full') {
        for (const p of this.live.problems) this.objectSkipped(KIND_RESOURCE[p.kind ?? ''] ?? 'snapshot', formatProblem(p));
      }
    } catch (err) {
      // Keep serving the last good analysis; the stale-analysis alert will tell.
      // One line, no stack trace (the message names what failed; the log is read by people).
      this.options.log?.(
        'error',
        `analysis failed, keeping the last good one: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`.slice(0, 500),
      );
    }
  }

  get analysis(): ClusterAnalysis | undefined {
    return this.live.analysis;
  }

  /**
   * The loopscope/v1 report of the current analysis, built once per analysis and options. Fixes
   * cost a what-if each and links are 100,000s of objects at scale, so each reader asks only for
   * what it shows. Reports of an older analysis are dropped, not kept beside the new one.
   *
   * Built in slices of about `sliceMs` with a turn of the event loop between them: a cold report of
   * 150,000 pods is seconds of work, and `/healthz` must be answered meanwhile.
   */
  async reportInTurns(options: ReportRequest = {}, sliceMs = REPORT_SLICE_MS): Promise<Report | undefined> {
    const analysis = this.live.analysis;
    if (!analysis) return undefined;
    const kept = this.keptReport(analysis, options);
    if (kept) return kept;
    const steps = reportSteps(analysis, this.reportOptions(options));
    this.reportsInProgress++;
    try {
      let sliceEnd = performance.now() + sliceMs;
      for (;;) {
        const step = steps.next();
        if (step.done) {
          this.reports.byOptions.set(reportKey(options), step.value);
          return step.value;
        }
        if (performance.now() >= sliceEnd) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceEnd = performance.now() + sliceMs;
        }
      }
    } finally {
      this.reportsInProgress--;
      if (this.reportsInProgress === 0 && this.recomputeHeld) {
        this.recomputeHeld = false;
        // After the reader has used this report (it shares objects with the analysis).
        setImmediate(() => this.recompute());
      }
    }
  }

  /** The same report at once (for a reader that cannot wait; `reportInTurns` first keeps it ready). */
  currentReport(options: ReportRequest = {}): Report | undefined {
    const analysis = this.live.analysis;
    if (!analysis) return undefined;
    let report = this.keptReport(analysis, options);
    if (!report) {
      report = buildReport(analysis, this.reportOptions(options));
      this.reports.byOptions.set(reportKey(options), report);
    }
    return report;
  }

  private reportOptions(options: ReportRequest): ReportOptions {
    return {
      fixes: options.fixes !== false,
      links: options.links !== false,
      now: new Date(this.health.lastSuccessfulAnalysis ?? this.now()),
    };
  }

  /** The report kept for this analysis and options, if any (see ReportRequest.acceptFuller). */
  private keptReport(analysis: ClusterAnalysis, options: ReportRequest): Report | undefined {
    if (this.reports.analysis !== analysis) this.reports = { analysis, byOptions: new Map() };
    // With `acceptFuller`, a report with fixes and links already built serves a narrower question
    // (the reader picks its fields): the report, the Service list and the links of one analysis are
    // one build, not three.
    return this.reports.byOptions.get(reportKey(options)) ?? (options.acceptFuller ? this.reports.byOptions.get('true/true') : undefined);
  }

  /**
   * The node agents' dumps (fresh ones only): they join the `--node-dumps` read at start, a node's
   * live dumps replacing its static ones. Recomputed after the debounce.
   */
  setLiveNodeDumps(live: Map<string, NodeEvidence>): void {
    const merged = new Map(this.options.nodeDumps ?? []);
    for (const [node, e] of live) merged.set(node, e);
    this.live.setNodeDumps(merged.size > 0 ? merged : undefined);
    this.changed();
  }

  stop(): void {
    clearInterval(this.heartbeat);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Long enough that the turns cost little, short enough that a probe waits a fraction of a second. */
const REPORT_SLICE_MS = 25;

export interface ReportRequest {
  fixes?: boolean;
  links?: boolean;
  /** A report with fixes and links, if already built, will do. */
  acceptFuller?: boolean;
}

function reportKey(options: ReportRequest): string {
  return `${options.fixes !== false}/${options.links !== false}`;
}

function bump<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
