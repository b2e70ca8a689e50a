import type { WhatIfChange } from '@loopscope/core';

/**
 * Validates `POST /api/v1/whatif` bodies: `{"changes": [{"kind": "trafficPolicy", "service": "ns/name", "value": "Cluster"}, …]}`.
 * Each error names the change and the field.
 */
export function parseWhatIfChanges(body: unknown): WhatIfChange[] {
  const changes = (body as { changes?: unknown } | null)?.changes;
  if (!Array.isArray(changes) || changes.length === 0) throw new Error('expected {"changes": [ … ]} with at least one change');
  return changes.map((c: unknown, i: number) => {
    const o = (c ?? {}) as Record<string, unknown>;
    const where = `changes[${i}]`;
    const str = (field: string): string => {
      if (typeof o[field] !== 'string' || o[field] === '') throw new Error(`${where}.${field}: expected a string`);
      return o[field] as string;
    };
    const oneOf = <T extends string>(field: string, allowed: readonly T[]): T => {
      const v = str(field);
      if (!(allowed as readonly string[]).includes(v)) throw new Error(`${where}.${field}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
      return v as T;
    };
    switch (o.kind) {
      case 'trafficPolicy':
        return { kind: 'trafficPolicy', service: str('service'), value: oneOf('value', ['Local', 'Cluster'] as const) };
      case 'ipMode':
        return { kind: 'ipMode', service: str('service'), value: oneOf('value', ['VIP', 'Proxy'] as const) };
      case 'preventLoopback':
        if (typeof o.value !== 'boolean') throw new Error(`${where}.value: expected true or false`);
        return { kind: 'preventLoopback', service: str('service'), value: o.value };
      case 'kubeProxyVersion': {
        const nodes = o.nodes;
        if (nodes !== undefined && (!Array.isArray(nodes) || nodes.some((n) => typeof n !== 'string'))) throw new Error(`${where}.nodes: expected a list of node names`);
        return { kind: 'kubeProxyVersion', version: str('version'), nodes: nodes as string[] | undefined };
      }
      case 'moveClients': {
        const workloads = o.workloads;
        if (workloads !== undefined && (!Array.isArray(workloads) || workloads.some((n) => typeof n !== 'string'))) throw new Error(`${where}.workloads: expected a list of workloads`);
        return { kind: 'moveClients', service: str('service'), workloads: workloads as string[] | undefined };
      }
      case 'callViaClusterIP':
        return { kind: 'callViaClusterIP', service: str('service') };
      default:
        throw new Error(`${where}.kind: ${JSON.stringify(o.kind)} is not one of trafficPolicy, ipMode, preventLoopback, kubeProxyVersion, moveClients, callViaClusterIP`);
    }
  });
}
