import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type OpenMetricsContentType } from 'prom-client';
import { serviceLinks, worstClientProbability, type Report, type ServiceAnalysis, type Verdict } from '@loopscope/core';
import type { Engine } from './engine';
import type { HealthResource } from './sources/types';

/**
 * The exporter's metrics on prom-client registries: one for the Prometheus text format and one for
 * OpenMetrics (prom-client renames counters for OpenMetrics in place, so a counter cannot sit in
 * both; each format gets its own). Names and labels are documented in the README ("Metrics");
 * alerts in deploy/prometheus and the dashboard use them.
 */
export interface ExporterMetrics {
  /** The exposition in the format the scraper's Accept header prefers. */
  render(accept: string | undefined): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  maxLinks: number;
  /** Label values the health counters start at 0 for (so `increase()` sees the first error). */
  resources: readonly HealthResource[];
  /** More families on the same registries (the node agents' observed connections). */
  families?: (registers: Registry[]) => void;
}

/** The verdicts of the `loopscope_service_verdict` state set (one series each, 1 for the current). */
export const VERDICTS: readonly Verdict[] = ['loopback', 'unreachable', 'safe', 'not-applicable', 'unknown'];

/** Labels of an LB ingress, after kube-state-metrics' `kube_service_status_load_balancer_ingress`. */
const INGRESS_LABELS = ['namespace', 'service', 'ip', 'hostname', 'port', 'protocol'] as const;
const LINK_LABELS = [
  'node',
  'client_namespace',
  'client_kind',
  'client_workload',
  'namespace',
  'service',
  'ip',
  'hostname',
  'port',
] as const;

export function createMetrics(engine: Engine, options: MetricsOptions): ExporterMetrics {
  const text: Registry = new Registry();
  const openMetrics = new Registry<OpenMetricsContentType>();
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const registers = [text, openMetrics as unknown as Registry];
  for (const register of registers) {
    collectDefaultMetrics({ register });
    // Gauges named like counters: Prometheus' linter (promtool check metrics) rejects them.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      register.removeSingleMetric(name);
  }
  buildInfo(registers);
  serviceFamilies(engine, registers);
  linkFamilies(engine, registers, options.maxLinks);
  observedFamilies(engine, registers);
  healthFamilies(engine, registers, options.resources);
  options.families?.(registers);
  return {
    async render(accept) {
      // The callers' families read the report without fixes or links: built in slices here, so
      // a scrape right after a new analysis does not build it in one go.
      await engine.reportInTurns({ fixes: false, links: false, acceptFuller: true });
      const registry = prefersOpenMetrics(accept) ? openMetrics : text;
      return { contentType: registry.contentType as string, body: await registry.metrics() };
    },
  };
}

/**
 * OpenMetrics when the Accept header lists it at least as high as the text format (Prometheus
 * sends `application/openmetrics-text;version=1.0.0,…,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`).
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let om = 0;
  let plain = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part
      .trim()
      .split(';')
      .map((s) => s.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain') plain = Math.max(plain, q);
  }
  return om > 0 && om >= plain;
}

// --- build ---

function buildInfo(registers: Registry[]): void {
  let version = 'unknown';
  try {
    // dist/ and src/ both sit beside package.json.
    version = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    // A bundled copy without its package.json still exports the series.
  }
  new Gauge({
    name: 'loopscope_build_info',
    help: 'The exporter build: version, and the Node.js runtime it runs on. Always 1.',
    labelNames: ['version', 'revision', 'nodejs_version'],
    registers,
  }).set({ version, revision: process.env.LOOPSCOPE_REVISION ?? '', nodejs_version: process.version }, 1);
}

/**
 * prom-client renders a scrape in one turn of the event loop (its collects are promises, but all
 * resolve in one go): at 150,000 pods, most of a second. The analysis gauges collect one at a
 * time, each after a turn of the event loop, so a probe is answered between two families (each
 * family's collect and text are one short turn).
 */
let lastCollect: Promise<void> = Promise.resolve();
function collectTurn(): Promise<void> {
  const turn = lastCollect.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  lastCollect = turn;
  return turn;
}

