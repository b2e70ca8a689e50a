import type * as k8s from '@kubernetes/client-node';
import { describeKubeError, type ClientNode } from '../kube/client';
import type { IngressPoint } from './ingressSet';

/**
 * LB ingress points from the Kubernetes API: every Service of type LoadBalancer, its
 * `status.loadBalancer.ingress[].ip` × `spec.ports[]`. Read-only (list/watch Services, nothing
 * else). The informer stops for good on an error it does not handle itself; it is restarted here
 * with a backoff, and the last known points are kept meanwhile.
 */
export class KubernetesIngressSource {
  private informer?: k8s.Informer<k8s.V1Service> & k8s.ObjectCache<k8s.V1Service>;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private stopped = false;
  synced = false;
  errors = 0;

  constructor(
    private readonly client: ClientNode,
    private readonly config: k8s.KubeConfig,
    private readonly onChange: (points: IngressPoint[]) => void,
    private readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void,
  ) {}

  /**
   * Lists once (retrying with backoff) so the points are complete before conntrack events are read,
   * then watches. (The informer's own `connect` fires before its first list has filled the cache.)
   */
  start(): void {
    this.stopped = false;
    const api = this.config.makeApiClient(this.client.CoreV1Api);
    const first = (): void => {
      api.listServiceForAllNamespaces().then(
        (list) => {
          if (this.stopped) return;
          this.synced = true;
          this.onChange(ingressPoints(list.items));
          this.watch(api);
        },
        (err: unknown) => {
          if (this.stopped) return;
          this.errors++;
          const delay = this.nextDelay();
          this.log('warn', `listing services failed (${describeKubeError(err)}); retrying in ${delay / 1000} s`);
          this.timer = setTimeout(first, delay);
          this.timer.unref?.();
        },
      );
    };
    first();
  }

  private nextDelay(): number {
    return Math.min(60_000, 1000 * 2 ** this.failures++);
  }

  private watch(api: k8s.CoreV1Api): void {
    const informer = this.client.makeInformer(this.config, '/api/v1/services', () => api.listServiceForAllNamespaces());
    this.informer = informer;
    const changed = (): void => {
      this.failures = 0;
      this.onChange(ingressPoints(informer.list()));
    };
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    informer.on('error', (err: unknown) => {
      if (this.stopped || this.informer !== informer) return;
      this.errors++;
      const delay = this.nextDelay();
      this.log(
        'warn',
        `watch on services failed (${describeKubeError(err)}); retrying in ${delay / 1000} s, keeping the known ingress points`,
      );
      this.timer = setTimeout(() => {
        if (!this.stopped) informer.start().catch(() => undefined);
      }, delay);
      this.timer.unref?.();
    });
    informer.start().catch(() => undefined); // errors arrive on the 'error' handler
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.informer?.stop().catch(() => undefined);
  }
}

export function ingressPoints(services: readonly k8s.V1Service[]): IngressPoint[] {
  const out: IngressPoint[] = [];
  for (const s of services) {
    if (s.spec?.type !== 'LoadBalancer') continue;
    const service = `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
    for (const ing of s.status?.loadBalancer?.ingress ?? []) {
      if (!ing.ip) continue;
      for (const p of s.spec.ports ?? []) {
        const protocol = (p.protocol ?? 'TCP').toLowerCase();
        if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
        out.push({ ip: ing.ip, port: p.port, protocol, service });
      }
    }
  }
  return out;
}
