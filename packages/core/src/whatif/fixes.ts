import type { ClusterAnalysis } from '../analysis/analyze';
import type { ServiceAnalysis } from '../analysis/service';
import type { DatapathProfile } from '../profile/profile';
import { hasPreventLoopback } from '../profile/signals';
import { worstClientProbability } from '../analysis/worstClient';
import { whatIf, type WhatIfChange } from './whatif';

export type FixId = 'use-cluster-ip' | 'tke-prevent-loopback' | 'traffic-policy-cluster' | 'ipmode-vip' | 'move-clients';

/** A fix (docs/model.md#fixes), with the figures the model predicts after it. */
export interface Fix {
  id: FixId;
  title: string;
  description: string;
  /** What it costs or where it falls short. */
  tradeoff: string;
  changes: WhatIfChange[];
  predictedProbability: number;
  /** The worst-client figure after it (the largest p left over the client pods). */
  predictedWorstClientProbability: number;
  /** It brings the figure down. */
  effective: boolean;
}

const bindsCache = new WeakMap<DatapathProfile, Map<string, number>>();

/** IPVS nodes per bind behaviour (once per profile: explain asks for every Service). */
function ipvsBinds(profile: DatapathProfile): Map<string, number> {
  let binds = bindsCache.get(profile);
  if (!binds) {
    binds = new Map();
    for (const n of profile.nodes)
      if (n.proxyMode.value === 'ipvs' && n.ipvsBind) binds.set(n.ipvsBind.value, (binds.get(n.ipvsBind.value) ?? 0) + 1);
    bindsCache.set(profile, binds);
  }
  return binds;
}

const TKE_DOC = 'Tencent Cloud doc "CLB loopback", 457/42976';
const HEALTH_CHECKS =
  'CLB health checks must come from outside the VIP (100.64.0.0/10, the default the Tencent Cloud doc gives); a node that owns the VIP drops health checks sourced from it.';

/** The fixes that apply to a looping Service, in the order of docs/model.md#fixes. */
export function fixesFor(analysis: ClusterAnalysis, sa: ServiceAnalysis): Fix[] {
  if (sa.verdict !== 'loopback') return [];
  const svc = sa.service;
  const ref = `${svc.namespace}/${svc.name}`;
  const provider = analysis.context.profile.provider.value;
  const fixes: Fix[] = [];
  const add = (id: FixId, title: string, description: string, tradeoff: string, changes: WhatIfChange[]): void => {
    const result = whatIf(analysis, changes, { onlyService: svc.index }).services.find(
      (s) => s.namespace === svc.namespace && s.name === svc.name,
    );
    const predicted = result ? result.after.probability : sa.probability;
    const worst = result?.after.worstClientProbability ?? worstClientProbability(sa);
    // Offered only where it would change something (docs/model.md#fixes): anti-affinity, and
    // Cluster policy (no help where the LB has no skip rule, e.g. AWS, Azure).
    if ((id === 'move-clients' || id === 'traffic-policy-cluster') && predicted >= sa.probability) return;
    fixes.push({
      id,
      title,
      description,
      tradeoff,
      changes,
      predictedProbability: predicted,
      predictedWorstClientProbability: worst,
      effective: predicted < sa.probability,
    });
  };
  if (svc.clusterIP) {
    add(
      'use-cluster-ip',
      'Call the Service by its cluster DNS name',
      `Point in-cluster clients at ${svc.name}.${svc.namespace}.svc (ClusterIP ${svc.clusterIP}) instead of the LB IP: no LB hop, and the client IP is kept.`,
      'Needs a config change in every client that uses the LB address.',
      [{ kind: 'callViaClusterIP', service: ref }],
    );
  }
  const binds = ipvsBinds(analysis.context.profile);
  const unfixed = binds.get('none') ?? 0;
  const annotated = hasPreventLoopback(svc.annotations);
  if (provider === 'tke' && unfixed === 0 && (binds.get('annotated') ?? 0) > 0 && !annotated) {
    // Every IPVS node already runs a build with the bind: only the annotation is missing.
    add(
      'tke-prevent-loopback',
      'TKE: annotate the Service with service.cloud.tencent.com/prevent-loopback',
      `Every IPVS node already runs a kube-proxy build that binds the LB address for annotated Services; annotate the Service service.cloud.tencent.com/prevent-loopback: "true" and kube-proxy serves ${svc.ingresses[0]?.ip ?? svc.ingresses[0]?.hostname ?? 'the LB address'} on the node itself (${TKE_DOC}).`,
      HEALTH_CHECKS,
      [{ kind: 'preventLoopback', service: ref, value: true }],
    );
  } else if (provider === 'tke' && unfixed > 0) {
    add(
      'tke-prevent-loopback',
      annotated
        ? `TKE: upgrade kube-proxy on ${unfixed} node(s) to a build with the bind`
        : `TKE: upgrade kube-proxy on ${unfixed} node(s) to a build with the bind, and annotate the Service`,
      `Upgrade kube-proxy where it runs a build older than the fix to the first fixed build of its line (v1.20.6-tke.12, v1.18.4-tke.20, v1.16.3-tke.25, v1.14.3-tke.24, v1.12.4-tke.30; newer lines already bind, and no node is moved to an older build)${annotated ? '' : ', and annotate the Service service.cloud.tencent.com/prevent-loopback: "true"'} (${TKE_DOC}).`,
      `${HEALTH_CHECKS} Nodes still on an old build keep looping.`,
      [
        { kind: 'kubeProxyVersion', version: 'tke-fixed' },
        ...(annotated ? [] : [{ kind: 'preventLoopback' as const, service: ref, value: true }]),
      ],
    );
  }
  if (svc.trafficPolicy === 'Local') {
    add(
      'traffic-policy-cluster',
      'Set externalTrafficPolicy: Cluster',
      'kube-proxy then SNATs LB-bound pod traffic to the node IP; the TKE CLB skips a backend whose IP is the source.',
      'Backends lose the client source IP; does not help on AWS or Azure, whose LBs have no such skip.',
      [{ kind: 'trafficPolicy', service: ref, value: 'Cluster' }],
    );
  }
  if (svc.ingresses.some((i) => i.ipMode === 'Proxy')) {
    add(
      'ipmode-vip',
      'Use ipMode: VIP',
      'Where the cloud controller allows it, let kube-proxy capture the LB IP on the node again.',
      'Only if the LB does not need traffic to pass through it (PROXY protocol, TLS termination).',
      [{ kind: 'ipMode', service: ref, value: 'VIP' }],
    );
  }
  add(
    'move-clients',
    'Keep client pods off the nodes that hold its endpoints',
    "Pod anti-affinity between the affected client workloads and the Service's endpoints: the clients move to nodes without an endpoint; the Service's own pods stay where they are.",
    'Fragile: any rescheduling can bring the risk back, and it constrains placement.',
    [{ kind: 'moveClients', service: ref }],
  );
  return fixes;
}
