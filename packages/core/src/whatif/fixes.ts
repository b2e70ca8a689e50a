import type { ClusterAnalysis } from '../analysis/analyze';
import type { ServiceAnalysis } from '../analysis/service';
import type { DatapathProfile } from '../profile/profile';
import { hasPreventLoopback } from '../profile/signals';
import { whatIf, type WhatIfChange } from './whatif';

export type FixId = 'use-cluster-ip' | 'tke-prevent-loopback' | 'traffic-policy-cluster' | 'ipmode-vip' | 'move-clients';

/** A fix from loopback-model.md §6, with the figure the model predicts after it. */
export interface Fix {
  id: FixId;
  title: string;
  description: string;
  /** What it costs or where it falls short. */
  tradeoff: string;
  changes: WhatIfChange[];
  predictedProbability: number;
  /** It brings the figure down. */
  effective: boolean;
}

const bindsCache = new WeakMap<DatapathProfile, Set<string>>();

/** The IPVS bind behaviours present on the nodes (once per profile: explain asks for every Service). */
function ipvsBinds(profile: DatapathProfile): Set<string> {
  let binds = bindsCache.get(profile);
  if (!binds) {
    binds = new Set();
    for (const n of profile.nodes) if (n.proxyMode.value === 'ipvs' && n.ipvsBind) binds.add(n.ipvsBind.value);
    bindsCache.set(profile, binds);
  }
  return binds;
}

/** The fixes of §6 that apply to a looping Service, in the page's order. */
export function fixesFor(analysis: ClusterAnalysis, sa: ServiceAnalysis): Fix[] {
  if (sa.verdict !== 'loopback') return [];
  const svc = sa.service;
  const ref = `${svc.namespace}/${svc.name}`;
  const provider = analysis.context.profile.provider.value;
  const fixes: Fix[] = [];
  const add = (id: FixId, title: string, description: string, tradeoff: string, changes: WhatIfChange[]): void => {
    const result = whatIf(analysis, changes, { onlyService: svc.index }).services.find((s) => s.namespace === svc.namespace && s.name === svc.name);
    const predicted = result ? result.after.probability : sa.probability;
    fixes.push({ id, title, description, tradeoff, changes, predictedProbability: predicted, effective: predicted < sa.probability });
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
  if (provider === 'tke' && (binds.has('annotated') || binds.has('none')) && (!hasPreventLoopback(svc.annotations) || binds.has('none'))) {
    add(
      'tke-prevent-loopback',
      'TKE: kube-proxy with the bind, and annotate the Service',
      'Upgrade kube-proxy to a build that binds the LB address (v1.20.6-tke.12, v1.18.4-tke.20, v1.16.3-tke.25, v1.14.3-tke.24, v1.12.4-tke.30 or later in each line), have CLB health checks come from outside the VIP (100.64.0.0/10), and annotate the Service service.cloud.tencent.com/prevent-loopback: "true" (Tencent Cloud doc 457/42976).',
      'Needs the kube-proxy upgrade on every node first; nodes still on an old build keep looping.',
      [
        { kind: 'kubeProxyVersion', version: 'tke-fixed' },
        { kind: 'preventLoopback', service: ref, value: true },
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
    'Keep client pods off the nodes that hold its backends',
    'Pod anti-affinity between the affected client workloads and the Service\'s endpoints.',
    'Fragile: any rescheduling can bring the risk back, and it constrains placement.',
    [{ kind: 'moveClients', service: ref }],
  );
  return fixes;
}
