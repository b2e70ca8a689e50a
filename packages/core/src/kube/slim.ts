import { slimContainersForCallers } from './containerAddresses';
import { IP_MASQ_AGENT_NAME, LABEL, SERVICE_ANNOTATION_KEYS } from './vocabulary';
import type { KubeObject } from './objects';

/**
 * Keeps only the fields `buildCluster` reads from each kind (memory at 150,000 pods matters for a
 * long-running watcher), so the exporter can hold the cluster as slim objects. A kind the model does
 * not read returns undefined. The result is a plain object `buildCluster` accepts as it is.
 */
export function slimObject(obj: KubeObject): KubeObject | undefined {
  const kind = obj.kind;
  const m = obj.metadata ?? {};
  const meta = (extra: Partial<typeof m> = {}): KubeObject['metadata'] => ({ name: m.name, namespace: m.namespace, ...extra });
  const o = obj as Record<string, any>;
  switch (kind) {
    case 'Node':
      return {
        kind,
        metadata: meta({ labels: pick(m.labels, [LABEL.excludeFromLb]) }),
        spec: { providerID: o.spec?.providerID },
        status: {
          addresses: (o.status?.addresses ?? []).filter((a: { type?: string }) => a?.type === 'InternalIP'),
          conditions: (o.status?.conditions ?? [])
            .filter((c: { type?: string }) => c?.type === 'Ready')
            .map((c: { type: string; status: string }) => ({ type: c.type, status: c.status })),
          nodeInfo: { kubeProxyVersion: o.status?.nodeInfo?.kubeProxyVersion, kubeletVersion: o.status?.nodeInfo?.kubeletVersion },
        },
      };
    case 'Pod': {
      const system = m.namespace === 'kube-system' || m.namespace === 'cilium';
      return {
        kind,
        metadata: meta({
          ownerReferences: m.ownerReferences?.map((r) => ({ kind: r.kind, name: r.name, controller: r.controller })),
          labels: system ? m.labels : pick(m.labels, ['pod-template-hash']),
        }),
        spec: {
          nodeName: o.spec?.nodeName,
          hostNetwork: o.spec?.hostNetwork,
          // Only kube-system's containers matter (kube-proxy args and image, the cilium image); of
          // the others, only the env values and args that name an address (known callers).
          containers: system
            ? (o.spec?.containers ?? []).map((c: Record<string, unknown>) => ({
                name: c.name,
                image: c.image,
                command: c.command,
                args: c.args,
                env: slimContainersForCallers([{ env: c.env }])?.[0]?.env,
              }))
            : slimContainersForCallers(o.spec?.containers),
        },
        status: { phase: o.status?.phase, podIP: o.status?.podIP },
      };
    }
    case 'Service':
      return {
        kind,
        metadata: meta({ annotations: pick(m.annotations, [...SERVICE_ANNOTATION_KEYS]) }),
        spec: {
          type: o.spec?.type,
          clusterIP: o.spec?.clusterIP,
          externalTrafficPolicy: o.spec?.externalTrafficPolicy,
          loadBalancerClass: o.spec?.loadBalancerClass,
          loadBalancerSourceRanges: o.spec?.loadBalancerSourceRanges,
          // Only whether it has one matters (incomplete input): keep a marker, not the labels.
          selector: o.spec?.selector && Object.keys(o.spec.selector).length > 0 ? { set: 'yes' } : undefined,
          ports: o.spec?.ports?.map((p: Record<string, unknown>) => ({
            name: p.name,
            port: p.port,
            protocol: p.protocol,
            nodePort: p.nodePort,
          })),
        },
        status: { loadBalancer: o.status?.loadBalancer },
      };
    case 'EndpointSlice':
      return {
        kind,
        metadata: meta({ labels: pick(m.labels, [LABEL.serviceName]) }),
        addressType: o.addressType,
        ports: Array.isArray(o.ports) ? o.ports.map((p: Record<string, unknown>) => ({ name: p?.name })) : o.ports,
        endpoints: o.endpoints?.map((e: Record<string, any>) => ({
          addresses: e.addresses,
          conditions: e.conditions ? { ready: e.conditions.ready } : undefined,
          nodeName: e.nodeName ?? e.topology?.[LABEL.hostname],
          targetRef: e.targetRef ? { kind: e.targetRef.kind, name: e.targetRef.name, namespace: e.targetRef.namespace } : undefined,
        })),
      };
    case 'Endpoints':
      return {
        kind,
        metadata: meta(),
        subsets: o.subsets?.map((sub: Record<string, any>) => ({
          ports: Array.isArray(sub?.ports) ? sub.ports.map((p: Record<string, unknown>) => ({ name: p?.name })) : undefined,
          addresses: sub?.addresses?.map(slimAddress),
          notReadyAddresses: sub?.notReadyAddresses?.map(slimAddress),
        })),
      };
    case 'ConfigMap':
      return m.name === 'kube-proxy' || m.name === IP_MASQ_AGENT_NAME ? { kind, metadata: meta(), data: o.data } : undefined;
    case 'DaemonSet':
      return m.name === 'kube-proxy' || m.name === 'cilium'
        ? {
            kind,
            metadata: meta(),
            spec: {
              template: {
                spec: {
                  containers: o.spec?.template?.spec?.containers?.map((c: Record<string, unknown>) => ({
                    name: c.name,
                    image: c.image,
                    command: c.command,
                    args: c.args,
                  })),
                },
              },
            },
          }
        : undefined;
    case 'ReplicaSet':
    case 'Job':
      return {
        kind,
        metadata: meta({ ownerReferences: m.ownerReferences?.map((r) => ({ kind: r.kind, name: r.name, controller: r.controller })) }),
      };
    default:
      return undefined;
  }
}

function slimAddress(a: Record<string, any>): Record<string, unknown> {
  return {
    ip: a?.ip,
    nodeName: a?.nodeName,
    targetRef: a?.targetRef ? { kind: a.targetRef.kind, name: a.targetRef.name, namespace: a.targetRef.namespace } : undefined,
  };
}

function pick(record: Record<string, string> | undefined, keys: string[]): Record<string, string> | undefined {
  if (!record) return undefined;
  let out: Record<string, string> | undefined;
  for (const k of keys) {
    if (k in record) (out ??= {})[k] = record[k]!;
  }
  return out;
}
