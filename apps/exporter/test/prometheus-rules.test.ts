/**
 * The shipped alerting rules (deploy/prometheus): `promtool check rules` and `promtool test rules`
 * (the unit tests in loopscope-rules.test.yaml), plus what every alert must carry for the on-call.
 *
 * promtool comes from the Debian package `prometheus` (or set PROMTOOL to a binary). Without it the
 * promtool tests fail under CI=true and are skipped, with the reason printed, elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIR = join(__dirname, '..', '..', '..', 'deploy', 'prometheus');
const RULES = join(DIR, 'loopscope-rules.yaml');
const RULE_TESTS = join(DIR, 'loopscope-rules.test.yaml');
const RUNBOOK = 'https://github.com/loopscope/loopscope/blob/main/README.md#runbook-';

/** The metric names the exporter publishes: a rule that names anything else is a typo. */
const METRICS = [
  'loopscope_service_loopback_ratio',
  'loopscope_service_at_risk_nodes',
  'loopscope_service_at_risk_client_pods',
  'loopscope_service_info',
  'loopscope_service_verdict',
  'loopscope_service_worst_client_ratio',
  'loopscope_service_at_risk_callers',
  'loopscope_service_known_callers',
  'loopscope_service_callers_loopback_ratio',
  'loopscope_build_info',
  'loopscope_link_loopback_ratio',
  'loopscope_links_omitted',
  'loopscope_observed_unreplied_connections',
  'loopscope_observed_lb_connections_total',
  'loopscope_observed_recent_unreplied_connections',
  'loopscope_observed_last_unreplied_age_seconds',
  'loopscope_node_agent_up',
  'loopscope_analysis_duration_seconds',
  'loopscope_last_successful_analysis_timestamp_seconds',
  'loopscope_input_age_seconds',
  'loopscope_watch_restarts_total',
  'loopscope_watch_errors_total',
  'loopscope_objects_skipped_total',
  'loopscope_ready',
];

const ALERTS = [
  'LoopscopeServiceLoopbackRisk',
  'LoopscopeServiceLoopbackRiskHigh',
  'LoopscopeKnownCallersLoopback',
  'LoopscopeServiceUnreachable',
  'LoopscopeObservedUnrepliedConnections',
  'LoopscopeExporterDown',
  'LoopscopeExporterStale',
  'LoopscopeWatchErrors',
];

function findPromtool(): string | undefined {
  const candidate = process.env.PROMTOOL || 'promtool';
  const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? undefined : candidate;
}

const promtool = findPromtool();
const ci = process.env.CI === 'true' || process.env.CI === '1';
const needsPromtool = promtool ? test : test.skip;
if (!promtool) {
  const why = 'promtool not found (apt-get install prometheus, or set PROMTOOL=/path/to/promtool)';
  if (ci)
    test('promtool is installed (CI)', () => {
      throw new Error(`${why}: CI must run the alerting-rule tests`);
    });
  else process.stderr.write(`prometheus-rules.test.ts: skipping the promtool checks: ${why}\n`);
}

