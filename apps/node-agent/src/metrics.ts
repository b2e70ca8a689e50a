import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Agent } from './agent';
import { DUMP_SOURCES } from './dumps/datapathDumps';

/**
 * The agent's metrics, on a registry of its own, computed at scrape time from the agent's state
 * (counters are monotonic in the agent, so they are exported as counters with their current value).
 */
export function createMetrics(agent: Agent, authFailures: Map<string, number>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'loopscope_node_agent_' });
  // Gauges named like counters: promtool check metrics rejects them.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(`loopscope_node_agent_${name}`);
  const node = agent.options.nodeName;

  new Counter({
    name: 'loopscope_node_lb_connections_total',
    help: 'Connections from this node to an LB ingress point, by outcome: replied, or destroyed by conntrack while still unreplied (the caller timed out). Observed in conntrack events on the node.',
    labelNames: ['client_ip', 'ingress_ip', 'ingress_port', 'protocol', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of agent.counters.all()) {
        const labels = { client_ip: c.clientIp, ingress_ip: c.ingressIp, ingress_port: String(c.ingressPort), protocol: c.protocol };
        this.inc({ ...labels, outcome: 'replied' }, c.replied);
        this.inc({ ...labels, outcome: 'unreplied' }, c.unreplied);
      }
    },
  });
  new Counter({
    name: 'loopscope_node_lb_connections_opened_total',
    help: 'Connections opened from this node to an LB ingress point (conntrack NEW events).',
    labelNames: ['client_ip', 'ingress_ip', 'ingress_port', 'protocol'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of agent.counters.all())
        this.inc({ client_ip: c.clientIp, ingress_ip: c.ingressIp, ingress_port: String(c.ingressPort), protocol: c.protocol }, c.opened);
    },
  });
  new Gauge({
    name: 'loopscope_node_agent_info',
    help: 'The node agent: its node and the iptables backend it reads (chosen as kube-proxy’s iptables-wrapper does).',
    labelNames: ['node', 'iptables_backend'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ node, iptables_backend: agent.dumps.backend?.backend ?? 'unknown' }, 1);
    },
  });
  new Gauge({
    name: 'loopscope_node_agent_dump_up',
    help: 'Whether the last run of each datapath dump succeeded (1) or not (0: missing tool, no permission, timeout).',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of DUMP_SOURCES) {
        const d = agent.dumps.dumps.get(s);
        if (d) this.set({ source: s }, d.status === 'ok' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'loopscope_node_agent_dump_age_seconds',
    help: 'Seconds since each datapath dump was last read successfully.',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      for (const s of DUMP_SOURCES) {
        const at = agent.dumps.dumps.get(s)?.collectedAt;
        if (at !== undefined) this.set({ source: s }, (now - at) / 1000);
      }
    },
  });
  const gauge = (name: string, help: string, value: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  };
  const counter = (name: string, help: string, value: () => number, labelNames: string[] = []): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  };
  gauge('loopscope_node_agent_conntrack_up', 'Whether the conntrack event stream (conntrack -E) is running.', () =>
    agent.events.running ? 1 : 0,
  );
  counter(
    'loopscope_node_agent_conntrack_restarts_total',
    'Times the conntrack event stream died and was restarted (with backoff).',
    () => agent.events.restarts,
  );
  counter(
    'loopscope_node_agent_conntrack_overflows_total',
    'ENOBUFS reports from conntrack -E: the kernel dropped events because the agent fell behind.',
    () => agent.events.overflows,
  );
  counter('loopscope_node_agent_conntrack_events_total', 'conntrack event lines read.', () => agent.counters.events);
  counter(
    'loopscope_node_agent_conntrack_unparsed_total',
    'conntrack output lines that were not an event the agent could read.',
    () => agent.counters.unparsed,
  );
  gauge(
    'loopscope_node_agent_tracked_flows',
    'Flows to LB ingress points waiting for their first reply.',
    () => agent.counters.trackedFlows,
  );
  counter(
    'loopscope_node_agent_flows_evicted_total',
    'Flows dropped from tracking at the cap (--max-tracked-flows); their DESTROY is still counted.',
    () => agent.counters.evicted,
  );
  counter(
    'loopscope_node_agent_series_dropped_total',
    'Connections not counted because the cap on (client, ingress) pairs (--max-series) was reached.',
    () => agent.counters.seriesDropped,
  );
  gauge('loopscope_node_agent_ingress_points', 'LB ingress points (IP, port, protocol) the agent watches for.', () => agent.ingress.size);
  new Counter({
    name: 'loopscope_node_agent_evidence_auth_failures_total',
    help: 'Requests to the evidence endpoint refused, by reason (missing, invalid, forbidden, unverifiable).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of authFailures) this.inc({ reason }, n);
    },
  });
  return registry;
}
