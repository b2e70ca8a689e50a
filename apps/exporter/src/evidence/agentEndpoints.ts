import { loadKubeConfig, locateKubeConfig } from '../sources/kubernetes/kubeconfig';
import { ApiStatusError, KubeApi } from '../sources/kubernetes/kubeApi';

/**
 * The node agents' addresses from their Service's EndpointSlices (`kubernetes.io/service-name`):
 * one endpoint per node, `nodeName` set, ready or not (an agent not ready still serves what it has).
 * Read-only: `list endpointslices`, which the exporter's ClusterRole already grants. Through the
 * source's own API client: a deadline and a body cap on every request.
 */
export function endpointSliceLister(
  kubeconfig?: string,
  context?: string,
): (namespace: string, service: string) => Promise<Array<{ url: string; nodeName?: string }>> {
  let api: KubeApi | undefined;
  return async (namespace, service) => {
    let slices: { items?: unknown[] };
    try {
      if (!api) {
        const options = { kubeconfig, context };
        api = new KubeApi(loadKubeConfig(options, locateKubeConfig(options), () => undefined).kc, {
          requestTimeoutMs: 15_000,
          credentialTimeoutMs: 15_000,
          maxResponseBytes: 16 * 1024 * 1024,
        });
      }
      const selector = encodeURIComponent(`kubernetes.io/service-name=${service}`);
      slices = (await api.getJson(
        `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices?labelSelector=${selector}`,
        AbortSignal.timeout(20_000),
      )) as { items?: unknown[] };
    } catch (err) {
      if (!(err instanceof ApiStatusError)) api = undefined; // a kubeconfig that failed to load is tried again next time
      throw new Error(err instanceof ApiStatusError ? `HTTP ${err.statusCode}` : (err as Error).message.split('\n')[0]!.slice(0, 200));
    }
    const out: Array<{ url: string; nodeName?: string }> = [];
    for (const s of (Array.isArray(slices?.items) ? slices.items : []) as Array<{
      addressType?: string;
      ports?: Array<{ name?: string; port?: number }>;
      endpoints?: Array<{ addresses?: string[]; nodeName?: string }>;
    }>) {
      const port = (s?.ports ?? []).find((p) => p.name === 'http')?.port ?? s?.ports?.[0]?.port;
      if (typeof port !== 'number' || (s.addressType !== 'IPv4' && s.addressType !== 'IPv6')) continue;
      for (const e of s.endpoints ?? []) {
        const ip = e?.addresses?.[0];
        if (typeof ip === 'string' && /^[0-9a-fA-F:.]+$/.test(ip))
          out.push({
            url: `http://${s.addressType === 'IPv6' ? `[${ip}]` : ip}:${port}`,
            nodeName: typeof e.nodeName === 'string' ? e.nodeName : undefined,
          });
      }
    }
    return out;
  };
}
