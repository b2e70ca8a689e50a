/**
 * Live evidence from the node agents (`loopscope-node-agent`, one per node).
 *
 * - Finds them through the agents' Service EndpointSlices (`kubernetes.io/service-name=<name>` in
 *   its namespace; one endpoint per node, with its `nodeName`), or takes `--node-agent URL` (tests,
 *   clusters without the Service).
 * - Pulls each agent's `/api/v1/evidence` every interval with a bearer token read from a file on
 *   every poll (the projected ServiceAccount token rotates); the agent checks it with a TokenReview.
 * - Fresh dumps become the node's evidence for the model (steps 1–2 from the node's own rules);
 *   an agent not heard from for three intervals is stale: its node falls back to inference.
 * - The agents' connection counters, per (client IP → ingress point), are summed per Service and
 *   node: `loopscope_observed_lb_connections_total` (counters: rate() goes quiet when failures
 *   stop), plus the unreplied connections within the last window and the age of the last one.
 *
 * Nothing logged carries the token; an agent's error is reduced to a status or a network code.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  isLoopscopeError,
  loadNodeDumps,
  readNodeAgentEvidence,
  type NodeAgentEvidence as AgentEvidence,
  type NodeEvidence,
} from '@loopscope/core';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Engine } from '../engine';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface NodeAgentOptions {
  /** Fixed agent URLs (`--node-agent`); when empty, the agents' EndpointSlices are listed. */
  urls: string[];
  /** `namespace/name` of the agents' Service. */
  service: string;
  tokenFile: string;
  intervalSeconds: number;
  /** Unreplied connections within this window are "recent"; older ones age out. */
  windowSeconds: number;
  log: Log;
  /** Lists EndpointSlices of the agents' Service (the Kubernetes source provides it). */
  listEndpoints?: (namespace: string, service: string) => Promise<Array<{ url: string; nodeName?: string }>>;
}

interface AgentState {
  url: string;
  node?: string;
  lastSuccess?: number;
  lastAttempt?: number;
  error?: string;
  evidence?: AgentEvidence;
  /** Connection rows the last document had that were left out (logged when it changes). */
  droppedConnections: number;
  /** Digest of the dumps last handed to the model. */
  dumpsDigest?: string;
  /** (service|node) → [time, unreplied total] samples within the window, oldest first. */
  history: Map<string, Array<[number, number]>>;
  startedAt?: string;
}

export interface ObservedRow {
  namespace: string;
  service: string;
  node: string;
  opened: number;
  replied: number;
  unreplied: number;
  /** Unreplied connections within the window. */
  recentUnreplied: number;
  lastUnrepliedAt?: string;
  lastUnrepliedAgeSeconds?: number;
  stale: boolean;
}

const MAX_BODY = 64 * 1024 * 1024;

/** The agent's dump sources → the node-dump inputs of the model (`nft list ruleset` is the text form). */
const AGENT_DUMPS = {
  iptablesSave: 'iptablesSave',
  ip6tablesSave: 'ip6tablesSave',
  ipset: 'ipset',
  addr: 'addr',
  nftRuleset: 'nftText',
} as const;

export class NodeAgentEvidence {
  private readonly agents = new Map<string, AgentState>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  private discoveryError?: string;
  private tokenError?: string;