/** A gauge filled from the current analysis, once per analysis (scrapes in between reuse it). */
function analysisGauge(
  engine: Engine,
  registers: Registry[],
  name: string,
  help: string,
  labelNames: readonly string[],
  fill: (set: (labels: Record<string, string>, value: number) => void) => void,
): void {
  // The analysis's generation, not the analysis: an old one is not kept alive until the next scrape.
  let filledFor = -1;
  new Gauge({
    name,
    help,
    labelNames,
    registers,
    async collect() {
      await collectTurn();
      // Reset and refill, so a deleted Service or link stops being exported at once.
      if (filledFor === engine.generation) return;
      filledFor = engine.generation;
      this.reset();
      fill((labels, value) => this.set(labels, value));
    },
  });
}

// --- Services and their LB ingresses ---

type IngressRow = {
  labels: Record<(typeof INGRESS_LABELS)[number], string>;
  ratio: () => number;
  nodes: number;
  pods: number;
  /** Core's worst-client figure for this ingress: the largest p over the client pods (read at fill time). */
  worstClient: () => number;
  /** Client workloads with pods on this ingress's at-risk nodes. */
  callers: number;
};

function ingressAddressLabels(ingress: { ip?: string; hostname?: string }): { ip: string; hostname: string } {
  return { ip: ingress.ip ?? '', hostname: ingress.ip ? '' : (ingress.hostname ?? '') };
}

function serviceFamilies(engine: Engine, registers: Registry[]): void {
  // A Service's rows are cached on its analysis: the live model replaces only the analyses of the
  // Services a change moves.
  const rowsCache = new WeakMap<ServiceAnalysis, IngressRow[]>();
  const rowsOf = (sa: ServiceAnalysis, analysis: NonNullable<Engine['analysis']>): IngressRow[] => {
    let rows = rowsCache.get(sa);
    if (!rows) {
      const svc = sa.service;
      // The links (client workload on a node → ingress) come from core's per-analysis cache.
      const links = sa.probability > 0 ? serviceLinks(analysis.context, sa) : [];
      rows = sa.ingresses.map((ing) => {
        const atRisk = ing.atRisk.filter((r) => r.clientPods > 0);
        const mine = links.filter(
          (l) =>
            l.ingress.port === ing.ingress.port &&
            l.ingress.protocol === ing.ingress.protocol &&
            (l.ingress.ip ?? l.ingress.hostname) === (ing.ingress.ip ?? ing.ingress.hostname),
        );
        return {
          // Core's definition, applied to this one ingress (the Service's figure is the largest over them).
          worstClient: () => Math.round(worstClientProbability({ ...sa, ingresses: [ing] }) * 1e6) / 1e6,
          callers: new Set(mine.map((l) => l.workload)).size,
          labels: {
            namespace: svc.namespace,
            service: svc.name,
            ...ingressAddressLabels(ing.ingress),
            port: String(ing.ingress.port),
            protocol: ing.ingress.protocol,
          },
          // Read at fill time: it follows the pod count.
          ratio: () => ing.probability,
          nodes: atRisk.length,
          pods: atRisk.reduce((a, r) => a + r.clientPods, 0),
        };
      });
      rowsCache.set(sa, rows);
    }
    return rows;
  };
  const lbServices = (): ServiceAnalysis[] => (engine.analysis?.services ?? []).filter((sa) => sa.service.type === 'LoadBalancer');
  const ingressGauge = (name: string, help: string, value: (r: IngressRow) => number): void =>
    analysisGauge(engine, registers, name, help, INGRESS_LABELS, (set) => {
      const analysis = engine.analysis;
      if (!analysis) return;
      for (const sa of lbServices()) for (const row of rowsOf(sa, analysis)) set(row.labels, value(row));
    });
  ingressGauge(
    'loopscope_service_loopback_ratio',
    'Cluster exposure: the mean, over every client pod of the cluster, of the probability (0-1) that a new connection to this LB ingress loops back to the client\'s own node and times out (the AWS NLB troubleshooting page; the Tencent Cloud doc "CLB loopback"; docs/model.md#figures). It ranks Services; what a caller suffers is loopscope_service_worst_client_ratio.',
    (r) => r.ratio(),
  );
  ingressGauge(
    'loopscope_service_at_risk_nodes',
    'Nodes with client pods whose connections to this LB ingress can loop back (p > 0).',
    (r) => r.nodes,
  );
  ingressGauge('loopscope_service_at_risk_client_pods', 'Client pods on the nodes at risk for this LB ingress.', (r) => r.pods);
  ingressGauge(
    'loopscope_service_worst_client_ratio',
    'The headline figure: the largest probability (0-1), over the client pods of the cluster, that a new connection from one pod to this LB ingress loops back to its own node and times out: what the worst-placed client suffers, however large the cluster (docs/model.md#figures; the AWS NLB troubleshooting page).',
    (r) => r.worstClient(),
  );
  ingressGauge(
    'loopscope_service_at_risk_callers',
    'Client workloads (each counted once) with pods on the nodes at risk for this LB ingress: who could call it and loop back. Known callers are loopscope_service_known_callers.',
    (r) => r.callers,
  );
  knownCallerFamilies(engine, registers, lbServices);

  analysisGauge(
    engine,
    registers,
    'loopscope_service_verdict',
    "Verdict of this LoadBalancer Service as a state set: 1 for its current verdict (loopback, unreachable, safe, not-applicable, unknown), 0 for the others. unreachable: some in-cluster clients cannot connect through the LB at all; unknown: an input the answer needs is missing (the API's /api/v1/report names it).",
    ['namespace', 'service', 'verdict'],
    (set) => {
      for (const sa of lbServices())
        for (const verdict of VERDICTS)
          set({ namespace: sa.service.namespace, service: sa.service.name, verdict }, sa.verdict === verdict ? 1 : 0);
    },
  );

  analysisGauge(
    engine,
    registers,
    'loopscope_service_info',
    'LoadBalancer Service properties: traffic policy, proxy mode of the nodes, LB scope, backend kind, and its first LB address (ip or hostname). Always 1.',
    ['namespace', 'service', 'traffic_policy', 'proxy_mode', 'lb_scope', 'backend_kind', 'ip', 'hostname'],
    (set) => {
      const analysis = engine.analysis;
      if (!analysis) return;
      const modes = new Set(analysis.context.profile.nodes.map((n) => n.proxyMode.value));
      const proxyMode = modes.size === 1 ? [...modes][0]! : modes.size === 0 ? 'unknown' : 'mixed';
      for (const sa of lbServices()) {
        const svc = sa.service;
        set(
          {
            namespace: svc.namespace,
            service: svc.name,
            traffic_policy: svc.trafficPolicy ?? 'invalid',
            proxy_mode: proxyMode,
            lb_scope: sa.scope,
            backend_kind: sa.backendKind,
            ...ingressAddressLabels(svc.ingresses[0] ?? {}),
          },
          1,
        );
      }
    },
  );
}

