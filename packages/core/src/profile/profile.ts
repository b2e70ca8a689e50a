import type { ClusterModel, IpMasqAgentConfig } from '../cluster/model';
import { internalLbAnnotation, providerFromProviderID, type Provider } from './signals';
import { compareVersion, imageTag, parseKubeVersion, tkeBuildStatus } from './versions';

/** A value the model uses, with where it came from (shown in explanations). */
export interface Detected<T> {
  value: T;
  source: string;
}

export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'cilium-kpr' | 'unknown';
export const PROXY_MODES: readonly ProxyMode[] = ['iptables', 'ipvs', 'nftables', 'cilium-kpr'];

/**
 * Which LB ingress IPs an IPVS kube-proxy binds on kube-ipvs0 (docs/model.md): `all` (upstream), `annotated`
 * (a fixed TKE build: only Services with prevent-loopback), `none` (an unfixed TKE build).
 */
export type IpvsBind = 'all' | 'annotated' | 'none';
export const IPVS_BINDS: readonly IpvsBind[] = ['all', 'annotated', 'none'];

export type PodNetwork = 'shared' | 'exclusive-eni';

/** User overrides for anything detected (the CLI's profile flags). */
export interface ProfileOverrides {
  provider?: Provider;
  proxyMode?: ProxyMode;
  ipvsBind?: IpvsBind;
  podIpRoutable?: boolean;
  podNetwork?: PodNetwork;
  publicLbInScope?: boolean;
}

export interface NodeDatapath {
  proxyMode: Detected<ProxyMode>;
  /** Only for IPVS nodes. */
  ipvsBind?: Detected<IpvsBind>;
  /** Whether the node's proxy honours `ipMode: Proxy` (docs/model.md); undefined when unknown. */
  honoursIpModeProxy: Detected<boolean | undefined>;
  /**
   * TKE IPVS with no kube-proxy version in the input: whether the build binds annotated Services'
   * LB IPs is unknown (docs/model.md). Without the annotation no build binds, so only annotated Services care.
   */
  tkeBuildUnknown?: boolean;
  /** Nodes with the same key decide steps 1–2 the same way (analysis memoizes on it). */
  classKey: string;
}

export interface DatapathProfile {
  provider: Detected<Provider>;
  /** Pod IPs routable in the VPC (no CNI masquerade to VPC destinations); undefined when unknown. */
  podIpRoutable: Detected<boolean | undefined>;
  podNetwork: Detected<PodNetwork>;
  publicLbInScope: Detected<boolean>;
  /** The LB never forwards to a backend whose IP equals the packet's source (docs/model.md: TKE CLB). */
  lbSkipsSourceBackend: Detected<boolean>;
  /**
   * `kube-system/ip-masq-agent`, when the input has it and --pod-ip-routable does not override it:
   * decides per LB address whether pod traffic is masqueraded (docs/model.md).
   */
  ipMasqAgent?: IpMasqAgentConfig;
  nodes: NodeDatapath[];
}

const PROVIDER_NAMES: Record<Provider, string> = { tke: 'Tencent TKE', aws: 'AWS', azure: 'Azure', gcp: 'GCP', unknown: 'unknown' };

export function providerName(p: Provider): string {
  return PROVIDER_NAMES[p];
}