function run(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(promtool!, args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

// js-yaml is already in node_modules (a dependency of @kubernetes/client-node and of jest's coverage).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules: Rule[] = (yaml.load(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

describe('deploy/prometheus/loopscope-rules.yaml', () => {
  needsPromtool('promtool check rules', () => {
    const r = run(['check', 'rules', RULES]);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  needsPromtool('promtool test rules (every alert firing and not firing)', () => {
    const r = run(['test', 'rules', RULE_TESTS]);
    if (r.status !== 0) throw new Error(`promtool test rules failed:\n${r.output}`);
    expect(r.output).toContain('SUCCESS');
  });

  test('the alerts are the documented ones, each with severity, summary, description and its runbook anchor', () => {
    expect(rules.map((r) => r.alert)).toEqual(ALERTS);
    for (const r of rules) {
      expect([r.alert, r.labels?.severity]).toEqual([r.alert, expect.stringMatching(/^(warning|critical)$/)]);
      expect(r.annotations?.summary).toBeTruthy();
      expect(r.annotations?.description).toBeTruthy();
      // The critical variant shares its warning's runbook.
      expect(r.annotations?.runbook_url).toBe(`${RUNBOOK}${r.alert!.replace(/High$/, '').toLowerCase()}`);
      expect(r.for).toBeTruthy();
    }
  });

  test('the unit tests cover every alert', () => {
    const text = readFileSync(RULE_TESTS, 'utf8');
    for (const alert of ALERTS) {
      const evals = text.split('\n').filter((l) => l.trim() === `alertname: ${alert}`);
      expect([alert, evals.length]).toEqual([alert, expect.any(Number)]);
      expect(evals.length).toBeGreaterThanOrEqual(2); // one expecting no alert, one expecting it
    }
  });

  test('the risk alerts threshold the worst-client and the known callers\' figures, never "> 0" on the cluster exposure', () => {
    const expr = (alert: string) => rules.find((r) => r.alert === alert)!.expr;
    expect(expr('LoopscopeServiceLoopbackRisk')).toMatch(/loopscope_service_worst_client_ratio\{[^}]*\}\) > 0\.05\n/);
    expect(expr('LoopscopeServiceLoopbackRiskHigh')).toMatch(/loopscope_service_worst_client_ratio\{[^}]*\}\) > 0\.5\n/);
    expect(expr('LoopscopeKnownCallersLoopback')).toMatch(/loopscope_service_callers_loopback_ratio\{[^}]*\}\) > 0\.05\n/);
    expect(expr('LoopscopeKnownCallersLoopback')).toMatch(/loopscope_service_known_callers\{[^}]*\}\) >= 1\n/);
    expect(expr('LoopscopeServiceUnreachable')).toContain('verdict="unreachable"');
    for (const r of rules) expect([r.alert, r.expr.includes('loopscope_service_loopback_ratio')]).toEqual([r.alert, false]);
  });

  test("alert texts cite public sources, never the team page's rule numbers", () => {
    for (const r of rules)
      for (const text of Object.values(r.annotations ?? {})) expect([r.alert, /\bF\d+\b|§/.test(text)]).toEqual([r.alert, false]);
  });

  test('rules only use metrics the exporter publishes', () => {
    for (const r of rules) {
      const used = r.expr.match(/\bloopscope_[a-z_]+/g) ?? [];
      for (const m of used) expect([r.alert, m, METRICS.includes(m)]).toEqual([r.alert, m, true]);
      for (const m of `${r.annotations?.description ?? ''}`.match(/\bloopscope_[a-z_]+/g) ?? []) {
        expect([r.alert, m, METRICS.includes(m)]).toEqual([r.alert, m, true]);
      }
    }
  });
});

describe('the dashboard (apps/grafana-panel/provisioning/dashboards/loopback-risk.json)', () => {
  const dashboard = JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'grafana-panel', 'provisioning', 'dashboards', 'loopback-risk.json'), 'utf8'),
  ) as {
    panels: Array<{ title: string; targets?: Array<{ refId: string; expr: string }> }>;
  };
  // Grafana's variables as Prometheus would see them once Grafana has interpolated the query.
  const interpolated = (expr: string) => expr.replace(/\$__range/g, '1h').replace(/\$(cluster|namespace|service)\b/g, '.*');
  const queries = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: interpolated(t.expr) })),
  );

  needsPromtool('every panel query is valid PromQL (promtool checks them as recording rules)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'loopscope-dashboard-promql-'));
    try {
      const file = join(dir, 'queries.yaml');
      const group = { name: 'dashboard', rules: queries.map((q, i) => ({ record: `loopscope:dashboard_query_${i}`, expr: q.expr })) };
      writeFileSync(file, JSON.stringify({ groups: [group] }));
      const r = run(['check', 'rules', file]);
      if (r.status !== 0)
        throw new Error(
          `promtool rejected a dashboard query:\n${r.output}\n${queries.map((q, i) => `${i} ${q.panel} ${q.refId}: ${q.expr}`).join('\n')}`,
        );
      expect(r.output).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('dashboard queries only use metrics the exporter publishes', () => {
    for (const q of queries)
      for (const m of q.expr.match(/\bloopscope_[a-z_]+/g) ?? []) expect([q.panel, m, METRICS.includes(m)]).toEqual([q.panel, m, true]);
  });
});

