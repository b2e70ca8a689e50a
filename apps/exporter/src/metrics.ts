import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { serviceLinks, type ServiceAnalysis } from '@loopscope/core';
import type { Engine } from './engine';

type ServiceLabel = 'namespace' | 'service' | 'ingress_ip' | 'port' | 'protocol';

/**
 * The exporter's metrics. The model's families are built from the current analysis (so a deleted
 * Service or link stops being exported at once), its health on a prom-client registry of its own.
 * Names and labels are documented in the README ("Metrics"); alerts in deploy/prometheus use them.
 */
export interface ExporterMetrics {
  contentType: string;
  /** The exposition text of every family. */
  render(): Promise<string>;
  /** The prom-client registry of the exporter's own health. */
  registries: Registry[];
}

/**
 * The model's families are rendered once per analysis (thousands of series; between analyses a
 * scrape reuses the text); the exporter's health on every scrape.
 */
export function createMetrics(engine: Engine, options: { maxLinks: number }): ExporterMetrics {
  const health = new Registry();
  const model = new ModelFamilies();

  // A Service's rows are cached on its analysis (the live model replaces the analyses of the
  // Services a change moves); the ratio is read at render time, since it follows the pod count.
  const rowsCache = new WeakMap<ServiceAnalysis, ServiceRow[]>();
  const serviceRows = (sa: ServiceAnalysis, proxyMode: string): ServiceRow[] => {
    let rows = rowsCache.get(sa);
    if (rows && rows[0]?.info.proxy_mode === proxyMode) return rows;
    const svc = sa.service;
    const info = { traffic_policy: svc.trafficPolicy ?? 'invalid', proxy_mode: proxyMode, lb_scope: sa.scope, backend_kind: sa.backendKind, verdict: sa.verdict };
    if (sa.ingresses.length === 0) {
      // No analysed ingress (none yet, public, unknown): only the _info series says why.
      rows = [{ labels: { namespace: svc.namespace, service: svc.name, ingress_ip: svc.ingresses[0]?.ip ?? svc.ingresses[0]?.hostname ?? '', port: '', protocol: '' }, ratio: undefined, nodes: NaN, pods: NaN, info }];
    } else {
      rows = sa.ingresses.map((ing) => {
        const atRisk = ing.atRisk.filter((r) => r.clientPods > 0);
        return {
          labels: { namespace: svc.namespace, service: svc.name, ingress_ip: ing.ingress.ip ?? ing.ingress.hostname ?? '', port: String(ing.ingress.port), protocol: ing.ingress.protocol },
          ratio: () => ing.probability,
          nodes: atRisk.length,
          pods: atRisk.reduce((a, r) => a + r.clientPods, 0),
          info,
        };
      });
    }
    rowsCache.set(sa, rows);
    return rows;
  };
  const series = perAnalysis(engine, (): ServiceRow[] => {
    const analysis = engine.analysis;
    if (!analysis) return [];
    const modes = new Set(analysis.context.profile.nodes.map((n) => n.proxyMode.value));
    const proxyMode = modes.size === 1 ? [...modes][0]! : modes.size === 0 ? 'unknown' : 'mixed';
    const out: ServiceRow[] = [];
    for (const sa of analysis.services) if (sa.service.type === 'LoadBalancer') for (const row of serviceRows(sa, proxyMode)) out.push(row);
    return out;
  });
  const withIngress = (): ServiceRow[] => series().filter((x) => x.ratio !== undefined);
  model.family('loopscope_service_loopback_ratio', 'Probability (0-1) that a new connection from a client pod of the cluster to this LB ingress loops back to its own node and times out.', () =>
    withIngress().map((x) => ({ labels: x.labels, value: x.ratio!() })),
  );
  model.family('loopscope_service_at_risk_nodes', 'Nodes with client pods whose connections to this LB ingress can loop back.', () => withIngress().map((x) => ({ labels: x.labels, value: x.nodes })));
  model.family('loopscope_service_at_risk_client_pods', 'Client pods on the nodes at risk for this LB ingress.', () => withIngress().map((x) => ({ labels: x.labels, value: x.pods })));
  const infoLabels = new WeakMap<ServiceRow, Record<string, string>>();
  model.family('loopscope_service_info', 'LoadBalancer Service metadata: traffic policy, proxy mode, LB scope, backend kind and verdict (loopback, safe, not-applicable, unknown). Always 1.', () =>
    series().map((x) => {
      let labels = infoLabels.get(x);
      if (!labels) infoLabels.set(x, (labels = { ...x.labels, ...x.info }));
      return { labels, value: 1 };
    }),
  );
  // A Service's link samples are cached on its analysis too (most likely first, with a histogram
  // of their values): after a pod event only the Services the live model re-analysed have new
  // analyses, so only their links are built again, and the top --max-links are found from the
  // histograms (link probabilities take few distinct values) without sorting 100,000 links.
  const linkCache = new WeakMap<ServiceAnalysis, ServiceLinks>();
  const linksOf = (sa: ServiceAnalysis, analysis: NonNullable<Engine['analysis']>): ServiceLinks => {
    let cached = linkCache.get(sa);
    if (!cached) {
      const { cluster } = analysis.context;
      const samples = serviceLinks(analysis.context, sa).map((l) => {
        const w = cluster.workloads[l.workload]!;
        return {
          labels: { node: cluster.nodes[l.node]!.name, client_namespace: w.namespace, client_kind: w.kind, client_workload: w.name, namespace: sa.service.namespace, service: sa.service.name, ingress_ip: l.ingress.ip ?? l.ingress.hostname ?? '', port: String(l.ingress.port) },
          value: Math.round(l.probability * 1e6) / 1e6,
        };
      });
      samples.sort((a, b) => b.value - a.value);
      const histogram = new Map<number, number>();
      for (const x of samples) histogram.set(x.value, (histogram.get(x.value) ?? 0) + 1);
      linkCache.set(sa, (cached = { samples, histogram }));
    }
    return cached;
  };
  const links = perAnalysis(engine, (): { top: Sample[]; total: number } => {
    const analysis = engine.analysis;
    if (!analysis) return { top: [], total: 0 };
    const perService: ServiceLinks[] = [];
    const histogram = new Map<number, number>();
    let total = 0;
    for (const sa of analysis.services) {
      if (sa.probability <= 0) continue;
      const l = linksOf(sa, analysis);
      perService.push(l);
      total += l.samples.length;
      for (const [v, n] of l.histogram) histogram.set(v, (histogram.get(v) ?? 0) + n);
    }
    // The value of the max-links-th most likely link, and how many links at that value still fit.
    let threshold = -Infinity;
    let ties = Infinity;
    if (total > options.maxLinks) {
      let above = 0;
      for (const v of [...histogram.keys()].sort((a, b) => b - a)) {
        const n = histogram.get(v)!;
        if (above + n >= options.maxLinks) {
          threshold = v;
          ties = options.maxLinks - above;
          break;
        }
        above += n;
      }
    }
    const top: Sample[] = [];
    for (const l of perService) {
      for (const x of l.samples) {
        if (x.value > threshold) top.push(x);
        else if (x.value === threshold && ties > 0) {
          top.push(x);
          ties--;
        } else break; // most likely first: the rest are lower
      }
    }
    return { top, total };
  });
  model.family(
    'loopscope_link_loopback_ratio',
    'Probability (0-1) that a new connection from this client workload on this node to this LB ingress loops back. Only links with probability > 0, capped by --max-links.',
    () => links().top,
  );
  model.family('loopscope_links_omitted', 'Links with probability > 0 left out of loopscope_link_loopback_ratio by --max-links (lowest probability first).', () => [{ labels: {}, value: links().total - links().top.length }]);
  model.family("loopscope_observed_unreplied_connections", "Connections from local pods to this Service's LB seen unanswered ([UNREPLIED] in conntrack) in the node dumps: observed failures, not predictions.", () => {
    const analysis = engine.analysis;
    const out: Sample[] = [];
    for (const sa of analysis?.services ?? []) {
      for (const [node, n] of sa.observed?.byNode ?? []) out.push({ labels: { namespace: sa.service.namespace, service: sa.service.name, node: analysis!.context.cluster.nodes[node]!.name }, value: n });
    }
    return out;
  });

  const durations = new Histogram({
    name: 'loopscope_analysis_duration_seconds',
    help: 'Time to bring the analysis up to date after a change (full rebuild or incremental).',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [health],
  });
  let seen = 0;
  new Gauge({
    name: 'loopscope_last_successful_analysis_timestamp_seconds',
    help: 'Unix time the analysis was last known current: a successful recompute, or a check (every minute) that nothing changed.',
    registers: [health],
    collect() {
      // Move new durations into the histogram here, so the engine needs no prom-client.
      const all = engine.health.analysisDurations;
      for (; seen < all.length; seen++) durations.observe(all[seen]!);
      if (all.length > 1000) {
        all.splice(0, seen);
        seen = 0;
      }
      if (engine.health.lastSuccessfulAnalysis !== undefined) this.set(engine.health.lastSuccessfulAnalysis / 1000);
    },
  });
  new Gauge({
    name: 'loopscope_input_age_seconds',
    help: 'Seconds the input (watches or snapshot) may be out of date: 0 while the source is healthy, else the time since it was last known current.',
    registers: [health],
    collect() {
      const age = engine.inputAgeSeconds();
      if (age !== undefined) this.set(age);
    },
  });
  new Gauge({
    name: 'loopscope_ready',
    help: '1 once the first full sync has been analysed.',
    registers: [health],
    collect() {
      this.set(engine.health.ready ? 1 : 0);
    },
  });
  const counter = (name: string, help: string, source: () => Map<string, number>): void => {
    new Counter({
      name,
      help,
      labelNames: ['resource'],
      registers: [health],
      collect() {
        // The engine keeps the totals; the counter mirrors them.
        this.reset();
        for (const [resource, n] of source()) this.inc({ resource }, n);
      },
    });
  };
  counter('loopscope_watch_restarts_total', 'Watches restarted (dropped connection, error, 410 Gone), by resource.', () => engine.health.watchRestarts);
  counter('loopscope_watch_errors_total', 'List or watch failures (API server unreachable, 5xx, forbidden), by resource.', () => engine.health.watchErrors);
  counter('loopscope_objects_skipped_total', 'Objects skipped as malformed, by resource.', () => engine.health.objectsSkipped);
  counter('loopscope_watch_events_skipped_total', 'Watch events skipped as unusable (malformed, over the size cap), by resource.', () => engine.health.eventsSkipped);
  const modelText = perAnalysis(engine, () => model.render());
  return {
    contentType: health.contentType,
    render: async () => `${modelText()}${await health.metrics()}`,
    registries: [health],
  };
}

