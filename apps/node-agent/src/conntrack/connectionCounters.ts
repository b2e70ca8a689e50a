import type { NodeAgentConnection } from '@loopscope/core';
import { canonicalIp } from './address';
import { originalDestination, parseConntrackEvent } from './event';
import type { IngressPoint, IngressSet } from '../ingress/ingressSet';

/**
 * Counters of one (client IP → ingress IP:port, protocol): the evidence document's row, with the
 * times kept as milliseconds since the epoch (for ages) until the document is written.
 */
export type ConnectionCounter = Omit<NodeAgentConnection, 'lastOpenedAt' | 'lastRepliedAt' | 'lastUnrepliedAt'> & {
  lastOpenedAt?: number;
  lastRepliedAt?: number;
  lastUnrepliedAt?: number;
};

export interface CounterLimits {
  /** Flows followed from NEW to their first reply or DESTROY; the oldest are dropped beyond it. */
  maxTrackedFlows: number;
  /** Distinct (client, ingress) counters; connections of new pairs beyond it are counted as dropped. */
  maxSeries: number;
}

export const DEFAULT_LIMITS: CounterLimits = { maxTrackedFlows: 65_536, maxSeries: 20_000 };

/**
 * conntrack events → per (client IP, ingress point) counters of connections opened, replied, and
 * destroyed while still unreplied (the connection the user saw time out).
 *
 * A flow to an ingress point is followed from NEW until its first reply (counted `replied`) or its
 * DESTROY (counted `unreplied` if the kernel still marks it `[UNREPLIED]`). A DESTROY of a flow not
 * followed (opened before the agent started, or evicted) is counted from the DESTROY line alone,
 * which carries the same flag. Memory is bounded: at most `maxTrackedFlows` flows (oldest dropped
 * first, counted in `evicted`) and `maxSeries` counters.
 */
export class ConnectionCounters {
  /**
   * conntrack id (or tuple) → its counter, while the flow has seen no reply. Two generations: when
   * the young one holds half the cap it becomes the old one and the previous old one is dropped
   * (evicted). O(1) per event, unlike deleting a Map's oldest entry (V8 walks the tombstones).
   */
  private young = new Map<string, ConnectionCounter>();
  private old = new Map<string, ConnectionCounter>();
  evicted = 0;
  seriesDropped = 0;
  events = 0;
  unparsed = 0;

  constructor(
    private readonly ingress: IngressSet,
    private readonly limits: CounterLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** One line from `conntrack -E`. Lines to any other address cost one Map lookup. */
  line(text: string): void {
    this.events++;
    const dst = originalDestination(text);
    if (dst === undefined) {
      if (text.trim() !== '') this.unparsed++;
      return;
    }
    if (!this.ingress.hasAddress(dst)) return;
    const e = parseConntrackEvent(text);
    if (!e) {
      this.unparsed++;
      return;
    }
    const point = this.ingress.lookup(dst, e.dport, e.protocol);
    if (!point) return;
    const flow = e.id ?? `${e.protocol} ${e.src} ${e.dst} ${e.dport} ${/ sport=(\d+)/.exec(text)?.[1] ?? ''}`;
    const at = e.timestamp !== undefined ? Math.round(e.timestamp * 1000) : this.now();
    if (e.type === 'NEW') {
      const c = this.counter(e.src, point);
      if (!c) return;
      c.opened++;
      c.lastOpenedAt = at;
      if (e.unreplied) this.track(flow, c);
      else this.reply(c, at); // NEW already replied (a flow picked up mid-way)
      return;
    }
    const c = this.young.get(flow) ?? this.old.get(flow);
    if (c !== undefined) {
      if (e.type === 'DESTROY' || !e.unreplied) {
        this.young.delete(flow);
        this.old.delete(flow);
      }
      if (!e.unreplied) this.reply(c, at);
      else if (e.type === 'DESTROY') {
        c.unreplied++;
        c.lastUnrepliedAt = at;
      }
      return;
    }
    if (e.type !== 'DESTROY') return; // an UPDATE of a flow already replied, or one not followed
    const d = this.counter(e.src, point);
    if (!d) return;
    if (e.unreplied) {
      d.unreplied++;
      d.lastUnrepliedAt = at;
    }
    // A replied flow seen only at its DESTROY started before the agent (or was evicted before its
    // reply): not counted, so that no connection is ever counted replied twice.
  }

  private reply(c: ConnectionCounter, at: number): void {
    c.replied++;
    c.lastRepliedAt = at;
  }

  private track(flow: string, c: ConnectionCounter): void {
    if (this.young.size >= Math.max(1, this.limits.maxTrackedFlows >> 1)) {
      this.evicted += this.old.size;
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(flow, c);
  }

  /** Per ingress point (the IngressSet's own object), client IP → counter: no key string per event. */
  private readonly byPoint = new Map<IngressPoint, Map<string, ConnectionCounter>>();

  private counter(clientIp: string, point: IngressPoint): ConnectionCounter | undefined {
    let clients = this.byPoint.get(point);
    if (!clients) {
      // An ingress point replaced (the Services changed) keeps its counters under the new object.
      const key = `${point.ip}|${point.port}|${point.protocol}`;
      clients = this.byKey.get(key);
      if (!clients) this.byKey.set(key, (clients = new Map()));
      this.byPoint.set(point, clients);
    }
    let c = clients.get(clientIp);
    if (c) return c;
    const client = clientIp.includes(':') ? (canonicalIp(clientIp) ?? clientIp) : clientIp;
    c = clients.get(client);
    if (c) return c;
    if (this.size >= this.limits.maxSeries) {
      this.seriesDropped++;
      return undefined;
    }
    c = {
      clientIp: client,
      ingressIp: point.ip,
      ingressPort: point.port,
      protocol: point.protocol,
      service: point.service,
      opened: 0,
      replied: 0,
      unreplied: 0,
    };
    clients.set(client, c);
    this.size++;
    return c;
  }

  private readonly byKey = new Map<string, Map<string, ConnectionCounter>>();
  private size = 0;

  get trackedFlows(): number {
    return this.young.size + this.old.size;
  }

  all(): ConnectionCounter[] {
    const out: ConnectionCounter[] = [];
    for (const clients of this.byKey.values()) for (const c of clients.values()) out.push(c);
    return out;
  }
}