export function detectProfile(cluster: ClusterModel, overrides: ProfileOverrides = {}): DatapathProfile {
  const provider = overrides.provider ? { value: overrides.provider, source: 'set by --provider' } : detectProvider(cluster);
  const podIpRoutable: Detected<boolean | undefined> =
    overrides.podIpRoutable !== undefined
      ? { value: overrides.podIpRoutable, source: 'set by --pod-ip-routable' }
      : provider.value === 'unknown'
        ? { value: undefined, source: 'not detected: the provider is unknown (set --pod-ip-routable)' }
        : {
            value: true,
            source: `default for ${providerName(provider.value)}: pod IPs are routable in the VPC (${ROUTABLE_CNI[provider.value]})`,
          };
  const podNetwork: Detected<PodNetwork> = overrides.podNetwork
    ? { value: overrides.podNetwork, source: 'set by --pod-network' }
    : { value: 'shared', source: 'default: pods share the node network (veth routing); set --pod-network exclusive-eni otherwise' };
  const publicLbInScope: Detected<boolean> =
    overrides.publicLbInScope !== undefined
      ? { value: overrides.publicLbInScope, source: 'set by --public-lb-in-scope' }
      : { value: false, source: 'default: public LBs did not show the problem (docs/model.md#scope)' };
  const lbSkipsSourceBackend: Detected<boolean> =
    provider.value === 'tke'
      ? { value: true, source: 'TKE CLB never forwards to a backend whose IP equals the source (Tencent Cloud doc "CLB loopback")' }
      : { value: false, source: `${providerName(provider.value)} LBs have no such skip rule (docs/model.md#providers)` };
  const profile: DatapathProfile = {
    provider,
    podIpRoutable,
    podNetwork,
    publicLbInScope,
    lbSkipsSourceBackend,
    nodes: detectNodeDatapaths(cluster, provider.value, overrides),
  };
  if (cluster.ipMasqAgent && overrides.podIpRoutable === undefined) profile.ipMasqAgent = cluster.ipMasqAgent;
  return profile;
}

const ROUTABLE_CNI: Record<Exclude<Provider, 'unknown'>, string> = {
  tke: 'GlobalRouter / VPC-CNI',
  aws: 'AWS VPC CNI',
  azure: 'Azure CNI',
  gcp: 'GKE VPC-native',
};

function detectProvider(cluster: ClusterModel): Detected<Provider> {
  const counts = new Map<Provider, { n: number; example: string }>();
  for (const node of cluster.nodes) {
    const p = providerFromProviderID(node.providerID);
    if (p === 'unknown') continue;
    const c = counts.get(p);
    if (c) c.n++;
    else counts.set(p, { n: 1, example: `${node.name}: ${node.providerID}` });
  }
  const best = [...counts.entries()].sort((a, b) => b[1].n - a[1].n)[0];
  if (best) {
    return { value: best[0], source: `spec.providerID of ${best[1].n}/${cluster.nodes.length} nodes (${best[1].example})` };
  }
  for (const svc of cluster.services) {
    const a = internalLbAnnotation(svc.annotations, svc.loadBalancerClass);
    if (a)
      return { value: a.provider, source: `annotation ${a.key} on Service ${svc.namespace}/${svc.name} (no node has a spec.providerID)` };
  }
  return {
    value: 'unknown',
    source: 'not detected: no node has a known spec.providerID and no Service has a cloud internal-LB annotation (set --provider)',
  };
}

interface ModeReading {
  mode: ProxyMode;
  /** The args ask for a config file whose mode we have to read from the ConfigMap. */
  needsConfig: boolean;
  source: string;
}

function modeFromArgs(args: string[], where: string): ModeReading | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let value: string | undefined;
    if (a.startsWith('--proxy-mode=')) value = a.slice('--proxy-mode='.length);
    else if (a === '--proxy-mode') value = args[i + 1];
    else if (/--proxy-mode[= ]/.test(a)) value = /--proxy-mode[= ]([A-Za-z]*)/.exec(a)?.[1]; // inside a shell command string
    if (value !== undefined) {
      return { mode: normalizeMode(value), needsConfig: false, source: `${where} argument --proxy-mode=${value}` };
    }
  }
  if (args.some((a) => a.startsWith('--config'))) return { mode: 'unknown', needsConfig: true, source: `${where} reads --config` };
  return undefined;
}

function normalizeMode(value: string): ProxyMode {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'iptables') return 'iptables';
  if (v === 'ipvs' || v === 'nftables') return v;
  return 'unknown';
}

