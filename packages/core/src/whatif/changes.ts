import type { IpMode, TrafficPolicy } from '../cluster/model';
import { LoopscopeError } from '../error/loopscopeError';
import type { WhatIfChange } from './whatif';

/**
 * What-if changes from outside (the exporter's POST body, the Slack bot's button values, the CLI's
 * flags): checked here once, so every app accepts and refuses the same things with the same words.
 * Errors are CHANGE_INVALID and name the change and the field (`changes[0].value: …`).
 */

/** The accepted values of each change that takes one of a list. */
export const WHATIF_VALUES = {
  trafficPolicy: ['Local', 'Cluster'] as const satisfies readonly TrafficPolicy[],
  ipMode: ['VIP', 'Proxy'] as const satisfies readonly IpMode[],
};

export const WHATIF_KINDS = [
  'trafficPolicy',
  'ipMode',
  'preventLoopback',
  'kubeProxyVersion',
  'moveClients',
  'callViaClusterIP',
] as const satisfies readonly WhatIfChange['kind'][];

/** A change without the Service it applies to (the Slack bot resolves the target afterwards). */
export type WhatIfChangeSpec = WhatIfChange extends infer C ? (C extends WhatIfChange ? Omit<C, 'service'> : never) : never;

/** Names a field in messages: `changes[0].value` for a body, `--ip-mode` for a flag. */
export type FieldName = (field: string) => string;

// A Kubernetes name is at most 253 characters; a workload or node list is bounded so a hostile body
// cannot make the model do unbounded work.
const MAX_NAME = 253;
const MAX_LIST = 1000;
const VERSION = /^[\w.+-]{1,60}$/;

/** Checks one change (kind and its fields) and returns it as a `WhatIfChange`. */
export function parseWhatIfChange(value: unknown, name: FieldName = (f) => f): WhatIfChange {
  const spec = parseWhatIfChangeSpec(value, name);
  if (spec.kind === 'kubeProxyVersion') return spec;
  return { ...spec, service: nameField((value as Record<string, unknown>).service, name('service')) } as WhatIfChange;
}

/** Checks a change without its Service (`service`, if present, is ignored). */
export function parseWhatIfChangeSpec(value: unknown, name: FieldName = (f) => f): WhatIfChangeSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${name('') || 'change'}: expected an object with a "kind"`);
  const o = value as Record<string, unknown>;
  switch (o.kind) {
    case 'trafficPolicy':
      return { kind: 'trafficPolicy', value: oneOf(o.value, WHATIF_VALUES.trafficPolicy, name('value')) };
    case 'ipMode':
      return { kind: 'ipMode', value: oneOf(o.value, WHATIF_VALUES.ipMode, name('value')) };
    case 'preventLoopback':
      if (typeof o.value !== 'boolean') throw invalid(`${name('value')}: expected true or false`);
      return { kind: 'preventLoopback', value: o.value };
    case 'kubeProxyVersion': {
      if (typeof o.version !== 'string' || !VERSION.test(o.version))
        throw invalid(`${name('version')}: expected a kube-proxy version such as v1.20.6-tke.12, or tke-fixed`);
      const nodes = nameList(o.nodes, name('nodes'), 'node names');
      return nodes ? { kind: 'kubeProxyVersion', version: o.version, nodes } : { kind: 'kubeProxyVersion', version: o.version };
    }
    case 'moveClients': {
      const workloads = nameList(o.workloads, name('workloads'), 'workloads');
      return workloads ? { kind: 'moveClients', workloads } : { kind: 'moveClients' };
    }
    case 'callViaClusterIP':
      return { kind: 'callViaClusterIP' };
    default:
      throw invalid(`${name('kind')}: ${JSON.stringify(o.kind) ?? 'nothing'} is not one of ${WHATIF_KINDS.join(', ')}`);
  }
}

/** A `POST /api/v1/whatif` body: `{"changes": [{"kind": "trafficPolicy", "service": "ns/name", "value": "Cluster"}, …]}`. */
export function parseWhatIfChanges(body: unknown): WhatIfChange[] {
  const changes = (body as { changes?: unknown } | null)?.changes;
  if (!Array.isArray(changes) || changes.length === 0) throw invalid('expected {"changes": [ … ]} with at least one change');
  if (changes.length > MAX_LIST) throw invalid(`changes: at most ${MAX_LIST} changes at once (got ${changes.length})`);
  return changes.map((c: unknown, i: number) => parseWhatIfChange(c, (field) => `changes[${i}]${field ? `.${field}` : ''}`));
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T {
  if (typeof v !== 'string' || v === '') throw invalid(`${field}: expected one of ${allowed.join(', ')}`);
  if (!(allowed as readonly string[]).includes(v))
    throw invalid(`${field}: ${JSON.stringify(v.slice(0, 80))} is not one of ${allowed.join(', ')}`);
  return v as T;
}

function nameField(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw invalid(`${field}: expected a string`);
  if (v.length > 2 * MAX_NAME + 1) throw invalid(`${field}: longer than a namespace/name can be`);
  return v;
}

function nameList(v: unknown, field: string, what: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > MAX_LIST || v.some((n) => typeof n !== 'string' || n === '' || n.length > 2 * MAX_NAME + 1)) {
    throw invalid(`${field}: expected a list of ${what} (at most ${MAX_LIST})`);
  }
  return v as string[];
}

function invalid(message: string): LoopscopeError {
  return new LoopscopeError('CHANGE_INVALID', message);
}
