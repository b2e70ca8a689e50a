/**
 * Builders for Kubernetes objects shaped as `kubectl get -o json` prints them, for model tests.
 * Defaults describe the seed's cluster: TKE, IPVS, an unfixed kube-proxy build.
 */
import type { KubeObject } from '../../src';

export type Obj = KubeObject & Record<string, unknown>;

export function node(
  name: string,
  ip: string,
  opts: { provider?: string; kubeProxyVersion?: string; ready?: boolean; labels?: Record<string, string> } = {},
): Obj {
  const providerID = opts.provider ?? 'qcloud:///800002/ins-' + name;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { providerID },
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
      nodeInfo: { kubeProxyVersion: opts.kubeProxyVersion ?? 'v1.20.6-tke.3', kubeletVersion: opts.kubeProxyVersion ?? 'v1.20.6-tke.3' },
    },
  };
}

let ipCounter = 0;
export function pod(
  namespace: string,
  name: string,
  nodeName: string | undefined,
  opts: {
    ip?: string;
    phase?: string;
    hostNetwork?: boolean;
    owner?: { kind: string; name: string };
    labels?: Record<string, string>;
    containers?: unknown[];
  } = {},
): Obj {
  ipCounter++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: opts.labels ?? {},
      ownerReferences: opts.owner ? [{ apiVersion: 'apps/v1', kind: opts.owner.kind, name: opts.owner.name, controller: true }] : undefined,
    },
    spec: { nodeName, hostNetwork: opts.hostNetwork, containers: opts.containers ?? [{ name: 'app', image: 'app:1' }] },
    status: { phase: opts.phase ?? 'Running', podIP: opts.ip ?? `172.16.${(ipCounter >> 8) & 255}.${ipCounter & 255}` },
  };
}

export function deploymentPods(namespace: string, deployment: string, nodes: string[]): Obj[] {
  return nodes.map((n, i) =>
    pod(namespace, `${deployment}-5d8f7c9b4-${i.toString(36)}x${n}`, n, {
      owner: { kind: 'ReplicaSet', name: `${deployment}-5d8f7c9b4` },
      labels: { app: deployment, 'pod-template-hash': '5d8f7c9b4' },
    }),
  );
}

export function kubeProxyPod(
  nodeName: string,
  args: string[] = ['--proxy-mode=ipvs'],
  image = 'ccr.ccs.tencentyun.com/library/kube-proxy:v1.20.6-tke.3',
): Obj {
  return pod('kube-system', `kube-proxy-${nodeName}`, nodeName, {
    hostNetwork: true,
    labels: { 'k8s-app': 'kube-proxy' },
    owner: { kind: 'DaemonSet', name: 'kube-proxy' },
    containers: [{ name: 'kube-proxy', image, command: ['kube-proxy'], args }],
  });
}

export function lbService(
  namespace: string,
  name: string,
  opts: {
    policy?: string;
    annotations?: Record<string, string>;
    ingressIP?: string | null;
    hostname?: string;
    ipMode?: string;
    port?: number;
    type?: string;
  } = {},
): Obj {
  const ingress =
    opts.ingressIP === null
      ? []
      : [
          {
            ...(opts.hostname ? { hostname: opts.hostname } : { ip: opts.ingressIP ?? '10.0.0.100' }),
            ...(opts.ipMode ? { ipMode: opts.ipMode } : {}),
          },
        ];
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace,
      annotations: opts.annotations ?? { 'service.kubernetes.io/qcloud-loadbalancer-internal-subnetid': 'subnet-1' },
    },
    spec: {
      type: opts.type ?? 'LoadBalancer',
      clusterIP: '192.168.0.10',
      externalTrafficPolicy: opts.policy ?? 'Local',
      ports: [{ name: 'http', port: opts.port ?? 8080, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }],
    },
    status: { loadBalancer: { ingress } },
  };
}

export function endpointSlice(namespace: string, service: string, endpoints: Array<{ pod: Obj; ready?: boolean }>): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-abcde`, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: endpoints.map(({ pod: p, ready }) => ({
      addresses: [(p.status as { podIP: string }).podIP],
      conditions: { ready: ready ?? true },
      nodeName: (p.spec as { nodeName: string }).nodeName,
      targetRef: { kind: 'Pod', namespace, name: p.metadata!.name },
    })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

export function list(items: Obj[]): { apiVersion: string; kind: string; items: Obj[] } {
  return { apiVersion: 'v1', kind: 'List', items };
}

/**
 * The worked example of docs/model.md: nodes n1–n3; a Service with ready endpoints on n1
 * and n2; client pods 4 on n1, 2 on n2, 2 on n3; TKE IPVS without the bind.
 */
export function workedExample(
  policy: 'Local' | 'Cluster' = 'Local',
  extra: { annotations?: Record<string, string>; kubeProxyVersion?: string } = {},
): Obj[] {
  const nodes = [node('n1', '10.0.0.1', extra), node('n2', '10.0.0.2', extra), node('n3', '10.0.0.3', extra)];
  const backends = [...deploymentPods('pay', 'payments', ['n1']), ...deploymentPods('pay', 'payments-b', ['n2'])];
  // 4 client pods on n1, 2 on n2, 2 on n3 in all: the 2 backends count as clients too.
  const clients = [...deploymentPods('shop', 'checkout', ['n1', 'n1', 'n1', 'n2', 'n3', 'n3'])];
  const kp = ['n1', 'n2', 'n3'].map((n) =>
    kubeProxyPod(n, ['--proxy-mode=ipvs'], `ccr.ccs.tencentyun.com/library/kube-proxy:${extra.kubeProxyVersion ?? 'v1.20.6-tke.3'}`),
  );
  const svc = lbService('pay', 'payments', { policy, annotations: extra.annotations });
  return [
    ...nodes,
    ...backends,
    ...clients,
    ...kp,
    svc,
    endpointSlice(
      'pay',
      'payments',
      backends.map((p) => ({ pod: p })),
    ),
  ];
}
