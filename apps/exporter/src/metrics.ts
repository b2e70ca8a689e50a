import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { serviceLinks, type ServiceAnalysis } from '@loopscope/core';
import type { Engine } from './engine';

const SERVICE_LABELS = ['namespace', 'service', 'ingress_ip', 'port', 'protocol'] as const;

/**
 * The exporter's metrics, on a registry of its own. Every family is filled in `collect()` from the
 * current analysis, so a deleted Service or link stops being exported at the next scrape.
 * Names and labels are documented in the README ("Metrics"); alerts in deploy/prometheus use them.
 */
export interface ExporterMetrics {
  contentType: string;
  /** The exposition text of every family. */
  render(): Promise<string>;
  /** Both registries (tests and the benchmark look inside). */
  registries: Registry[];
}

/**
 * Two registries of the exporter's own: the model's families, rendered once per analysis (thousands
 * of series; between analyses a scrape reuses the text), and the exporter's health, rendered on
 * every scrape.
 */
export function createMetrics(engine: Engine, options: { maxLinks: number }): ExporterMetrics {
  const registry = new Registry();
  const health = new Registry();
  const serviceSeries = (): Array<{ labels: Record<(typeof SERVICE_LABELS)[number], string>; ratio: number; nodes: number; pods: number; info: Record<string, string> }> => {
    const analysis = engine.analysis;
    if (!analysis) return [];
    const { profile } = analysis.context;
    const modes = new Set(profile.nodes.map((n) => n.proxyMode.value));
    const proxyMode = modes.size === 1 ? [...modes][0]! : modes.size === 0 ? 'unknown' : 'mixed';
    const out = [];
    for (const sa of analysis.services) {
      const svc = sa.service;
      if (svc.type !== 'LoadBalancer') continue;
      const info = { traffic_policy: svc.trafficPolicy ?? 'invalid', proxy_mode: proxyMode, lb_scope: sa.scope, backend_kind: sa.backendKind, verdict: sa.verdict };
      if (sa.ingresses.length === 0) {
        // No analysed ingress (none yet, public, unknown): only the _info series says why.
        out.push({ labels: { namespace: svc.namespace, service: svc.name, ingress_ip: svc.ingresses[0]?.ip ?? svc.ingresses[0]?.hostname ?? '', port: '', protocol: '' }, ratio: NaN, nodes: NaN, pods: NaN, info });
        continue;
      }
      for (const ing of sa.ingresses) {
        const atRisk = ing.atRisk.filter((r) => r.clientPods > 0);
        out.push({
          labels: { namespace: svc.namespace, service: svc.name, ingress_ip: ing.ingress.ip ?? ing.ingress.hostname ?? '', port: String(ing.ingress.port), protocol: ing.ingress.protocol },
          ratio: ing.probability,
          nodes: atRisk.length,
          pods: atRisk.reduce((a, r) => a + r.clientPods, 0),
          info,
        });
      }
    }
    return out;
  };

  const series = perAnalysis(engine, serviceSeries);

  const ratioValues = perAnalysis(engine, () => series().filter((x) => !Number.isNaN(x.ratio)).map((x) => ({ labels: x.labels, value: x.ratio })));
  const nodeValues = perAnalysis(engine, () => series().filter((x) => !Number.isNaN(x.nodes)).map((x) => ({ labels: x.labels, value: x.nodes })));
  const podValues = perAnalysis(engine, () => series().filter((x) => !Number.isNaN(x.pods)).map((x) => ({ labels: x.labels, value: x.pods })));
  const infoValues = perAnalysis(engine, () => series().map((x) => ({ labels: { ...x.labels, ...x.info }, value: 1 })));
  snapshotGauge(registry, 'loopscope_service_loopback_ratio', 'Probability (0-1) that a new connection from a client pod of the cluster to this LB ingress loops back to its own node and times out.', SERVICE_LABELS, ratioValues);
  snapshotGauge(registry, 'loopscope_service_at_risk_nodes', 'Nodes with client pods whose connections to this LB ingress can loop back.', SERVICE_LABELS, nodeValues);
  snapshotGauge(registry, 'loopscope_service_at_risk_client_pods', 'Client pods on the nodes at risk for this LB ingress.', SERVICE_LABELS, podValues);
  snapshotGauge(
    registry,
    'loopscope_service_info',
    'LoadBalancer Service metadata: traffic policy, proxy mode, LB scope, backend kind and verdict (loopback, safe, not-applicable, unknown). Always 1.',
    [...SERVICE_LABELS, 'traffic_policy', 'proxy_mode', 'lb_scope', 'backend_kind', 'verdict'],
    infoValues,
  );
  // A Service's link samples are cached on its analysis: after a pod event only the Services the
  // live model re-analysed have new analyses, so only their links are built again.
  const linkCache = new WeakMap<ServiceAnalysis, Array<Sample & { total: number }>>();
  const links = perAnalysis(engine, () => {
    const analysis = engine.analysis;
    if (!analysis) return [];
    const { cluster } = analysis.context;
    const all: Sample[] = [];
    for (const sa of analysis.services) {
      if (sa.probability <= 0) continue;
      let samples = linkCache.get(sa);
      if (!samples) {
        samples = serviceLinks(analysis.context, sa).map((l) => {
          const w = cluster.workloads[l.workload]!;
          return {
            labels: { node: cluster.nodes[l.node]!.name, client_namespace: w.namespace, client_kind: w.kind, client_workload: w.name, namespace: sa.service.namespace, service: sa.service.name, ingress_ip: l.ingress.ip ?? l.ingress.hostname ?? '', port: String(l.ingress.port) },
            value: Math.round(l.probability * 1e6) / 1e6,
            total: 0,
          };
        });
        linkCache.set(sa, samples);
      }
      for (const x of samples) all.push(x);
    }
    const top = all.length > options.maxLinks ? mostLikely(all, options.maxLinks) : all;
    return top.map((x) => ({ labels: x.labels, value: x.value, total: all.length }));
  });
  snapshotGauge(
    registry,
    'loopscope_link_loopback_ratio',
    'Probability (0-1) that a new connection from this client workload on this node to this LB ingress loops back. Only links with probability > 0, capped by --max-links.',
    ['node', 'client_namespace', 'client_kind', 'client_workload', 'namespace', 'service', 'ingress_ip', 'port'],
    links,
  );
  new Gauge({
    name: 'loopscope_links_omitted',
    help: 'Links with probability > 0 left out of loopscope_link_loopback_ratio by --max-links (lowest probability first).',
    registers: [registry],
    collect() {
      const values = links();
      this.set(values.length ? Math.max(0, values[0]!.total - values.length) : 0);
    },
  });
  snapshotGauge(
    registry,
    'loopscope_observed_unreplied_connections',
    "Connections from local pods to this Service's LB seen unanswered ([UNREPLIED] in conntrack) in the node dumps: observed failures, not predictions.",
    ['namespace', 'service', 'node'],
    perAnalysis(engine, () => {
      const analysis = engine.analysis;
      const out: Array<{ labels: Record<string, string>; value: number }> = [];
      for (const sa of analysis?.services ?? []) {
        for (const [node, n] of sa.observed?.byNode ?? []) out.push({ labels: { namespace: sa.service.namespace, service: sa.service.name, node: analysis!.context.cluster.nodes[node]!.name }, value: n });
      }
      return out;
    }),
  );

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
  const modelText = perAnalysis(engine, () => registry.metrics());
  return {
    contentType: registry.contentType,
    render: async () => {
      const [model, own] = await Promise.all([modelText(), health.metrics()]);
      return `${model.replace(/\n*$/, '\n')}${own}`;
    },
    registries: [registry, health],
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

/**
 * A gauge whose series are handed to the registry as computed for the current analysis, instead of
 * a set() per series per scrape (which hashes every label set: too slow for thousands of series).
 * Built from scratch for each analysis, so a deleted Service or link disappears at once.
 */
function snapshotGauge(registry: Registry, name: string, help: string, labelNames: readonly string[], values: () => Sample[]): void {
  class SnapshotGauge extends Gauge {
    override async get() {
      return { name, help, type: 'gauge', values: values(), aggregator: 'sum' } as never;
    }
  }
  new SnapshotGauge({ name, help, labelNames: [...labelNames], registers: [registry] });
}

/**
 * The k samples with the highest values, most likely first. Finds the k-th value by selection on a
 * copy of the values (linear on average), so 130,000 links are not sorted on every analysis.
 */
function mostLikely(samples: Sample[], k: number): Sample[] {
  const values = Float64Array.from(samples, (x) => x.value);
  const kth = select(values, values.length - k);
  const above = samples.filter((x) => x.value > kth);
  for (const x of samples) {
    if (above.length >= k) break;
    if (x.value === kth) above.push(x);
  }
  return above.sort((a, b) => b.value - a.value);
}

/** The value that would be at index `n` if `a` were sorted ascending (Hoare's selection; `a` is reordered). */
function select(a: Float64Array, n: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (n <= j) hi = j;
    else if (n >= i) lo = i;
    else break;
  }
  return a[n]!;
}
