// The "Loopback risk" dashboard. Every query goes through `q()`: the datasource variable and the
// cluster / namespace / service filters, so a test can check that none is missed.
{
  local c = self._config,
  local ds = { type: 'prometheus', uid: '${datasource}' },
  local cluster = '%s=~"$cluster"' % c.clusterLabel,
  // Selector of a per-Service family; `scope` is how far the dashboard's filters apply.
  local sel(scope) = std.join(', ', [c.loopscopeSelector, cluster] + (if scope == 'service' then ['namespace=~"$namespace"', 'service=~"$service"'] else [])),
  local target(ref, expr, format='table', instant=true, legend=null) = {
    datasource: ds,
    refId: ref,
    expr: expr,
    format: format,
    instant: instant,
    range: !instant,
  } + (if legend != null then { legendFormat: legend } else {}),
  local stat(id, title, description, expr, x, fieldConfig, colorMode='value', w=4) = {
    id: id,
    type: 'stat',
    title: title,
    description: description,
    datasource: ds,
    gridPos: { h: 5, w: w, x: x, y: 0 },
    fieldConfig: { defaults: fieldConfig, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: colorMode, graphMode: 'none', textMode: 'value', justifyMode: 'auto', orientation: 'auto' },
    targets: [target('A', expr, 'time_series')],
  },
  local thresholds(steps) = { mode: 'absolute', steps: [{ color: s[0], value: s[1] } for s in steps] },
  local variable(name, label, query) = {
    name: name,
    label: label,
    type: 'query',
    datasource: ds,
    query: { query: query, refId: 'loopscope-%s' % name },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    // Matches series without the label too (a single-cluster Prometheus has no cluster label).
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  },

  grafanaDashboards+:: {
    'loopback-risk.json': {
      __inputs: [{ name: 'DS_PROMETHEUS', label: c.datasourceName, description: 'Prometheus that scrapes loopscope-exporter (honor_labels: true)', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
      __requires: [
        { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
        { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
        { type: 'panel', id: 'stat', name: 'Stat', version: '' },
        { type: 'panel', id: 'table', name: 'Table', version: '' },
        { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
      ],
      uid: c.dashboardUid,
      title: c.dashboardTitle,
      description: 'Kubernetes Services whose pods time out calling them through an internal cloud load balancer (LB loopback), from loopscope-exporter.',
      tags: ['loopscope', 'kubernetes'],
      timezone: 'browser',
      schemaVersion: 41,
      version: 2,
      editable: true,
      graphTooltip: 1,
      refresh: '30s',
      time: { from: 'now-6h', to: 'now' },
      annotations: { list: [] },
      links: [],
      templating: {
        list: [
          { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', regex: '', current: { selected: true, text: c.datasourceName, value: '${DS_PROMETHEUS}' }, hide: 0 },
          variable('cluster', 'Cluster', 'label_values(loopscope_build_info{%s}, %s)' % [c.loopscopeSelector, c.clusterLabel]),
          variable('namespace', 'Namespace', 'label_values(loopscope_service_info{%s}, namespace)' % sel('cluster')),
          variable('service', 'Service', 'label_values(loopscope_service_info{%s, namespace=~"$namespace"}, service)' % sel('cluster')),
        ],
      },
      panels: [
        // The headline first: what the worst-placed client suffers, then the Services and callers at risk.
        stat(9, 'Worst client', 'The largest share of new connections from one client pod that loops back through an internal LB and times out, over every LoadBalancer Service (loopscope_service_worst_client_ratio): the headline figure, not diluted by the size of the cluster.', 'max(loopscope_service_worst_client_ratio{%s}) or vector(0)' % sel('service'), 0, { unit: 'percentunit', min: 0, max: 1, color: { mode: 'thresholds' }, thresholds: thresholds([['green', null], ['orange', 0.000001], ['red', c.worstClientRatioThreshold]]) }, 'background'),
        stat(1, 'Services at risk', 'LoadBalancer Services whose worst client loops back more than %g%% of the time (the alert threshold).' % (c.worstClientRatioThreshold * 100), 'count(max by (%s, namespace, service) (loopscope_service_worst_client_ratio{%s}) > %g) or vector(0)' % [c.clusterLabel, sel('service'), c.worstClientRatioThreshold], 4, { unit: 'none', color: { mode: 'thresholds' }, thresholds: thresholds([['green', null], ['red', 1]]) }, 'background'),
        stat(10, 'Services whose known callers loop', 'LoadBalancer Services with pods known to call them (named in their env, args or command, or seen in conntrack) whose figure is above %g%% (the LoopscopeKnownCallersLoopback threshold).' % (c.callersRatioThreshold * 100), 'count(max by (%s, namespace, service) (loopscope_service_callers_loopback_ratio{%s}) > %g) or vector(0)' % [c.clusterLabel, sel('service'), c.callersRatioThreshold], 8, { unit: 'none', color: { mode: 'thresholds' }, thresholds: thresholds([['green', null], ['red', 1]]) }, 'background'),
        stat(2, 'Exporter ready', '1 once the exporter has analysed its first full sync.', 'min(loopscope_ready{%s})' % sel('cluster'), 12, {
          mappings: [{ type: 'value', options: { '0': { text: 'Not ready', color: 'red' }, '1': { text: 'Ready', color: 'green' } } }, { type: 'special', options: { match: 'null', result: { text: 'Down', color: 'red' } } }],
          color: { mode: 'thresholds' },
          thresholds: thresholds([['red', null], ['green', 1]]),
        }, 'background'),
        stat(3, 'Analysis age', 'Seconds since the analysis was last known current.', 'time() - min(loopscope_last_successful_analysis_timestamp_seconds{%s})' % sel('cluster'), 16, { unit: 's', color: { mode: 'thresholds' }, thresholds: thresholds([['green', null], ['orange', 120], ['red', c.analysisStaleSeconds]]) }),
        stat(4, 'Links omitted by the exporter cap', 'Links with probability > 0 left out of loopscope_link_loopback_ratio by --max-links.', 'max(loopscope_links_omitted{%s})' % sel('cluster'), 20, { unit: 'none', color: { mode: 'thresholds' }, thresholds: thresholds([['green', null], ['orange', 1]]) }),
        {
          id: 5,
          type: 'loopscope-links-panel',
          title: 'Loopback links',
          description: "Clients whose connections to a Service's internal LB loop back to their own node. Needs the loopscope-links-panel plugin; without it, the table below shows the same links.",
          datasource: ds,
          gridPos: { h: 14, w: 24, x: 0, y: 5 },
          options: { minProbability: 0, groupClientsBy: 'workload', showSafe: false, maxLinks: 50, orientation: 'horizontal', exporterUrl: '' },
          targets: [
            target('A', 'topk(200, loopscope_link_loopback_ratio{%s})' % sel('service')),
            target('B', 'loopscope_service_info{%s}' % sel('service')),
            target('C', 'loopscope_service_loopback_ratio{%s}' % sel('service')),
            target('D', 'loopscope_service_verdict{%s} == 1' % sel('service')),
            target('E', 'loopscope_service_worst_client_ratio{%s}' % sel('service')),
            target('F', 'loopscope_service_known_callers{%s}' % sel('service')),
            target('G', 'loopscope_service_callers_loopback_ratio{%s}' % sel('service')),
          ],
        },
        {
          // The fallback: Grafana's own table, so the links are there where the plugin is not
          // installed (managed Grafana often allows no unsigned plugins).
          id: 8,
          type: 'table',
          title: 'Loopback links (table)',
          description: 'The most likely looping links: a client workload on a node → the LB ingress of a Service, with the probability that its new connection loops back. Grafana built-in; works without the loopscope panel plugin.',
          datasource: ds,
          gridPos: { h: 10, w: 24, x: 0, y: 19 },
          targets: [target('A', 'topk(200, loopscope_link_loopback_ratio{%s})' % sel('service'))],
          transformations: [
            { id: 'organize', options: {
              excludeByName: { Time: true, __name__: true, job: true, instance: true, endpoint: true, pod: true, container: true, [c.clusterLabel]: true },
              indexByName: { client_namespace: 0, client_kind: 1, client_workload: 2, node: 3, namespace: 4, service: 5, ip: 6, hostname: 7, port: 8, 'Value #A': 9 },
              renameByName: { client_namespace: 'Client namespace', client_kind: 'Kind', client_workload: 'Client workload', node: 'Node', namespace: 'Namespace', service: 'Service', ip: 'LB IP', hostname: 'LB hostname', port: 'Port', 'Value #A': 'Loopback probability' },
            } },
            { id: 'sortBy', options: { sort: [{ field: 'Loopback probability', desc: true }] } },
          ],
          fieldConfig: {
            defaults: { custom: { align: 'auto', cellOptions: { type: 'auto' } } },
            overrides: [
              { matcher: { id: 'byName', options: 'Loopback probability' }, properties: [{ id: 'unit', value: 'percentunit' }, { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'gradient' } }, { id: 'color', value: { mode: 'continuous-YlRd' } }, { id: 'min', value: 0 }, { id: 'max', value: 1 }] },
              { matcher: { id: 'byName', options: 'Service' }, properties: [{ id: 'links', value: [{ title: 'Filter the dashboard to ${__data.fields.Namespace}/${__value.raw}', url: '/d/%s/loopback-risk?var-cluster=${cluster}&var-namespace=${__data.fields.Namespace}&var-service=${__value.raw}&${datasource:queryparam}' % c.dashboardUid }] }] },
            ],
          },
          options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], countRows: false } },
        },
        {
          id: 6,
          type: 'timeseries',
          title: 'Worst client loopback probability per Service',
          datasource: ds,
          gridPos: { h: 8, w: 12, x: 0, y: 29 },
          fieldConfig: { defaults: { unit: 'percentunit', min: 0, max: 1, custom: { drawStyle: 'line', lineWidth: 2, fillOpacity: 10, showPoints: 'never' } }, overrides: [] },
          options: { legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'], showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
          targets: [target('A', 'topk(20, max by (%s, namespace, service) (loopscope_service_worst_client_ratio{%s}) > 0)' % [c.clusterLabel, sel('service')], 'time_series', false, '{{namespace}}/{{service}}')],
        },
        {
          id: 7,
          type: 'table',
          title: 'Services',
          description: 'Each LoadBalancer Service: its verdict; the worst client (what the worst-placed client pod suffers: the headline); the pods known to call it and their figure; the cluster exposure (the mean over every client pod: it ranks Services); the client pods at risk.',
          datasource: ds,
          gridPos: { h: 8, w: 12, x: 12, y: 29 },
          targets: [
            target('A', 'loopscope_service_verdict{%s} == 1' % sel('service')),
            target('B', 'max by (%s, namespace, service) (loopscope_service_loopback_ratio{%s})' % [c.clusterLabel, sel('service')]),
            target('C', 'max by (%s, namespace, service) (loopscope_service_worst_client_ratio{%s})' % [c.clusterLabel, sel('service')]),
            target('D', 'max by (%s, namespace, service) (loopscope_service_at_risk_client_pods{%s})' % [c.clusterLabel, sel('service')]),
            // Per ingress and source once (max over exporter replicas), summed over the sources; the Service's most-called ingress.
            target('E', 'max by (%s, namespace, service) (sum by (%s, namespace, service, ip, hostname, port) (max by (%s, namespace, service, ip, hostname, port, source) (loopscope_service_known_callers{%s})))' % [c.clusterLabel, c.clusterLabel, c.clusterLabel, sel('service')]),
            target('F', 'max by (%s, namespace, service) (loopscope_service_callers_loopback_ratio{%s})' % [c.clusterLabel, sel('service')]),
          ],
          transformations: [
            { id: 'merge', options: {} },
            { id: 'organize', options: {
              excludeByName: { Time: true, __name__: true, 'Value #A': true, job: true, instance: true, endpoint: true, pod: true, container: true },
              indexByName: { [c.clusterLabel]: 0, namespace: 1, service: 2, verdict: 3, 'Value #C': 4, 'Value #E': 5, 'Value #F': 6, 'Value #B': 7, 'Value #D': 8 },
              renameByName: { [c.clusterLabel]: 'Cluster', namespace: 'Namespace', service: 'Service', verdict: 'Verdict', 'Value #C': 'Worst client', 'Value #E': 'Known callers', 'Value #F': "Callers' figure", 'Value #B': 'Cluster exposure', 'Value #D': 'At-risk client pods' },
            } },
            { id: 'sortBy', options: { sort: [{ field: 'Worst client', desc: true }] } },
          ],
          fieldConfig: {
            defaults: { custom: { align: 'auto', cellOptions: { type: 'auto' } } },
            overrides: [
              // Grafana's automatic decimals: a fixed 1 would print "0.0%" for a figure above zero.
              { matcher: { id: 'byRegexp', options: "Cluster exposure|Worst client|Callers' figure" }, properties: [{ id: 'unit', value: 'percentunit' }, { id: 'custom.cellOptions', value: { type: 'color-text' } }, { id: 'color', value: { mode: 'thresholds' } }, { id: 'thresholds', value: thresholds([['green', null], ['orange', 0.000001], ['red', c.worstClientRatioThreshold]]) }] },
              { matcher: { id: 'byName', options: 'Verdict' }, properties: [{ id: 'mappings', value: [{ type: 'value', options: { loopback: { color: 'red', index: 0 }, unreachable: { color: 'orange', index: 1 }, unknown: { color: 'purple', index: 2 }, safe: { color: 'green', index: 3 } } }] }, { id: 'custom.cellOptions', value: { type: 'color-text' } }] },
            ],
          },
          options: { showHeader: true, cellHeight: 'sm' },
        },
        {
          // Predicted beside observed, per Service and node: the model's figure for the node's clients
          // (the worst link on that node) next to what the node agents' conntrack events saw over the
          // dashboard's time range. Observed rows appear only where node agents run.
          id: 9,
          type: 'table',
          title: 'Predicted vs observed (node agents)',
          description: "Per Service and node: the predicted probability that a client pod's new connection through the LB loops back (worst link on the node), and the connections the node agent saw over the time range — timed out unreplied, replied, and the observed failing share. A predicted risk with no observed failures may mean no caller uses the LB address; observed failures where none is predicted point at an input the model lacks.",
          datasource: ds,
          gridPos: { h: 9, w: 24, x: 0, y: 37 },
          targets: [
            target('A', 'max by (%s, namespace, service, node) (loopscope_link_loopback_ratio{%s})' % [c.clusterLabel, sel('service')]),
            target('B', 'sum by (%s, namespace, service, node) (increase(loopscope_observed_lb_connections_total{%s, outcome="unreplied"}[$__range]))' % [c.clusterLabel, sel('service')]),
            target('C', 'sum by (%s, namespace, service, node) (increase(loopscope_observed_lb_connections_total{%s, outcome="replied"}[$__range]))' % [c.clusterLabel, sel('service')]),
            target('D', 'sum by (%s, namespace, service, node) (increase(loopscope_observed_lb_connections_total{%s, outcome="unreplied"}[$__range])) / sum by (%s, namespace, service, node) (increase(loopscope_observed_lb_connections_total{%s}[$__range]))' % [c.clusterLabel, sel('service'), c.clusterLabel, sel('service')]),
          ],
          transformations: [
            { id: 'merge', options: {} },
            { id: 'organize', options: {
              excludeByName: { Time: true, __name__: true, job: true, instance: true, endpoint: true, pod: true, container: true },
              indexByName: { [c.clusterLabel]: 0, namespace: 1, service: 2, node: 3, 'Value #A': 4, 'Value #B': 5, 'Value #C': 6, 'Value #D': 7 },
              renameByName: { [c.clusterLabel]: 'Cluster', namespace: 'Namespace', service: 'Service', node: 'Node', 'Value #A': 'Predicted', 'Value #B': 'Observed unreplied', 'Value #C': 'Observed replied', 'Value #D': 'Observed failing share' },
            } },
            { id: 'sortBy', options: { sort: [{ field: 'Observed unreplied', desc: true }] } },
          ],
          fieldConfig: {
            defaults: { custom: { align: 'auto', cellOptions: { type: 'auto' } } },
            overrides: [
              { matcher: { id: 'byRegexp', options: 'Predicted|Observed failing share' }, properties: [{ id: 'unit', value: 'percentunit' }, { id: 'decimals', value: 1 }, { id: 'custom.cellOptions', value: { type: 'color-text' } }, { id: 'color', value: { mode: 'thresholds' } }, { id: 'thresholds', value: thresholds([['green', null], ['orange', 0.000001], ['red', c.worstClientRatioThreshold]]) }] },
              { matcher: { id: 'byRegexp', options: 'Observed (un)?replied' }, properties: [{ id: 'unit', value: 'short' }, { id: 'decimals', value: 0 }] },
            ],
          },
          options: { showHeader: true, cellHeight: 'sm' },
        },
      ],
    },
  },
}
