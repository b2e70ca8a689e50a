import { DiscoveryV1Api } from '@kubernetes/client-node';
import { loadKubeConfig, locateKubeConfig } from '../sources/kubernetes/kubeconfig';

/**
 * The node agents' addresses from their Service's EndpointSlices (`kubernetes.io/service-name`):
 * one endpoint per node, `nodeName` set, ready or not (an agent not ready still serves what it has).
 * Read-only: `list endpointslices`, which the exporter's ClusterRole already grants.
 */
export function endpointSliceLister(kubeconfig?: string, context?: string): (namespace: string, service: string) => Promise<Array<{ url: string; nodeName?: string }>> {
  let api: Promise<{ list: (ns: string, selector: string) => Promise<{ items: unknown[] }> }> | undefined;
  return async (namespace, service) => {
    api ??= (async () => {
      const options = { kubeconfig, context };
      const { kc } = loadKubeConfig(options, locateKubeConfig(options), () => undefined);
      const discovery = kc.makeApiClient(DiscoveryV1Api);
      return { list: (ns: string, labelSelector: string) => discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector }) as Promise<{ items: unknown[] }> };
    })();
    let slices: { items: unknown[] };
    try {
      slices = await (await api).list(namespace, `kubernetes.io/service-name=${service}`);
    } catch (err) {
      api = undefined; // a kubeconfig that failed to load is tried again next time
      const e = err as { code?: number; cause?: { code?: string }; message?: string };
      throw new Error(typeof e.code === 'number' ? `HTTP ${e.code}` : (e.cause?.code ?? (e.message?.startsWith('cannot load') ? e.message : 'request failed')));
    }
    const out: Array<{ url: string; nodeName?: string }> = [];
    for (const s of slices.items as Array<{ addressType?: string; ports?: Array<{ name?: string; port?: number }>; endpoints?: Array<{ addresses?: string[]; nodeName?: string }> }>) {
      const port = (s.ports ?? []).find((p) => p.name === 'http')?.port ?? s.ports?.[0]?.port;
      if (!port || (s.addressType !== 'IPv4' && s.addressType !== 'IPv6')) continue;
      for (const e of s.endpoints ?? []) {
        const ip = e.addresses?.[0];
        if (ip) out.push({ url: `http://${s.addressType === 'IPv6' ? `[${ip}]` : ip}:${port}`, nodeName: e.nodeName });
      }
    }
    return out;
  };
}
