// Alerting rules. Every aggregation keeps the cluster label; thresholds and selectors are in
// config.libsonnet.
{
  local c = self._config,
  local runbook(alert) = c.runbookURLPattern % std.asciiLower(alert),
  local by(labels) = 'by (%s)' % std.join(', ', [c.clusterLabel] + labels),
  local dashboard(filters) = '%s/d/%s/loopback-risk?%s' % [c.grafanaURL, c.dashboardUid, std.join('&', ['var-%s={{ $labels.%s }}' % [v, v] for v in filters])],

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'loopscope.services',
        rules: [
          {
            alert: 'LoopscopeServiceLoopbackRisk',
            // On the worst-client figure (what the worst-placed client pod suffers), for Services
            // with client workloads at risk: a Service whose cluster exposure is tiny but which
            // loops for one client half the time alerts; one exposed in theory with no client
            // workload at risk does not; never "> 0" on the exposure. max by: one alert per
            // Service, also while two exporter replicas overlap in a rollout.
            expr: |||
              max %(by)s (loopscope_service_worst_client_ratio{%(sel)s}) > %(threshold)g
              and on (%(cluster)s, namespace, service)
              max %(by)s (loopscope_service_at_risk_callers{%(sel)s}) >= %(callers)g
            ||| % { by: by(['namespace', 'service']), sel: c.loopscopeSelector, threshold: c.worstClientRatioThreshold, cluster: c.clusterLabel, callers: c.atRiskCallersThreshold },
            'for': c.loopbackRiskFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Service {{ $labels.namespace }}/{{ $labels.service }}: in-cluster calls through its internal LB can time out',
              description: 'Up to {{ $value | humanizePercentage }} of new connections from the worst-placed client pods of Service {{ $labels.namespace }}/{{ $labels.service }} are expected to loop back through its internal load balancer to the calling node and time out (the AWS NLB troubleshooting page and the Tencent Cloud doc "CLB loopback" describe it). loopscope_service_known_callers counts the pods known to call it, loopscope_link_loopback_ratio the client workloads at risk; `loopscope explain {{ $labels.namespace }}/{{ $labels.service }}` says why and which fix works.',
              runbook_url: runbook('LoopscopeServiceLoopbackRisk'),
              dashboard_url: dashboard([c.clusterLabel, 'namespace', 'service']),
            },
          },
          {
            alert: 'LoopscopeServiceLoopbackRiskHigh',
            expr: |||
              max %(by)s (loopscope_service_worst_client_ratio{%(sel)s}) > %(threshold)g
              and on (%(cluster)s, namespace, service)
              max %(by)s (loopscope_service_at_risk_callers{%(sel)s}) >= %(callers)g
            ||| % { by: by(['namespace', 'service']), sel: c.loopscopeSelector, threshold: c.worstClientRatioCritical, cluster: c.clusterLabel, callers: c.atRiskCallersThreshold },
            'for': c.loopbackRiskFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Service {{ $labels.namespace }}/{{ $labels.service }}: most in-cluster calls of its worst client loop back',
              description: '{{ $value | humanizePercentage }} of new connections from the worst-placed client pods of Service {{ $labels.namespace }}/{{ $labels.service }} are expected to loop back through its internal load balancer and time out. `loopscope explain {{ $labels.namespace }}/{{ $labels.service }}` says which fix works.',
              runbook_url: runbook('LoopscopeServiceLoopbackRisk'),
              dashboard_url: dashboard([c.clusterLabel, 'namespace', 'service']),
            },
          },
          {
            alert: 'LoopscopeKnownCallersLoopback',
            // On the callers' figure: pods that name the Service's LB address in their env, args
            // or command (or that node evidence saw connect) really call it, so their figure is
            // what the application suffers. max by over sources, ports and exporter replicas.
            expr: |||
              max %(by)s (loopscope_service_callers_loopback_ratio{%(sel)s}) > %(threshold)g
              and on (%(cluster)s, namespace, service)
              max %(by)s (loopscope_service_known_callers{%(sel)s}) >= %(callers)g
            ||| % { by: by(['namespace', 'service']), sel: c.loopscopeSelector, threshold: c.callersRatioThreshold, cluster: c.clusterLabel, callers: c.knownCallersThreshold },
            'for': c.loopbackRiskFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Service {{ $labels.namespace }}/{{ $labels.service }}: the pods known to call it time out through its internal LB',
              description: 'On average {{ $value | humanizePercentage }} of new connections from the pods known to call Service {{ $labels.namespace }}/{{ $labels.service }} (named in their env, args or command, or seen in conntrack) are expected to loop back through its internal load balancer and time out. loopscope_service_known_callers counts them; `loopscope explain {{ $labels.namespace }}/{{ $labels.service }}` names them, where they were found, and which fix works.',
              runbook_url: runbook('LoopscopeKnownCallersLoopback'),
              dashboard_url: dashboard([c.clusterLabel, 'namespace', 'service']),
            },
          },
          {
            alert: 'LoopscopeServiceUnreachable',
            // No connection loops, but some in-cluster clients get none through at all (no
            // eligible backend from their node, outside loadBalancerSourceRanges, no ready endpoint).
            expr: |||
              max %(by)s (loopscope_service_verdict{%(sel)s, verdict="unreachable"}) == 1
            ||| % { by: by(['namespace', 'service']), sel: c.loopscopeSelector },
            'for': c.unreachableFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Service {{ $labels.namespace }}/{{ $labels.service }}: some in-cluster clients cannot connect through its internal LB',
              description: 'Some client pods of Service {{ $labels.namespace }}/{{ $labels.service }} cannot connect through its internal load balancer at all: their node has no eligible backend, they are outside loadBalancerSourceRanges, or the Service has no ready endpoint. `loopscope explain {{ $labels.namespace }}/{{ $labels.service }}` says which clients and why.',
              runbook_url: runbook('LoopscopeServiceUnreachable'),
              dashboard_url: dashboard([c.clusterLabel, 'namespace', 'service']),
            },
          },
          {
            alert: 'LoopscopeObservedUnrepliedConnections',
            // A rate, not a count: the node agents' counters of connections destroyed while still
            // unreplied. It resolves once no new failure has been seen for 10 minutes.
            expr: |||
              sum %(by)s (increase(loopscope_observed_lb_connections_total{%(sel)s, outcome="unreplied"}[10m])) > 0
            ||| % { by: by(['namespace', 'service', 'node']), sel: c.loopscopeSelector },
            'for': c.observedUnrepliedFor,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Service {{ $labels.namespace }}/{{ $labels.service }}: connections from node {{ $labels.node }} are getting no reply',
              description: '{{ $value | humanize }} connection(s) from pods on node {{ $labels.node }} to Service {{ $labels.namespace }}/{{ $labels.service }} through its internal load balancer timed out unreplied in the last 10 minutes (seen by the node agent in conntrack): the loopback is happening now, and clients on that node are timing out.',
              runbook_url: runbook('LoopscopeObservedUnrepliedConnections'),
              dashboard_url: dashboard([c.clusterLabel, 'namespace', 'service']),
            },
          },
        ],
      },
      {
        name: 'loopscope.exporter',
        rules: [
          {
            alert: 'LoopscopeExporterDown',
            // Scraped but failing (one alert per instance), or no loopscope target at all (absent:
            // the Deployment is gone, or service discovery lost it).
            expr: |||
              up{%(sel)s} == 0
                or
              absent(up{%(sel)s})
            ||| % { sel: c.loopscopeSelector },
            'for': c.exporterDownFor,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'loopscope-exporter is down or not scraped',
              description: 'Prometheus has had no successful scrape of loopscope-exporter{{ with $labels.instance }} from {{ . }}{{ end }} for %s, so LB loopback risk is not being watched. Check the loopscope-exporter pods (kubectl -n loopscope get pods) and that the scrape matches %s.' % [c.exporterDownFor, c.loopscopeSelector],
              runbook_url: runbook('LoopscopeExporterDown'),
            },
          },
          {
            alert: 'LoopscopeExporterStale',
            // Two ways to go stale, told apart by the `stale` label; $value is an age in seconds.
            expr: |||
              label_replace(time() - loopscope_last_successful_analysis_timestamp_seconds{%(sel)s} > %(analysis)g, "stale", "analysis", "", "")
                or
              label_replace(loopscope_input_age_seconds{%(sel)s} > %(input)g, "stale", "input", "", "")
            ||| % { sel: c.loopscopeSelector, analysis: c.analysisStaleSeconds, input: c.inputStaleSeconds },
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: "loopscope-exporter's figures are stale",
              description: '{{ if eq $labels.stale "input" }}The Kubernetes objects loopscope analyzes are {{ $value | humanizeDuration }} old: its watches may be stuck or failing.{{ else }}loopscope\'s last successful analysis was {{ $value | humanizeDuration }} ago: the risk figures it exports are out of date.{{ end }} Instance {{ $labels.instance }}; see its logs and loopscope_watch_errors_total.',
              runbook_url: runbook('LoopscopeExporterStale'),
            },
          },
          {
            alert: 'LoopscopeWatchErrors',
            // Failed lists/watches retry with backoff capped at 30 s (about 20 per 10 minutes).
            expr: |||
              sum %(by)s (increase(loopscope_watch_errors_total{%(sel)s}[10m])) > %(errors)g
            ||| % { by: by(['job', 'instance', 'resource']), sel: c.loopscopeSelector, errors: c.watchErrorsPer10m },
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'loopscope-exporter cannot watch {{ $labels.resource }}',
              description: 'The {{ $labels.resource }} list/watch of {{ $labels.instance }} failed {{ $value | printf "%.0f" }} times in the last 10 minutes, continuously for 15 minutes; its view of the cluster is going stale. The exporter logs say why: HTTP 403 means RBAC (deploy/kubernetes/clusterrole.yaml), 401 the token, connection refused or reset the API server or the network path to it.',
              runbook_url: runbook('LoopscopeWatchErrors'),
            },
          },
        ],
      },
    ],
  },
}