describe('deploy/mixin: the single source of the rules, the PrometheusRule and the dashboard', () => {
  const REPO = join(__dirname, '..', '..', '..');
  const haveJsonnet = spawnSync('jsonnet', ['--version']).status === 0;
  if (!haveJsonnet && ci) throw new Error('jsonnet is missing (Debian package jsonnet): .ci/run installs it');
  const needsJsonnet = haveJsonnet ? test : test.skip;
  const GENERATED = [
    'deploy/prometheus/loopscope-rules.yaml',
    'deploy/kubernetes/prometheusrule.yaml',
    'apps/grafana-panel/provisioning/dashboards/loopback-risk.json',
  ];

  needsJsonnet('the committed files are what deploy/mixin/generate.js writes (edit the mixin, not them)', () => {
    const out = mkdtempSync(join(tmpdir(), 'loopscope-mixin-'));
    try {
      const r = spawnSync(process.execPath, [join(REPO, 'deploy', 'mixin', 'generate.js'), out], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      for (const f of GENERATED) expect([f, readFileSync(join(out, f), 'utf8') === readFileSync(join(REPO, f), 'utf8')]).toEqual([f, true]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('the PrometheusRule carries the same groups as the rule file, next to the ServiceMonitor in the kustomization', () => {
    const rule = yaml.load(readFileSync(join(REPO, 'deploy', 'kubernetes', 'prometheusrule.yaml'), 'utf8')) as {
      apiVersion: string;
      kind: string;
      metadata: { namespace: string };
      spec: unknown;
    };
    expect([rule.apiVersion, rule.kind, rule.metadata.namespace]).toEqual(['monitoring.coreos.com/v1', 'PrometheusRule', 'loopscope']);
    expect(rule.spec).toEqual(yaml.load(readFileSync(RULES, 'utf8')));
    const kustomization = yaml.load(readFileSync(join(REPO, 'deploy', 'kubernetes', 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    expect(kustomization.resources).toEqual(expect.arrayContaining(['servicemonitor.yaml', 'prometheusrule.yaml']));
  });

  test('every aggregation keeps the cluster label, and every selector is the configured one', () => {
    for (const r of rules) {
      for (const by of r.expr.match(/\bby \(([^)]*)\)/g) ?? [])
        expect([r.alert, by]).toEqual([r.alert, expect.stringMatching(/^by \(cluster, /)]);
      for (const m of r.expr.match(/\b(?:loopscope_[a-z_]+|up)\{[^}]*\}/g) ?? [])
        expect([r.alert, m]).toEqual([r.alert, expect.stringContaining('job=~".*loopscope.*"')]);
    }
  });

  needsJsonnet('thresholds and selectors are configurable: an override changes every rule', () => {
    const r = spawnSync(
      'jsonnet',
      [
        '-e',
        `std.manifestJson(((import '${join(REPO, 'deploy', 'mixin', 'mixin.libsonnet')}') + { _config+:: { loopscopeSelector: 'job="lb"', clusterLabel: 'k8s_cluster', worstClientRatioThreshold: 0.2 } }).prometheusAlerts)`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    const groups = (JSON.parse(JSON.parse(r.stdout)) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
    const risk = groups.find((g) => g.alert === 'LoopscopeServiceLoopbackRisk')!;
    expect(risk.expr).toContain('max by (k8s_cluster, namespace, service) (loopscope_service_worst_client_ratio{job="lb"}) > 0.2');
    expect(groups.every((g) => !g.expr.includes('.*loopscope.*'))).toBe(true);
  });
});
