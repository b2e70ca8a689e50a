import type { ClusterService, IpMode } from '../cluster/model';

/** One address:port a client can call the Service's LB on (an ingress IP or hostname × a Service port). */
export interface IngressPoint {
  ip?: string;
  hostname?: string;
  port: number;
  protocol: string;
  ipMode: IpMode;
  nodePort?: number;
  /** The Service port's name (EndpointSlice ports are matched by it). */
  portName?: string;
}

export function ingressAddress(i: { ip?: string; hostname?: string }): string {
  return i.ip ?? i.hostname ?? '?';
}

export function ingressLabel(i: IngressPoint): string {
  const addr = ingressAddress(i);
  return `${addr.includes(':') ? `[${addr}]` : addr}:${i.port}`;
}

export function ingressPoints(svc: ClusterService): IngressPoint[] {
  const points: IngressPoint[] = [];
  for (const ing of svc.ingresses) {
    for (const port of svc.ports) {
      points.push({
        ip: ing.ip,
        hostname: ing.hostname,
        ipMode: ing.ipMode,
        port: port.port,
        protocol: port.protocol,
        nodePort: port.nodePort,
        ...(port.name !== undefined ? { portName: port.name } : {}),
      });
    }
  }
  return points;
}
