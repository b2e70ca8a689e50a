import { canonicalIp } from './address';
import { originalDestination, parseConntrackEvent } from './event';
import type { IngressPoint, IngressSet } from '../ingress/ingressSet';

/** Counters of one (client IP → ingress IP:port, protocol). */
export interface ConnectionCounter {
  clientIp: string;
  ingressIp: string;
  ingressPort: number;
  protocol: string;
  service?: string;
  opened: number;
  replied: number;
  unreplied: number;
  /** Milliseconds since the epoch of the last connection of each kind (for ages). */
  lastOpenedAt?: number;
  lastRepliedAt?: number;
  lastUnrepliedAt?: number;
}

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
  private readonly counters = new Map<string, ConnectionCounter>();
  /** conntrack id (or tuple) → counter key, while the flow has seen no reply; insertion order = age. */
  private readonly pending = new Map<string, string>();
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
      if (e.unreplied) this.track(flow, keyOf(c));
      else this.reply(c, at); // NEW already replied (a flow picked up mid-way)
      return;
    }
    const key = this.pending.get(flow);
    if (key !== undefined) {
      const c = this.counters.get(key);
      if (e.type === 'DESTROY' || !e.unreplied) this.pending.delete(flow);
      if (!c) return;
      if (!e.unreplied) this.reply(c, at);
      else if (e.type === 'DESTROY') {
        c.unreplied++;
        c.lastUnrepliedAt = at;
      }
      return;
    }
    if (e.type !== 'DESTROY') return; // an UPDATE of a flow already replied, or one not followed
    const c = this.counter(e.src, point);
    if (!c) return;
    if (e.unreplied) {
      c.unreplied++;
      c.lastUnrepliedAt = at;
    }
    // A replied flow seen only at its DESTROY started before the agent (or was evicted before its
    // reply): not counted, so that no connection is ever counted replied twice.
  }

  private reply(c: ConnectionCounter, at: number): void {
    c.replied++;
    c.lastRepliedAt = at;
  }

  private track(flow: string, key: string): void {
    if (this.pending.size >= this.limits.maxTrackedFlows) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
      this.evicted++;
    }
    this.pending.set(flow, key);
  }

  private counter(clientIp: string, point: IngressPoint): ConnectionCounter | undefined {
    const client = clientIp.includes(':') ? (canonicalIp(clientIp) ?? clientIp) : clientIp;
    const key = `${client}|${point.ip}|${point.port}|${point.protocol}`;
    let c = this.counters.get(key);
    if (c) return c;
    if (this.counters.size >= this.limits.maxSeries) {
      this.seriesDropped++;
      return undefined;
    }
    c = { clientIp: client, ingressIp: point.ip, ingressPort: point.port, protocol: point.protocol, service: point.service, opened: 0, replied: 0, unreplied: 0 };
    this.counters.set(key, c);
    return c;
  }

  get trackedFlows(): number {
    return this.pending.size;
  }

  all(): ConnectionCounter[] {
    return [...this.counters.values()];
  }
}

function keyOf(c: ConnectionCounter): string {
  return `${c.clientIp}|${c.ingressIp}|${c.ingressPort}|${c.protocol}`;
}