// --- known callers (pods that name an ingress in their containers, or that node evidence saw connect) ---

/** Does a known caller call this ingress? A caller that names no port calls every port of the address. */
function callsIngress(c: Report['services'][number]['callers'][number], ing: Report['services'][number]['ingresses'][number]): boolean {
  const address = ing.ip ?? ing.hostname;
  return (
    address !== undefined &&
    (c.ingress.ip ?? c.ingress.hostname) === address &&
    (c.ingress.port === undefined || c.ingress.port === ing.port)
  );
}

const CALLER_SOURCES = ['declared', 'observed'] as const;

/**
 * From the report's `callers` (core finds them: container env values, args and command naming the
 * ingress, and conntrack entries from node evidence), per LB ingress: how many pods, by source, and
 * the mean p over them. Read from the report built once per analysis (no fixes, no links).
 */
function knownCallerFamilies(engine: Engine, registers: Registry[], lbServices: () => ServiceAnalysis[]): void {
  type Row = { labels: Record<(typeof INGRESS_LABELS)[number], string>; declared: number; observed: number; ratio: number | null };
  let rows: { generation: number; rows: Row[] } | undefined;
  const current = (): Row[] => {
    if (rows?.generation === engine.generation) return rows.rows;
    const out: Row[] = [];
    const wanted = new Set(lbServices().map((sa) => `${sa.service.namespace}/${sa.service.name}`));
    for (const s of engine.currentReport({ fixes: false, links: false, acceptFuller: true })?.services ?? []) {
      if (!wanted.has(`${s.namespace}/${s.name}`)) continue;
      for (const ing of s.ingresses) {
        const mine = s.callers.filter((c) => callsIngress(c, ing));
        const pods = (source: string): number =>
          new Set(mine.filter((c) => c.source === source).map((c) => `${c.namespace}/${c.pod}`)).size;
        // Each pod once, at its highest p (as core's callers' figure).
        const byPod = new Map<string, number>();
        for (const c of mine) byPod.set(`${c.namespace}/${c.pod}`, Math.max(byPod.get(`${c.namespace}/${c.pod}`) ?? 0, c.probability));
        // No ratio for an unknown verdict: its callers' p is not known (0 would read as safe).
        const ratio = byPod.size && s.verdict !== 'unknown' ? [...byPod.values()].reduce((a, p) => a + p, 0) / byPod.size : null;
        out.push({
          labels: { namespace: s.namespace, service: s.name, ...ingressAddressLabels(ing), port: String(ing.port), protocol: ing.protocol },
          declared: pods('declared'),
          observed: pods('observed'),
          ratio: ratio === null ? null : Math.round(ratio * 1e6) / 1e6,
        });
      }
    }
    rows = { generation: engine.generation, rows: out };
    return out;
  };
  analysisGauge(
    engine,
    registers,
    'loopscope_service_known_callers',
    "Pods known to call this LB ingress, by source: declared (a container's env value, args or command names the ingress IP or hostname, e.g. PAYMENTS_API_URL=http://10.0.3.15:8080) or observed (node evidence has a conntrack entry from the pod to the ingress). 0 when none is known (docs/model.md#callers).",
    [...INGRESS_LABELS, 'source'],
    (set) => {
      for (const r of current()) for (const source of CALLER_SOURCES) set({ ...r.labels, source }, r[source]);
    },
  );
  analysisGauge(
    engine,
    registers,
    'loopscope_service_callers_loopback_ratio',
    "The callers' figure: the mean, over the pods known to call this LB ingress (loopscope_service_known_callers), of the probability (0-1) that a new connection of theirs loops back to their own node and times out. Absent without known callers.",
    INGRESS_LABELS,
    (set) => {
      for (const r of current()) if (r.ratio !== null) set(r.labels, r.ratio);
    },
  );
}

