import { canonicalIp } from '../conntrack/address';

/** An LB ingress point: the address a pod dials, with the Service it belongs to when known. */
export interface IngressPoint {
  ip: string;
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  /** `namespace/name` of the Service, when learnt from the Kubernetes API. */
  service?: string;
}

export class IngressParseError extends Error {}

/** `IP:PORT`, `[IPv6]:PORT`, optionally `/tcp|udp|sctp` (default tcp): the `--ingress` flag. */
export function parseIngressFlag(text: string): IngressPoint {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(text.trim());
  const ip = m ? canonicalIp((m[1] ?? m[2])!) : undefined;
  const port = m ? Number(m[3]) : NaN;
  if (!m || !ip || port < 1 || port > 65535) {
    throw new IngressParseError(`--ingress ${text}: expected IP:PORT (e.g. 10.0.3.15:8080, [fd00::5]:443, 10.0.3.15:53/udp)`);
  }
  return { ip, port, protocol: (m[4] as IngressPoint['protocol'] | undefined) ?? 'tcp' };
}

/**
 * The LB ingress points this node's pods may call, looked up once per conntrack event: by address
 * first (the hot path drops every event to another address with one Map lookup), then port and
 * protocol. Replaced whole when the Services change.
 */
export class IngressSet {
  private byIp = new Map<string, Map<string, IngressPoint>>();
  private count = 0;

  replace(points: Iterable<IngressPoint>): void {
    const next = new Map<string, Map<string, IngressPoint>>();
    let n = 0;
    for (const p of points) {
      const ip = canonicalIp(p.ip);
      if (!ip) continue;
      let ports = next.get(ip);
      if (!ports) next.set(ip, (ports = new Map()));
      const key = `${p.port}/${p.protocol}`;
      if (!ports.has(key)) n++;
      ports.set(key, { ...p, ip });
    }
    this.byIp = next;
    this.count = n;
  }

  get size(): number {
    return this.count;
  }

  hasAddress(ip: string): boolean {
    return this.byIp.has(ip) || (ip.includes(':') && this.byIp.has(canonicalIp(ip) ?? ip));
  }

  lookup(ip: string, port: number, protocol: string): IngressPoint | undefined {
    const ports = this.byIp.get(ip) ?? (ip.includes(':') ? this.byIp.get(canonicalIp(ip) ?? ip) : undefined);
    return ports?.get(`${port}/${protocol}`);
  }

  points(): IngressPoint[] {
    const out: IngressPoint[] = [];
    for (const ports of this.byIp.values()) out.push(...ports.values());
    return out;
  }
}
