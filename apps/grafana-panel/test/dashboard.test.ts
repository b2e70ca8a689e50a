/**
 * The provisioned dashboard (generated from deploy/mixin): importable with its inputs, filtered by
 * the datasource, cluster, namespace and service variables in every query, and a fallback table of
 * the links for a Grafana without the loopscope panel plugin.
 */
import { readFileSync } from 'fs';
import path from 'path';
import { LINK_METRIC } from '../src/frames';

const dashboard = JSON.parse(readFileSync(path.join(__dirname, '..', 'provisioning', 'dashboards', 'loopback-risk.json'), 'utf8'));
const panels: any[] = dashboard.panels;
const targets = panels.flatMap((p) => (p.targets ?? []).map((t: any) => ({ panel: p.title, ...t })));

test('imports: __inputs names the Prometheus datasource, and the uid the bot and alerts link to', () => {
  expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
  expect(dashboard.uid).toBe('loopscope-loopback-risk');
  const vars = dashboard.templating.list;
  expect(vars.map((v: any) => v.name)).toEqual(['datasource', 'cluster', 'namespace', 'service']);
  expect(vars[0]).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: '${DS_PROMETHEUS}' } });
  for (const v of vars.slice(1)) {
    expect(v).toMatchObject({ type: 'query', datasource: { uid: '${datasource}' }, includeAll: true, allValue: '.*' });
  }
  // Each filter narrows the next: namespace within the cluster, service within both.
  expect(vars[2].query.query).toContain('cluster=~"$cluster"');
  expect(vars[3].query.query).toMatch(/cluster=~"\$cluster".*namespace=~"\$namespace"/);
});

test('every panel and every query uses $datasource and $cluster; no hard-coded datasource uid', () => {
  expect(targets.length).toBeGreaterThan(10);
  for (const p of panels) expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${datasource}' }]);
  for (const t of targets) {
    expect([t.panel, t.refId, t.datasource.uid]).toEqual([t.panel, t.refId, '${datasource}']);
    expect([t.panel, t.refId, t.expr]).toEqual([t.panel, t.refId, expect.stringContaining('cluster=~"$cluster"')]);
  }
  expect(JSON.stringify(dashboard)).not.toMatch(/"uid":\s*"prometheus"/);
});

test('per-Service queries follow the namespace and service variables; aggregations keep the cluster', () => {
  for (const t of targets.filter((x) => /loopscope_(service|link)_/.test(x.expr))) {
    expect([t.panel, t.expr]).toEqual([t.panel, expect.stringMatching(/namespace=~"\$namespace", service=~"\$service"/)]);
  }
  for (const t of targets)
    for (const by of t.expr.match(/\bby \(([^)]*)\)/g) ?? [])
      expect([t.panel, by]).toEqual([t.panel, expect.stringMatching(/^by \(cluster, /)]);
});

test('without the plugin: a built-in table panel shows the links, labelled, worst first, linking to the Service', () => {
  const plugin = panels.find((p) => p.type === 'loopscope-links-panel');
  const fallback = panels.find((p) => p.type === 'table' && p.targets.some((t: any) => t.expr.includes(LINK_METRIC)));
  expect(plugin).toBeDefined();
  expect(fallback).toBeDefined();
  expect(fallback.targets[0]).toMatchObject({ format: 'table', instant: true });
  const organize = fallback.transformations.find((t: any) => t.id === 'organize').options;
  for (const label of ['client_namespace', 'client_workload', 'node', 'namespace', 'service', 'ip', 'port'])
    expect(organize.renameByName[label]).toBeTruthy();
  expect(fallback.transformations.find((t: any) => t.id === 'sortBy').options.sort[0]).toEqual({
    field: 'Loopback probability',
    desc: true,
  });
  const link = fallback.fieldConfig.overrides.find((o: any) => o.matcher.options === 'Service').properties[0].value[0].url;
  expect(link).toContain(`/d/${dashboard.uid}/`);
  expect(link).toContain('var-service=${__value.raw}');
  // Below the plugin panel, full width: it is there whether or not the plugin loads.
  expect(fallback.gridPos).toMatchObject({ w: 24, y: plugin.gridPos.y + plugin.gridPos.h });
});

test("predicted vs observed: per Service and node, the model's figure beside the node agents' counts over the time range", () => {
  const panel = panels.find((p) => p.title === 'Predicted vs observed (node agents)');
  expect(panel).toBeDefined();
  const exprs = panel.targets.map((t: any) => t.expr);
  expect(exprs[0]).toContain('loopscope_link_loopback_ratio');
  expect(
    exprs.slice(1).every((e: string) => e.includes('increase(loopscope_observed_lb_connections_total') && e.includes('[$__range]')),
  ).toBe(true);
  expect(exprs[1]).toContain('outcome="unreplied"');
  expect(exprs[2]).toContain('outcome="replied"');
  // One row per Service and node: every query aggregates by the same labels.
  for (const e of exprs) expect(e).toMatch(/by \(cluster, namespace, service, node\)/);
  const names = panel.transformations.find((t: any) => t.id === 'organize').options.renameByName;
  expect(Object.values(names)).toEqual(
    expect.arrayContaining(['Predicted', 'Observed unreplied', 'Observed replied', 'Observed failing share']),
  );
});
