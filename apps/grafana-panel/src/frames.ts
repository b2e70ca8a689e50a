/**
 * Prometheus data-source frames → loopscope links and Services. Pure: no React, no Grafana runtime.
 *
 * Grafana's Prometheus data source produces two shapes:
 * - table (format "Table", instant): fields `Time`, one string field per label, `Value #A` (number);
 * - time series: a `Time` field and number fields whose `labels` carry the series' labels.
 */
import { DataFrame, Field, FieldType } from '@grafana/data';
import { LoopLink, ServiceSummary } from './types';

export const LINK_METRIC = 'loopscope_link_loopback_ratio';
export const LINK_LABELS = ['node', 'client_namespace', 'client_kind', 'client_workload', 'namespace', 'service', 'port'] as const;
export const SERVICE_INFO_METRIC = 'loopscope_service_info';
export const SERVICE_VERDICT_METRIC = 'loopscope_service_verdict';

/**
 * The LB address: `ip` or `hostname` (kube-state-metrics' convention; Prometheus drops the empty
 * one), or `ingress_ip` from exporters before 0.2.
 */
function ingressAddress(l: Record<string, string>): string {
  return l.ip || l.hostname || l.ingress_ip || '';
}
export const SERVICE_RATIO_METRIC = 'loopscope_service_loopback_ratio';
export const SERVICE_WORST_CLIENT_METRIC = 'loopscope_service_worst_client_ratio';
export const KNOWN_CALLERS_METRIC = 'loopscope_service_known_callers';
export const CALLERS_RATIO_METRIC = 'loopscope_service_callers_loopback_ratio';

/** One sample: a series' labels and its latest value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFrames {
  links: LoopLink[];
  services: ServiceSummary[];
  /** Set when there is data but no usable link series: says which metric and labels are needed. */
  problem?: string;
  /** True when no frame holds any value at all. */
  empty: boolean;
}

function isValueField(field: Field): boolean {
  return field.type === FieldType.number;
}

function lastNumber(values: ArrayLike<unknown>): number | undefined {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === 'number' && Number.isFinite(v)) {
      return v;
    }
  }
  return undefined;
}

/** Samples in a frame, whichever of the two shapes it has. */
export function samplesOf(frame: DataFrame): Sample[] {
  const numberFields = frame.fields.filter(isValueField);
  const labelFields = frame.fields.filter((f) => f.type === FieldType.string);
  const labelled = numberFields.filter((f) => f.labels && Object.keys(f.labels).length > 0);
  if (labelFields.length === 0 || labelled.length > 0) {
    // Time series: each number field is a series; its labels are on the field.
    return numberFields.flatMap((field) => {
      const value = lastNumber(field.values);
      return value === undefined ? [] : [{ labels: { ...(field.labels ?? {}) }, value }];
    });
  }
  // Table: one row per series; the value column is `Value #<refId>` (or `Value`).
  const valueField = numberFields.find((f) => f.name.startsWith('Value')) ?? numberFields[numberFields.length - 1];
  if (!valueField) {
    return [];
  }
  const samples: Sample[] = [];
  for (let row = 0; row < frame.length; row++) {
    const value = valueField.values[row];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      continue;
    }
    const labels: Record<string, string> = {};
    for (const f of labelFields) {
      const v = f.values[row];
      if (v !== undefined && v !== null) {
        labels[f.name] = String(v);
      }
    }
    for (const f of numberFields) {
      if (f !== valueField && typeof f.values[row] === 'number') {
        labels[f.name] = String(f.values[row]);
      }
    }
    samples.push({ labels, value });
  }
  return samples;
}

function metricOf(labels: Record<string, string>): string | undefined {
  return labels.__name__;
}

function isLinkSample(s: Sample): boolean {
  const name = metricOf(s.labels);
  if (name !== undefined && name !== LINK_METRIC) {
    return false;
  }
  return LINK_LABELS.every((l) => l in s.labels);
}

function toLink(s: Sample): LoopLink {
  const l = s.labels;
  const pods = l.pods !== undefined ? Number(l.pods) : undefined;
  return {
    node: l.node ?? '',
    clientNamespace: l.client_namespace ?? '',
    clientKind: l.client_kind ?? '',
    clientWorkload: l.client_workload ?? '',
    namespace: l.namespace ?? '',
    service: l.service ?? '',
    ingressIp: ingressAddress(l),
    port: l.port ?? '',
    probability: s.value,
    ...(pods !== undefined && Number.isFinite(pods) ? { pods } : {}),
  };
}