type Sample = { labels: Record<string, string>; value: number };

/** `compute()` once per analysis: scrapes in between reuse it. */
function perAnalysis<T>(engine: Engine, compute: () => T): () => T {
  let cache: { analysis: unknown; value: T } | undefined;
  return () => {
    if (!cache || cache.analysis !== engine.analysis) cache = { analysis: engine.analysis, value: compute() };
    return cache.value;
  };
}

type ServiceLinks = { samples: Sample[]; histogram: Map<number, number> };

type ServiceRow = {
  labels: Record<ServiceLabel, string>;
  /** Read at render time; undefined for a Service without an analysed ingress. */
  ratio: (() => number) | undefined;
  nodes: number;
  pods: number;
  info: Record<string, string>;
};

/**
 * The model's gauge families in the Prometheus text format. Thousands of series change value with
 * every analysis but rarely their labels, so each label set's text is built once (cached on the
 * sample's label object) — prom-client would escape and join every label on every render. The
 * exporter's own health stays on a prom-client registry.
 */
class ModelFamilies {
  private readonly families: Array<{ name: string; help: string; samples: () => Sample[] }> = [];
  private readonly prefixes = new WeakMap<Record<string, string>, string>();

  family(name: string, help: string, samples: () => Sample[]): void {
    this.families.push({ name, help, samples });
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} gauge\n`);
      for (const s of f.samples()) out.push(`${f.name}${this.labelText(s.labels)} ${formatValue(s.value)}\n`);
    }
    return out.join('');
  }

  private labelText(labels: Record<string, string>): string {
    let text = this.prefixes.get(labels);
    if (text === undefined) {
      const keys = Object.keys(labels);
      text = keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`).join(',')}}`;
      this.prefixes.set(labels, text);
    }
    return text;
  }
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
