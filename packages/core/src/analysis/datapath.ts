import type { ClusterService, TrafficPolicy } from '../cluster/model';
import type { DatapathProfile, NodeDatapath } from '../profile/profile';
import { hasPreventLoopback } from '../profile/signals';
import { masqueradesTo } from '../cluster/ipMasqAgent';
import { parseIp } from '../netfilter/ruleset/cidr';
import type { IngressPoint } from './ingress';
import { inferred, type Reason } from './reasons';

/**
 * Steps 1–2 of the decision procedure (docs/model.md) for a client pod on one node: is the
 * packet to the LB captured on the node, and if not, which source IP does the LB see?
 */
export interface DatapathDecision {
  outcome: 'captured' | 'leaves' | 'unknown';
  /** When it leaves: the LB sees the client pod's IP or the node's IP. */
  source?: 'pod' | 'node';
  /** Step 1 then step 2, in order. */
  reasons: Reason[];
}

export function decideDatapath(
  svc: ClusterService,
  ingress: IngressPoint,
  node: NodeDatapath,
  profile: DatapathProfile,
  policy: TrafficPolicy,
): DatapathDecision {
  const reasons: Reason[] = [];
  const capture = decideCapture(svc, ingress, node, reasons);
  if (capture !== 'leaves') return { outcome: capture, reasons };
  const source = decideSource(ingress, node, profile, policy, reasons);
  if (source === undefined) return { outcome: 'unknown', reasons };
  return { outcome: 'leaves', source, reasons };
}

function decideCapture(svc: ClusterService, ingress: IngressPoint, node: NodeDatapath, reasons: Reason[]): DatapathDecision['outcome'] {
  const mode = node.proxyMode;
  if (!ingress.ip) {
    // kube-proxy and Cilium only ever capture IPs; a hostname (AWS NLB) resolves to LB addresses.
    reasons.push(
      inferred(
        'NOT_CAPTURED_HOSTNAME',
        `the ingress is a hostname (${ingress.hostname}); no proxy on the node intercepts it, so the packet goes to the LB`,
        'status.loadBalancer.ingress[].hostname',
      ),
    );
    return 'leaves';
  }
  if (mode.value === 'unknown') {
    reasons.push(inferred('UNKNOWN_PROXY_MODE', "the node's proxy mode is unknown, so capture on the node cannot be decided", mode.source));
    return 'unknown';
  }
  if (ingress.ipMode === 'Proxy') {
    const honours = node.honoursIpModeProxy;
    if (honours.value === undefined) {
      reasons.push(
        inferred('UNKNOWN_IPMODE_SUPPORT', "ipMode is Proxy, and whether this node's proxy honours it is unknown", honours.source),
      );
      return 'unknown';
    }
    if (honours.value) {
      reasons.push(
        inferred(
          'NOT_CAPTURED_IPMODE_PROXY',
          `ipMode is Proxy: ${mode.value === 'cilium-kpr' ? 'Cilium' : 'kube-proxy'} leaves ${ingress.ip} alone (no bind, no rule), so the packet goes to the LB (${mode.value === 'cilium-kpr' ? 'cilium/cilium#34780' : 'KEP-1860'})`,
          `status.loadBalancer.ingress[].ipMode; ${honours.source}`,
        ),
      );
      return 'leaves';
    }
    // The proxy predates ipMode: it captures as for VIP.
  }
  switch (mode.value) {
    case 'iptables':
    case 'nftables':
      reasons.push(
        inferred(
          mode.value === 'iptables' ? 'CAPTURED_IPTABLES' : 'CAPTURED_NFTABLES',
          `${mode.value} kube-proxy sends pod traffic for ${ingress.ip} straight to the endpoints (the KUBE-EXT short-circuit); it never reaches the LB (kube-proxy pkg/proxy/iptables/proxier.go, pkg/proxy/nftables/proxier.go)`,
          mode.source,
        ),
      );
      return 'captured';
    case 'cilium-kpr':
      reasons.push(
        inferred(
          'CAPTURED_CILIUM',
          `Cilium's kube-proxy replacement serves ${ingress.ip} at the socket for in-cluster clients; it never reaches the LB (Cilium kube-proxy replacement docs)`,
          mode.source,
        ),
      );
      return 'captured';
    case 'ipvs': {
      const bind = node.ipvsBind!;
      if (bind.value === 'all') {
        reasons.push(
          inferred(
            'CAPTURED_IPVS_BIND',
            `IPVS kube-proxy binds ${ingress.ip} on kube-ipvs0, so IPVS serves it on the node (kube-proxy pkg/proxy/ipvs/proxier.go)`,
            `${mode.source}; ${bind.source}`,
          ),
        );
        return 'captured';
      }
      if (bind.value === 'annotated') {
        if (hasPreventLoopback(svc.annotations)) {
          reasons.push(
            inferred(
              'CAPTURED_PREVENT_LOOPBACK',
              `the fixed TKE kube-proxy binds ${ingress.ip} on kube-ipvs0 for this Service (annotation prevent-loopback: "true"), so IPVS serves it on the node (Tencent Cloud doc "CLB loopback")`,
              `annotation service.cloud.tencent.com/prevent-loopback; ${bind.source}`,
            ),
          );
          return 'captured';
        }
        reasons.push(
          inferred(
            'NOT_CAPTURED_TKE_NO_ANNOTATION',
            `the TKE kube-proxy build can bind ${ingress.ip}, but only for Services annotated service.cloud.tencent.com/prevent-loopback: "true", and this one is not; the packet goes out to the CLB (Tencent Cloud doc "CLB loopback")`,
            `${mode.source}; ${bind.source}`,
          ),
        );
        return 'leaves';
      }
      if (node.tkeBuildUnknown && hasPreventLoopback(svc.annotations)) {
        reasons.push(
          inferred(
            'UNKNOWN_TKE_BUILD',
            `the Service asks for the bind (prevent-loopback: "true"), and whether this node's TKE kube-proxy build can bind ${ingress.ip} is unknown (Tencent Cloud doc "CLB loopback" lists the builds)`,
            bind.source,
          ),
        );
        return 'unknown';
      }
      reasons.push(
        inferred(
          'NOT_CAPTURED_TKE_IPVS',
          `TKE's IPVS kube-proxy does not bind ${ingress.ip} on kube-ipvs0, so the packet leaves the node for the CLB (kubernetes#79783; Tencent Cloud doc "CLB loopback")`,
          `${mode.source}; ${bind.source}`,
        ),
      );
      return 'leaves';
    }
  }
}