// --- links (client workload on a node → LB ingress) ---

type LinkSample = { labels: Record<(typeof LINK_LABELS)[number], string>; value: number };
type ServiceLinks = { samples: LinkSample[]; histogram: Map<number, number> };

function linkFamilies(engine: Engine, registers: Registry[], maxLinks: number): void {
  // A Service's link samples are cached on its analysis (most likely first, with a histogram of
  // their values): after a pod event only re-analysed Services build their links again, and the
  // top --max-links are found from the histograms (link probabilities take few distinct values)
  // without sorting 100,000 links.
  const linkCache = new WeakMap<ServiceAnalysis, ServiceLinks>();
  const linksOf = (sa: ServiceAnalysis, analysis: NonNullable<Engine['analysis']>): ServiceLinks => {
    let cached = linkCache.get(sa);
    if (!cached) {
      const { cluster } = analysis.context;
      const samples = serviceLinks(analysis.context, sa).map((l): LinkSample => {
        const w = cluster.workloads[l.workload]!;
        return {
          labels: {
            node: cluster.nodes[l.node]!.name,
            client_namespace: w.namespace,
            client_kind: w.kind,
            client_workload: w.name,
            namespace: sa.service.namespace,
            service: sa.service.name,
            ...ingressAddressLabels(l.ingress),
            port: String(l.ingress.port),
          },
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
  // The most likely --max-links links, and how many were left out: once per analysis.
  let selection: { generation: number; top: LinkSample[]; omitted: number } | undefined;
  const select = (): { top: LinkSample[]; omitted: number } => {
    const analysis = engine.analysis;
    if (selection && selection.generation === engine.generation) return selection;
    const top: LinkSample[] = [];
    const selected = (selection = { generation: engine.generation, top, omitted: 0 });
    if (!analysis) return selected;
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
    if (total > maxLinks) {
      let above = 0;
      for (const v of [...histogram.keys()].sort((a, b) => b - a)) {
        const n = histogram.get(v)!;
        if (above + n >= maxLinks) {
          threshold = v;
          ties = maxLinks - above;
          break;
        }
        above += n;
      }
    }
    for (const l of perService) {
      for (const x of l.samples) {
        if (x.value > threshold) top.push(x);
        else if (x.value === threshold && ties > 0) {
          top.push(x);
          ties--;
        } else break; // most likely first: the rest are lower
      }
    }
    selected.omitted = total - top.length;
    return selected;
  };
  analysisGauge(
    engine,
    registers,
    'loopscope_link_loopback_ratio',
    'Probability (0-1) that a new connection from this client workload on this node to this LB ingress loops back. Only links with probability > 0, capped by --max-links.',
    LINK_LABELS,
    (set) => {
      for (const x of select().top) set(x.labels, x.value);
    },
  );
  new Gauge({
    name: 'loopscope_links_omitted',
    help: 'Links with probability > 0 left out of loopscope_link_loopback_ratio by --max-links (lowest probability first).',
    registers,
    collect() {
      this.set(select().omitted);
    },
  });
}

// --- observed evidence (node dumps) ---

function observedFamilies(engine: Engine, registers: Registry[]): void {
  analysisGauge(
    engine,
    registers,
    'loopscope_observed_unreplied_connections',
    "Connections from local pods to this Service's LB seen unanswered ([UNREPLIED] in conntrack) in the node dumps: observed failures, not predictions.",
    ['namespace', 'service', 'node'],
    (set) => {
      const analysis = engine.analysis;
      for (const sa of analysis?.services ?? []) {
        for (const [node, n] of sa.observed?.byNode ?? [])
          set({ namespace: sa.service.namespace, service: sa.service.name, node: analysis!.context.cluster.nodes[node]!.name }, n);
      }
    },
  );
}

// --- the exporter's own health ---

function healthFamilies(engine: Engine, registers: Registry[], resources: readonly HealthResource[]): void {
  const durations = new Histogram({
    name: 'loopscope_analysis_duration_seconds',
    help: 'Time to bring the analysis up to date after a change (full rebuild or incremental).',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers,
  });
  let seen = 0;
  new Gauge({
    name: 'loopscope_last_successful_analysis_timestamp_seconds',
    help: 'Unix time the analysis was last known current: a successful recompute, or a check (every minute) that nothing changed.',
    registers,
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
    registers,
    collect() {
      const age = engine.inputAgeSeconds();
      if (age !== undefined) this.set(age);
    },
  });
  new Gauge({
    name: 'loopscope_ready',
    help: '1 once the first full sync has been analysed.',
    registers,
    collect() {
      this.set(engine.health.ready ? 1 : 0);
    },
  });
  const counter = (name: string, help: string, source: () => Map<HealthResource, number>): void => {
    // One counter per registry: prom-client renames a counter in place when rendering OpenMetrics.
    for (const registry of registers) {
      new Counter({
        name,
        help,
        labelNames: ['resource'],
        registers: [registry],
        collect() {
          // The engine keeps the totals; the counter mirrors them, from 0 for every known resource.
          this.reset();
          const totals = source();
          for (const resource of resources) this.inc({ resource }, totals.get(resource) ?? 0);
          for (const [resource, n] of totals) if (!resources.includes(resource)) this.inc({ resource }, n);
        },
      });
    }
  };
  counter(
    'loopscope_watch_restarts_total',
    'Watches restarted (dropped connection, error, 410 Gone), by resource.',
    () => engine.health.watchRestarts,
  );
  counter(
    'loopscope_watch_errors_total',
    'List or watch failures (API server unreachable, 5xx, forbidden), by resource.',
    () => engine.health.watchErrors,
  );
  counter('loopscope_objects_skipped_total', 'Objects skipped as malformed, by resource.', () => engine.health.objectsSkipped);
  counter(
    'loopscope_watch_events_skipped_total',
    'Watch events skipped as unusable (malformed, over the size cap), by resource.',
    () => engine.health.eventsSkipped,
  );
}
