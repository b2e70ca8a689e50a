// What an operator changes, in the conventions of kubernetes-mixin (_config). Override it:
//   (import 'mixin.libsonnet') + { _config+:: { loopscopeSelector: 'job="my-loopscope"' } }
{
  _config+:: {
    // Selects the exporter's series (its scrape job). Used in every alert and dashboard query.
    loopscopeSelector: 'job=~".*loopscope.*"',
    // The label that tells clusters apart in a multi-cluster Prometheus (Thanos, Mimir, …); kept
    // in every aggregation. Series without it still work (one cluster).
    clusterLabel: 'cluster',
    // LoopscopeServiceLoopbackRisk: the worst client's figure (one workload's pods on one node)
    // above which an at-risk Service alerts, and how many client workloads it must have at risk.
    worstClientRatioThreshold: 0.05,
    atRiskCallersThreshold: 1,
    loopbackRiskFor: '15m',
    // Above this worst-client figure the alert is critical.
    worstClientRatioCritical: 0.5,
    // LoopscopeKnownCallersLoopback: the callers' figure (mean over the pods known to call the
    // Service, from their env/args/command or conntrack) above which it fires, and how many known
    // callers it needs. Known callers really call it: this one is critical.
    callersRatioThreshold: 0.05,
    knownCallersThreshold: 1,
    // LoopscopeServiceUnreachable: how long some in-cluster clients must be unable to connect.
    unreachableFor: '15m',
    observedUnrepliedFor: '5m',
    exporterDownFor: '5m',
    analysisStaleSeconds: 600,
    inputStaleSeconds: 900,
    watchErrorsPer10m: 5,
    // The dashboard, and the links to it from the alerts (and the Slack bot's LOOPSCOPE_DASHBOARD_URL).
    // grafanaURL: where your Grafana is; empty keeps the links relative to it.
    grafanaURL: '',
    dashboardUid: 'loopscope-loopback-risk',
    dashboardTitle: 'Loopback risk',
    runbookURLPattern: 'https://github.com/loopscope/loopscope/blob/main/README.md#runbook-%s',
    // Datasource the dashboard selects first (its `datasource` variable's default).
    datasourceName: 'Prometheus',
  },
}