function decideSource(
  ingress: IngressPoint,
  node: NodeDatapath,
  profile: DatapathProfile,
  policy: TrafficPolicy,
  reasons: Reason[],
): 'pod' | 'node' | undefined {
  // ip-masq-agent decides by destination; a hostname ingress has no address to check, so it keeps
  // the provider default (or --pod-ip-routable).
  let routable = profile.podIpRoutable;
  const masq = profile.ipMasqAgent;
  const lbIp = masq && ingress.ip ? parseIp(ingress.ip) : null;
  if (masq && lbIp) {
    if (masqueradesTo(masq, lbIp)) {
      reasons.push(
        inferred(
          'SOURCE_NODE_IP_MASQ_AGENT',
          `ip-masq-agent masquerades pod traffic to ${ingress.ip} (outside its nonMasqueradeCIDRs), so the LB sees the node IP (kubernetes-sigs/ip-masq-agent)`,
          masq.source,
        ),
      );
      return 'node';
    }
    routable = { value: true, source: `${masq.source}: ${ingress.ip} is not masqueraded` };
  }
  if (routable.value === undefined) {
    reasons.push(
      inferred(
        'UNKNOWN_POD_IP_ROUTABLE',
        'whether the CNI masquerades pod traffic to VPC addresses is unknown, so the source the LB sees is unknown',
        routable.source,
      ),
    );
    return undefined;
  }
  if (!routable.value) {
    reasons.push(
      inferred(
        'SOURCE_NODE_IP_CNI_MASQUERADE',
        'the CNI masquerades pod traffic to VPC addresses, so the LB sees the node IP',
        routable.source,
      ),
    );
    return 'node';
  }
  // Only IPVS puts a Cluster LB IP in KUBE-LOAD-BALANCER (mark for masquerade, docs/model.md); with ipMode
  // Proxy or a hostname there is no ipset entry at all.
  const ipvsRules =
    node.proxyMode.value === 'ipvs' && ingress.ip !== undefined && !(ingress.ipMode === 'Proxy' && node.honoursIpModeProxy.value);
  if (ipvsRules && policy === 'Cluster') {
    reasons.push(
      inferred(
        'SOURCE_NODE_IP_CLUSTER',
        'externalTrafficPolicy Cluster: KUBE-LOAD-BALANCER marks the packet (KUBE-MARK-MASQ) and KUBE-POSTROUTING masquerades it, so the LB sees the node IP (kube-proxy pkg/proxy/ipvs/proxier.go)',
        'spec.externalTrafficPolicy: Cluster',
      ),
    );
    return 'node';
  }
  if (ipvsRules) {
    reasons.push(
      inferred(
        'SOURCE_POD_IP_LOCAL',
        'externalTrafficPolicy Local: the LB IP is in KUBE-LOAD-BALANCER-LOCAL, which RETURNs before KUBE-MARK-MASQ, so nothing SNATs the packet and the LB sees the pod IP (kube-proxy pkg/proxy/ipvs/proxier.go)',
        'spec.externalTrafficPolicy: Local',
      ),
    );
    return 'pod';
  }
  reasons.push(
    inferred(
      'SOURCE_POD_IP_NO_SNAT',
      'no kube-proxy rule matches the packet, so nothing SNATs it and the LB sees the pod IP (KEP-1860)',
      routable.source,
    ),
  );
  return 'pod';
}