  constructor(
    private readonly engine: Engine,
    private readonly options: NodeAgentOptions,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.intervalSeconds * 1000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private stale(a: AgentState): boolean {
    return a.lastSuccess === undefined || this.now() - a.lastSuccess > 3 * this.options.intervalSeconds * 1000;
  }

  /** One round: discover, pull every agent (bounded concurrency), hand fresh dumps to the model. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      let targets: Array<{ url: string; nodeName?: string }>;
      if (this.options.urls.length > 0) targets = this.options.urls.map((url) => ({ url }));
      else if (this.options.listEndpoints) {
        const [ns, name] = this.options.service.split('/') as [string, string];
        try {
          targets = await this.options.listEndpoints(ns, name);
          this.discoveryError = undefined;
        } catch (err) {
          const message = (err as Error).message;
          // Logged when it changes, not on every poll.
          if (message !== this.discoveryError)
            this.options.log(
              'warn',
              `node agents: cannot list the EndpointSlices of ${this.options.service} (${message}); keeping the known agents`,
            );
          this.discoveryError = message;
          targets = [...this.agents.values()].map((a) => ({ url: a.url, nodeName: a.node }));
        }
      } else targets = [];
      const wanted = new Set(targets.map((t) => t.url));
      for (const url of this.agents.keys()) if (!wanted.has(url)) this.agents.delete(url);
      let token: string | undefined;
      if (targets.length > 0) {
        try {
          token = readFileSync(this.options.tokenFile, 'utf8').trim();
          this.tokenError = undefined;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'error';
          if (code !== this.tokenError)
            this.options.log(
              'warn',
              `node agents: cannot read the token file ${this.options.tokenFile} (${code}); agents will refuse the requests`,
            );
          this.tokenError = code;
        }
      }
      const queue = [...targets];
      const worker = async (): Promise<void> => {
        for (let t = queue.shift(); t; t = queue.shift()) await this.pull(t.url, t.nodeName, token);
      };
      await Promise.all(Array.from({ length: Math.min(16, queue.length) }, worker));
      this.updateModel();
      this.observed(); // records this round's totals, so "recent" does not depend on scrapes
    } finally {
      this.polling = false;
    }
  }

  private async pull(url: string, nodeName: string | undefined, token: string | undefined): Promise<void> {
    let a = this.agents.get(url);
    if (!a) this.agents.set(url, (a = { url, node: nodeName, history: new Map(), droppedConnections: 0 }));
    a.lastAttempt = this.now();
    const before = a.error;
    try {
      const res = await fetch(`${url.replace(/\/$/, '')}/api/v1/evidence`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new Error(`HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (the agent refused the exporter’s token)' : ''}`);
      }
      const text = await readCapped(res, MAX_BODY);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error('the evidence is not JSON');
      }
      const ev = readNodeAgentEvidence(parsed);
      if (nodeName && ev.node !== nodeName) throw new Error(`the agent says it runs on ${ev.node}, its EndpointSlice says ${nodeName}`);
      if (a.startedAt !== ev.startedAt) a.history.clear(); // the agent restarted: its counters did too
      a.startedAt = ev.startedAt;
      a.node = ev.node;
      a.evidence = ev;
      a.lastSuccess = this.now();
      a.error = undefined;
      if (before) this.options.log('info', `node agent ${url} (${ev.node}) reachable again`);
      if (ev.droppedConnections !== a.droppedConnections && ev.droppedConnections > 0)
        this.options.log(
          'warn',
          `node agent ${url} (${ev.node}): ${ev.droppedConnections} connection row(s) left out (not a client IP → ingress IP:port, protocol and counts); the others are used`,
        );
      a.droppedConnections = ev.droppedConnections;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      a.error = isLoopscopeError(e)
        ? e.message
        : e.name === 'TimeoutError'
          ? 'timed out after 10 s'
          : (e.cause?.code ?? e.message.slice(0, 200));
      if (a.error !== before)
        this.options.log(
          'warn',
          `node agent ${url}${a.node ? ` (${a.node})` : ''}: ${a.error}${this.stale(a) ? '; its node falls back to inference' : ''}`,
        );
    }
  }

  /** Fresh agents' dumps as node evidence; stale agents' nodes dropped (inference again). */
  private updateModel(): void {
    const dumps = new Map<string, NodeEvidence>();
    let changed = false;
    for (const a of this.agents.values()) {
      const fresh = !this.stale(a) && a.evidence && a.node;
      const input: Partial<Record<(typeof AGENT_DUMPS)[keyof typeof AGENT_DUMPS], { text: string; file: string }>> = {};
      if (fresh)
        for (const [source, field] of Object.entries(AGENT_DUMPS)) {
          const d = a.evidence!.dumps.get(source);
          if (d?.text) input[field] = { text: d.text, file: `${a.node}: ${source} (node agent, ${d.collectedAt ?? 'unknown time'})` };
        }
      // Its connections make the model's observed callers: a new (client, ingress) pair or a first
      // failure rebuilds the model, the counters growing do not.
      const connections = fresh ? a.evidence!.connections : [];
      const pairs = connections.map((c) => `${c.clientIp}|${c.ingressIp}|${c.ingressPort}|${c.protocol}|${c.unreplied > 0}`).sort();
      const digest =
        Object.keys(input).length || pairs.length
          ? createHash('sha256')
              .update(JSON.stringify([Object.entries(input).map(([k, v]) => [k, v.text]), pairs]))
              .digest('hex')
          : undefined;
      if (digest !== a.dumpsDigest) changed = true;
      a.dumpsDigest = digest;
      if (digest && a.node) dumps.set(a.node, loadNodeDumps({ ...input, connections, connectionsSource: 'node agent conntrack events' }));
    }
    // Rules change rarely: the model is rebuilt only when some node's dumps did.
    if (changed) this.engine.setLiveNodeDumps(dumps);
  }

  /** Observed connections per Service and node, with the recent failures and their age. */
  observed(): ObservedRow[] {
    const byIngress = new Map<string, { namespace: string; name: string }>();
    for (const svc of this.engine.analysis?.context.cluster.services ?? []) {
      for (const i of svc.ingresses)
        if (i.ip)
          for (const p of svc.ports)
            byIngress.set(`${i.ip}|${p.port}|${p.protocol.toLowerCase()}`, { namespace: svc.namespace, name: svc.name });
    }
    const now = this.now();
    const rows = new Map<string, ObservedRow & { last?: number }>();
    for (const a of this.agents.values()) {
      if (!a.evidence || !a.node) continue;
      const stale = this.stale(a);
      for (const c of a.evidence.connections) {
        const svc =
          byIngress.get(`${c.ingressIp}|${c.ingressPort}|${c.protocol}`) ??
          (c.service ? { namespace: c.service.split('/')[0]!, name: c.service.split('/')[1]! } : undefined);
        if (!svc) continue;
        const key = `${svc.namespace}/${svc.name}|${a.node}`;
        let r = rows.get(key);
        if (!r)
          rows.set(
            key,
            (r = {
              namespace: svc.namespace,
              service: svc.name,
              node: a.node,
              opened: 0,
              replied: 0,
              unreplied: 0,
              recentUnreplied: 0,
              stale,
            }),
          );
        r.opened += c.opened;
        r.replied += c.replied;
        r.unreplied += c.unreplied;
        const at = c.lastUnrepliedAt ? Date.parse(c.lastUnrepliedAt) : undefined;
        if (at !== undefined && (r.last === undefined || at > r.last)) r.last = at;
      }
    }
    const window = this.options.windowSeconds * 1000;
    for (const [key, r] of rows) {
      const a = [...this.agents.values()].find((x) => x.node === r.node)!;
      let h = a.history.get(key);
      if (!h) a.history.set(key, (h = []));
      if (a.lastSuccess !== undefined && (h.length === 0 || h[h.length - 1]![0] < a.lastSuccess)) h.push([a.lastSuccess, r.unreplied]);
      while (h.length > 1 && h[1]![0] <= now - window) h.shift();
      // Failures within the window: the increase since the oldest sample in it; before the first
      // sample, those whose last one is within the window.
      const base = h[0]![0] <= now - window ? h[0]![1] : r.last !== undefined && r.last > now - window ? 0 : r.unreplied;
      r.recentUnreplied = Math.max(0, r.unreplied - base);
      if (r.last !== undefined) {
        r.lastUnrepliedAt = new Date(r.last).toISOString();
        r.lastUnrepliedAgeSeconds = Math.max(0, Math.round((now - r.last) / 1000));
      }
      delete r.last;
    }
    return [...rows.values()];
  }

  /**
   * What the agents saw for one Service, as sentences for the explanation's evidence ("seen
   * failing", not only "at risk"), the most recent failures first.
   */
  notes(namespace: string, service: string): string[] {
    const window = formatAge(this.options.windowSeconds);
    return this.observed()
      .filter((r) => r.namespace === namespace && r.service === service && (r.unreplied > 0 || r.replied > 0))
      .sort(
        (a, b) =>
          b.recentUnreplied - a.recentUnreplied || (a.lastUnrepliedAgeSeconds ?? Infinity) - (b.lastUnrepliedAgeSeconds ?? Infinity),
      )
      .map((r) => {
        const last = r.lastUnrepliedAgeSeconds !== undefined ? ` (the last ${formatAge(r.lastUnrepliedAgeSeconds)} ago)` : '';
        const what =
          r.recentUnreplied > 0
            ? `seen failing: ${r.recentUnreplied} connection(s) from pods on ${r.node} to its LB timed out unreplied in the last ${window}${last}`
            : `${r.node}: no connection to its LB timed out in the last ${window}${r.unreplied > 0 ? `; ${r.unreplied} did since the agent started${last}` : ''}`;
        return `${what}; ${r.replied} replied — node agent conntrack events${r.stale ? ', agent stale: last known figures' : ''}`;
      });
  }

  agentStatus(): Array<{ url: string; node?: string; up: boolean; lastSuccessAt?: string; error?: string }> {
    return [...this.agents.values()].map((a) => ({
      url: a.url,
      node: a.node,
      up: !this.stale(a),
      lastSuccessAt: a.lastSuccess ? new Date(a.lastSuccess).toISOString() : undefined,
      error: a.error,
    }));
  }

  /** The observed-connection families, on the exporter's registries (text and OpenMetrics). */
  registerMetrics(registers: Registry[]): void {
    // prom-client calls collect() with the metric as `this`, so the agents' figures come through bound readers.
    const observed = () => this.observed();
    const agentStatus = () => this.agentStatus();
    new Counter({
      name: 'loopscope_observed_lb_connections_total',
      help: "Connections from a node's pods to this Service's LB ingress seen by the node agent's conntrack events, by outcome: replied, or destroyed while still unreplied (timed out). A counter: alert on its rate.",
      labelNames: ['namespace', 'service', 'node', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const r of observed()) {
          this.inc({ namespace: r.namespace, service: r.service, node: r.node, outcome: 'replied' }, r.replied);
          this.inc({ namespace: r.namespace, service: r.service, node: r.node, outcome: 'unreplied' }, r.unreplied);
        }
      },
    });
    new Gauge({
      name: 'loopscope_observed_recent_unreplied_connections',
      help: "Unreplied connections from a node's pods to this Service's LB within the exporter's --node-agent-window; the series goes away when failures stop.",
      labelNames: ['namespace', 'service', 'node'],
      registers,
      collect() {
        this.reset();
        for (const r of observed())
          if (r.recentUnreplied > 0) this.set({ namespace: r.namespace, service: r.service, node: r.node }, r.recentUnreplied);
      },
    });
    new Gauge({
      name: 'loopscope_observed_last_unreplied_age_seconds',
      help: "Seconds since the node agent last saw a connection from this node's pods to this Service's LB time out unreplied.",
      labelNames: ['namespace', 'service', 'node'],
      registers,
      collect() {
        this.reset();
        for (const r of observed())
          if (r.lastUnrepliedAgeSeconds !== undefined)
            this.set({ namespace: r.namespace, service: r.service, node: r.node }, r.lastUnrepliedAgeSeconds);
      },
    });
    new Gauge({
      name: 'loopscope_node_agent_up',
      help: 'Whether the node agent of this node answered within the last three poll intervals (0: stale or unreachable; the node falls back to inference).',
      labelNames: ['node', 'url'],
      registers,
      collect() {
        this.reset();
        for (const a of agentStatus()) this.set({ node: a.node ?? '', url: a.url }, a.up ? 1 : 0);
      },
    });
  }
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

async function readCapped(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new Error(`evidence larger than ${max / 1024 / 1024} MiB`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
