// Frames shaped as Grafana 12's Prometheus data source returns them (backend dataplane frames).
import { DataFrame, FieldType, toDataFrame } from '@grafana/data';

export type Labels = Record<string, string>;

export const demoLinks: Array<{ labels: Labels; value: number }> = [
  {
    labels: {
      node: '10.0.1.11',
      client_namespace: 'checkout',
      client_kind: 'Deployment',
      client_workload: 'checkout-api',
      namespace: 'payments',
      service: 'payments-api',
      ip: '10.0.3.15',
      port: '8080',
    },
    value: 0.5,
  },
  {
    labels: {
      node: '10.0.1.12',
      client_namespace: 'checkout',
      client_kind: 'Deployment',
      client_workload: 'checkout-api',
      namespace: 'payments',
      service: 'payments-api',
      ip: '10.0.3.15',
      port: '8080',
    },
    value: 0.5,
  },
  {
    labels: {
      node: '10.0.1.12',
      client_namespace: 'orders',
      client_kind: 'Deployment',
      client_workload: 'orders-api',
      namespace: 'payments',
      service: 'payments-api',
      ip: '10.0.3.15',
      port: '8080',
    },
    value: 0.5,
  },
  {
    labels: {
      node: '10.0.2.21',
      client_namespace: 'orders',
      client_kind: 'Deployment',
      client_workload: 'orders-api',
      namespace: 'search',
      service: 'search-api',
      ip: '10.0.3.18',
      port: '80',
    },
    value: 0.666667,
  },
];

const T = 1_764_396_000_000;

/** Format "Table", instant: one frame per query, Time + a string field per label + "Value #A". */
export function tableFrame(metric: string, rows: Array<{ labels: Labels; value: number }>, refId = 'A'): DataFrame {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.labels)))].sort();
  return toDataFrame({
    refId,
    meta: { type: 'numeric-multi', typeVersion: [0, 1], executedQueryString: `Expr: ${metric}` },
    fields: [
      { name: 'Time', type: FieldType.time, config: {}, values: rows.map(() => T) },
      { name: '__name__', type: FieldType.string, config: {}, values: rows.map(() => metric) },
      ...names.map((n) => ({ name: n, type: FieldType.string, config: { filterable: true }, values: rows.map((r) => r.labels[n] ?? '') })),
      { name: `Value #${refId}`, type: FieldType.number, config: { displayNameFromDS: undefined }, values: rows.map((r) => r.value) },
    ],
  });
}

/** Format "Time series": one frame per series, Time + "Value" whose labels carry the series' labels. */
export function timeSeriesFrames(metric: string, rows: Array<{ labels: Labels; value: number }>, refId = 'A'): DataFrame[] {
  return rows.map((r) =>
    toDataFrame({
      refId,
      name: `${metric}{${Object.entries(r.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(', ')}}`,
      meta: { type: 'timeseries-multi', typeVersion: [0, 1] },
      fields: [
        { name: 'Time', type: FieldType.time, config: { interval: 15000 }, values: [T - 15000, T] },
        { name: 'Value', type: FieldType.number, labels: { __name__: metric, ...r.labels }, config: {}, values: [r.value, r.value] },
      ],
    }),
  );
}