function detectNodeDatapaths(cluster: ClusterModel, provider: Provider, overrides: ProfileOverrides): NodeDatapath[] {
  const { kubeProxy, cilium } = cluster;
  const podByNode = new Map<number, (typeof kubeProxy.pods)[number]>();
  for (const p of kubeProxy.pods) podByNode.set(p.node, p);
  const fromConfigMap = (reading: ModeReading | undefined): Detected<ProxyMode> | undefined => {
    if (!reading) return undefined;
    if (!reading.needsConfig) return { value: reading.mode, source: reading.source };
    if (kubeProxy.configMapMode === undefined) return undefined;
    return {
      value: normalizeMode(kubeProxy.configMapMode),
      source: `${reading.source}; ConfigMap kube-system/kube-proxy mode: "${kubeProxy.configMapMode}"${kubeProxy.configMapMode === '' ? ' (the default, iptables)' : ''}`,
    };
  };
  // Cluster-wide fallback for nodes without their own kube-proxy pod in the snapshot.
  let fallback: Detected<ProxyMode> | undefined =
    fromConfigMap(
      kubeProxy.daemonSet
        ? (modeFromArgs(kubeProxy.daemonSet.args, 'DaemonSet kube-system/kube-proxy') ?? {
            mode: 'iptables',
            needsConfig: false,
            source: 'DaemonSet kube-system/kube-proxy has no --proxy-mode (default iptables)',
          })
        : undefined,
    ) ??
    (kubeProxy.configMapMode !== undefined
      ? { value: normalizeMode(kubeProxy.configMapMode), source: `ConfigMap kube-system/kube-proxy mode: "${kubeProxy.configMapMode}"` }
      : undefined);
  if (!fallback && kubeProxy.pods.length > 0) {
    const first = kubeProxy.pods[0]!;
    const reading = fromConfigMap(modeFromArgs(first.args, `kube-proxy pod ${first.name}`));
    if (reading) fallback = { value: reading.value, source: `${reading.source} (on another node)` };
  }
  const kprCluster = kubeProxy.pods.length === 0 && !kubeProxy.daemonSet && cilium.agentNodes.size > 0;
  const ciliumVersion = parseKubeVersion(imageTag(cilium.image));

  return cluster.nodes.map((node) => {
    let proxyMode: Detected<ProxyMode>;
    const kp = podByNode.get(node.index);
    if (overrides.proxyMode) proxyMode = { value: overrides.proxyMode, source: 'set by --proxy-mode' };
    else if (kp) {
      proxyMode = fromConfigMap(
        modeFromArgs(kp.args, `kube-proxy pod ${kp.name}`) ?? {
          mode: 'iptables',
          needsConfig: false,
          source: `kube-proxy pod ${kp.name} has no --proxy-mode and no --config (default iptables)`,
        },
      ) ?? {
        value: 'unknown',
        source: `kube-proxy pod ${kp.name} reads --config, but the kube-proxy ConfigMap is not in the snapshot (add \`kubectl get configmap -n kube-system kube-proxy -o json\` or set --proxy-mode)`,
      };
    } else if (kprCluster) {
      proxyMode = {
        value: 'cilium-kpr',
        source: `cilium agent pods run (${cilium.agentNodes.size} nodes) and no kube-proxy does: Cilium kube-proxy replacement`,
      };
    } else if (fallback) proxyMode = fallback;
    else
      proxyMode = {
        value: 'unknown',
        source: 'no kube-proxy pod, DaemonSet or ConfigMap and no cilium agent in the snapshot (add kube-system pods or set --proxy-mode)',
      };

    let ipvsBind: Detected<IpvsBind> | undefined;
    let tkeBuildUnknown = false;
    // F9: the running kube-proxy's image first, then the DaemonSet's, then the node's (deprecated)
    // kubeProxyVersion, then its kubeletVersion; each says which was used.
    const proxyImageVersion = parseKubeVersion(imageTag(kp?.image));
    const daemonSetVersion = kp ? undefined : parseKubeVersion(imageTag(kubeProxy.daemonSet?.image));
    const nodeVersion = parseKubeVersion(node.kubeProxyVersion);
    const kubeletVersion = parseKubeVersion(node.kubeletVersion);
    let version = proxyImageVersion?.tke !== undefined || !nodeVersion ? proxyImageVersion : nodeVersion;
    let versionSource =
      version === proxyImageVersion && kp
        ? `image of kube-proxy pod ${kp.name}: ${kp.image}`
        : `node ${node.name} status.nodeInfo.kubeProxyVersion ${node.kubeProxyVersion}`;
    if (!version && daemonSetVersion) {
      version = daemonSetVersion;
      versionSource = `image of DaemonSet kube-system/kube-proxy: ${kubeProxy.daemonSet!.image}`;
    } else if (!version && kubeletVersion && !node.missing) {
      version = kubeletVersion;
      versionSource = `node ${node.name} status.nodeInfo.kubeletVersion ${node.kubeletVersion} (no kube-proxy version in the input)`;
    }
    if (proxyMode.value === 'ipvs') {
      if (overrides.ipvsBind) ipvsBind = { value: overrides.ipvsBind, source: 'set by --ipvs-bind' };
      else if (provider === 'tke' && version && tkeBuildStatus(version) !== 'not-tke') {
        ipvsBind =
          tkeBuildStatus(version) === 'fixed'
            ? {
                value: 'annotated',
                source: `${versionSource}: a TKE build that binds the LB IP for Services annotated prevent-loopback (Tencent Cloud doc "CLB loopback")`,
              }
            : {
                value: 'none',
                source: `${versionSource}: a TKE build older than the fix, which does not bind LB IPs on kube-ipvs0 (Tencent Cloud doc "CLB loopback")`,
              };
      } else if (provider === 'tke' && !version) {
        ipvsBind = {
          value: 'none',
          source: `node ${node.name}: no kube-proxy version in the input, so whether its TKE build binds LB IPs is unknown (add the kube-proxy pods with \`kubectl get pods -n kube-system -o json\`, or set --ipvs-bind)`,
        };
        tkeBuildUnknown = true;
      } else {
        ipvsBind = {
          value: 'all',
          source: `${version ? versionSource : 'kube-proxy'}: upstream IPVS binds every LB ingress IP on kube-ipvs0 (kube-proxy pkg/proxy/ipvs/proxier.go)`,
        };
      }
    }

    let honours: Detected<boolean | undefined>;
    if (proxyMode.value === 'cilium-kpr') {
      honours = !ciliumVersion
        ? { value: undefined, source: `cilium version not known (image ${cilium.image ?? 'missing'})` }
        : compareVersion(ciliumVersion, { major: 1, minor: 17, patch: 0 }) < 0
          ? { value: false, source: `cilium ${ciliumVersion.raw} predates ipMode support (1.17, cilium/cilium#34780)` }
          : ciliumVersion.minor === 18 && ciliumVersion.patch === 0 && ciliumVersion.major === 1
            ? { value: false, source: `cilium ${ciliumVersion.raw} regressed ipMode handling (fixed in 1.18.1, cilium/cilium#40913)` }
            : { value: true, source: `cilium ${ciliumVersion.raw} honours ipMode: Proxy (cilium/cilium#34780)` };
    } else if (version) {
      honours =
        compareVersion(version, { major: 1, minor: 30, patch: 0 }) >= 0
          ? { value: true, source: `${versionSource}: kube-proxy 1.30+ honours ipMode: Proxy (KEP-1860)` }
          : { value: false, source: `${versionSource}: kube-proxy before 1.30 ignores ipMode (KEP-1860)` };
    } else {
      // F12: never assumed. Only a Service whose ingress has ipMode Proxy needs it.
      honours = {
        value: undefined,
        source: `node ${node.name}: the kube-proxy version is unknown (add the kube-proxy pods with \`kubectl get pods -n kube-system -o json\`, or the Nodes with \`kubectl get nodes -o json\`)`,
      };
    }
    const classKey = `${proxyMode.value}|${ipvsBind?.value ?? ''}|${honours.value}|${tkeBuildUnknown}`;
    const datapath: NodeDatapath = { proxyMode, ipvsBind, honoursIpModeProxy: honours, classKey };
    if (tkeBuildUnknown) datapath.tkeBuildUnknown = true;
    return datapath;
  });
}
