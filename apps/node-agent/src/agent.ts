import type { NodeAgentEvidenceDocument } from '@loopscope/core';
import { ConnectionCounters, type CounterLimits } from './conntrack/connectionCounters';
import { ConntrackEventStream } from './conntrack/eventStream';
import { DatapathDumps } from './dumps/datapathDumps';
import { IngressSet, type IngressPoint } from './ingress/ingressSet';

export type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface AgentOptions {
  nodeName: string;
  refreshSeconds: number;
  limits: CounterLimits;
  log: Log;
  /** The conntrack binary (tests put a fake one first on PATH instead). */
  conntrackCommand?: string;
}

/** The evidence document the exporter pulls: its type is core's, the one contract both sides compile against. */
export type Evidence = NodeAgentEvidenceDocument;

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The node agent's state: the dumps, the ingress points, the conntrack event stream and its counters. */
export class Agent {
  readonly ingress = new IngressSet();
  readonly counters: ConnectionCounters;
  readonly dumps: DatapathDumps;
  readonly events: ConntrackEventStream;
  readonly startedAt = Date.now();
  ingressSource = 'none';
  ingressSynced = false;
  private timer?: NodeJS.Timeout;

  constructor(readonly options: AgentOptions) {
    this.counters = new ConnectionCounters(this.ingress, options.limits);
    this.dumps = new DatapathDumps(options.log);
    this.events = new ConntrackEventStream({ command: options.conntrackCommand, onLine: (l) => this.counters.line(l), log: options.log });
  }

  setIngress(points: IngressPoint[], source: string): void {
    const before = this.ingress.size;
    this.ingress.replace(points);
    this.ingressSource = source;
    this.ingressSynced = true;
    // Events are followed from the moment the ingress points are known: before that, every event
    // would be dropped as "not to an ingress point" and counted nowhere.
    if (this.started && !this.eventsStarted) this.startEvents();
    if (before !== this.ingress.size) this.options.log('info', `${this.ingress.size} LB ingress point(s) from ${source}`);
  }

  private started = false;
  private eventsStarted = false;

  private startEvents(): void {
    this.eventsStarted = true;
    this.events.start();
  }

  start(): void {
    this.started = true;
    if (this.ingressSynced) this.startEvents();
    void this.dumps.refresh();
    this.timer = setInterval(() => void this.dumps.refresh(), this.options.refreshSeconds * 1000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.events.stop();
  }

  /** Ready once the dumps ran once, the ingress points are known and conntrack events flow. */
  readiness(): { ready: boolean; waiting: string[] } {
    const waiting: string[] = [];
    if (this.dumps.refreshes === 0) waiting.push('first dump');
    if (!this.ingressSynced) waiting.push('ingress points');
    if (!this.events.running) waiting.push(`conntrack events (${this.events.lastError ?? 'starting'})`);
    return { ready: waiting.length === 0, waiting };
  }

  evidence(options: { dumps: boolean } = { dumps: true }): Evidence {
    const dumps: Evidence['dumps'] = {};
    for (const d of this.dumps.dumps.values()) {
      dumps[d.source] = {
        command: d.command,
        status: d.status,
        collectedAt: iso(d.collectedAt),
        attemptedAt: iso(d.attemptedAt),
        error: d.error,
        text: options.dumps ? d.text : undefined,
      };
    }
    return {
      apiVersion: 'loopscope-node-evidence/v1',
      node: this.options.nodeName,
      generatedAt: new Date().toISOString(),
      startedAt: new Date(this.startedAt).toISOString(),
      iptablesBackend: this.dumps.backend,
      dumps,
      conntrack: {
        running: this.events.running,
        command: this.events.command,
        restarts: this.events.restarts,
        overflows: this.events.overflows,
        lastError: this.events.lastError,
        trackedFlows: this.counters.trackedFlows,
        evictedFlows: this.counters.evicted,
        seriesDropped: this.counters.seriesDropped,
      },
      ingress: { source: this.ingressSource, points: this.ingress.size, synced: this.ingressSynced },
      connections: this.counters.all().map((c) => ({
        ...c,
        lastOpenedAt: iso(c.lastOpenedAt),
        lastRepliedAt: iso(c.lastRepliedAt),
        lastUnrepliedAt: iso(c.lastUnrepliedAt),
      })),
    };
  }
}