function serviceKey(namespace: string, service: string): string {
  return `${namespace}/${service}`;
}

export function parseFrames(series: DataFrame[] | undefined): ParsedFrames {
  const samples = (series ?? []).flatMap(samplesOf);
  if (samples.length === 0) {
    return { links: [], services: [], empty: true };
  }
  const links: LoopLink[] = [];
  const services = new Map<string, ServiceSummary>();
  const seenLabels = new Set<string>();
  // Known callers per Service, ingress and source: the largest over exporter replicas, then summed over sources.
  const callers = new Map<string, Map<string, number>>();
  for (const s of samples) {
    Object.keys(s.labels).forEach((k) => seenLabels.add(k));
    if (isLinkSample(s)) {
      links.push(toLink(s));
      continue;
    }
    const { namespace, service } = s.labels;
    if (namespace === undefined || service === undefined || 'node' in s.labels) {
      continue;
    }
    const name = metricOf(s.labels);
    const key = serviceKey(namespace, service);
    const summary: ServiceSummary = services.get(key) ?? {
      namespace,
      service,
      ingressIp: ingressAddress(s.labels),
      port: s.labels.port ?? '',
    };
    if (name === SERVICE_WORST_CLIENT_METRIC) {
      summary.worstClient = Math.max(summary.worstClient ?? 0, s.value);
      services.set(key, summary);
    } else if (name === CALLERS_RATIO_METRIC) {
      summary.callersRatio = Math.max(summary.callersRatio ?? 0, s.value);
      services.set(key, summary);
    } else if (name === KNOWN_CALLERS_METRIC) {
      const perSeries = callers.get(key) ?? new Map<string, number>();
      const series = `${ingressAddress(s.labels)}:${s.labels.port ?? ''}|${s.labels.source ?? ''}`;
      perSeries.set(series, Math.max(perSeries.get(series) ?? 0, s.value));
      callers.set(key, perSeries);
      services.set(key, summary);
    } else if ('verdict' in s.labels && (name === undefined || name === SERVICE_VERDICT_METRIC || name === SERVICE_INFO_METRIC)) {
      // A state set: the series at 1 is the verdict (older exporters put it on _info, always 1).
      if (s.value === 1) {
        summary.verdict = s.labels.verdict;
      }
      summary.trafficPolicy ??= s.labels.traffic_policy;
      services.set(key, summary);
    } else if ('traffic_policy' in s.labels && (name === undefined || name === SERVICE_INFO_METRIC)) {
      summary.trafficPolicy = s.labels.traffic_policy;
      services.set(key, summary);
    } else if (name === undefined || name === SERVICE_RATIO_METRIC) {
      summary.ratio = Math.max(summary.ratio ?? 0, s.value);
      services.set(key, summary);
    }
  }
  for (const [key, perSeries] of callers) {
    // Per ingress: declared + observed; the Service: its most-called ingress.
    const perIngress = new Map<string, number>();
    perSeries.forEach((n, series) => perIngress.set(series.split('|')[0]!, (perIngress.get(series.split('|')[0]!) ?? 0) + n));
    services.get(key)!.knownCallers = Math.max(0, ...perIngress.values());
  }
  let problem: string | undefined;
  if (links.length === 0 && services.size === 0) {
    const missing = LINK_LABELS.filter((l) => !seenLabels.has(l));
    problem =
      `This panel needs the ${LINK_METRIC} metric with the labels ${LINK_LABELS.join(', ')}` +
      (missing.length > 0 ? ` (missing: ${missing.join(', ')})` : '') +
      `. Query ${LINK_METRIC} (Format: Table or Time series, Type: Instant), without aggregations that drop labels; ` +
      `optionally add ${SERVICE_WORST_CLIENT_METRIC}, ${KNOWN_CALLERS_METRIC}, ${CALLERS_RATIO_METRIC}, ${SERVICE_VERDICT_METRIC}, ${SERVICE_INFO_METRIC} and ${SERVICE_RATIO_METRIC}.`;
  }
  return { links, services: [...services.values()], empty: false, ...(problem ? { problem } : {}) };
}
