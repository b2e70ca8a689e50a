import * as k8s from '@kubernetes/client-node';

export type ClientNode = typeof k8s;

/** client-node 2.x is ESM-only; Node 22+ loads it through `require` (this package is CommonJS). */
export async function loadClientNode(): Promise<ClientNode> {
  return k8s;
}

/** `--kubeconfig FILE`, else KUBECONFIG → ~/.kube/config → the in-cluster ServiceAccount. */
export async function loadKubeConfig(kubeconfig?: string): Promise<{ client: ClientNode; config: k8s.KubeConfig }> {
  const client = await loadClientNode();
  const config = new client.KubeConfig();
  if (kubeconfig) config.loadFromFile(kubeconfig);
  else config.loadFromDefault();
  return { client, config };
}

/** An error reduced to what is safe to log: an HTTP status or a network code, never a header or token. */
export function describeKubeError(err: unknown): string {
  const e = err as { code?: number | string; statusCode?: number; message?: string; cause?: { code?: string } };
  const status = typeof e.code === 'number' ? e.code : e.statusCode;
  if (status) return `HTTP ${status}`;
  const code = e.cause?.code ?? (typeof e.code === 'string' ? e.code : undefined);
  if (code) return code;
  return (e.message ?? String(err))
    .split('\n')[0]!
    .replace(/Bearer\s+\S+/gi, 'Bearer <redacted>')
    .slice(0, 200);
}
