import { IPVS_BINDS, PROVIDERS, PROXY_MODES, type IpvsBind, type PodNetwork, type ProfileOverrides, type Provider, type ProxyMode } from '@loopscope/core';
import { UsageError } from './io';

/** The profile override flags shared by analyze, explain and whatif (`parseArgs` option specs). */
export const PROFILE_OPTIONS = {
  provider: { type: 'string' },
  'proxy-mode': { type: 'string' },
  'ipvs-bind': { type: 'string' },
  'pod-ip-routable': { type: 'string' },
  'pod-network': { type: 'string' },
  'public-lb-in-scope': { type: 'boolean' },
} as const;

export const PROFILE_HELP = `Profile overrides (each replaces what loopscope detects):
  --provider tke|aws|azure|gcp          cloud provider (default: from spec.providerID)
  --proxy-mode iptables|ipvs|nftables|cilium-kpr
                                        proxy mode on every node (default: kube-proxy args/ConfigMap, Cilium)
  --ipvs-bind all|annotated|none        which LB IPs IPVS kube-proxy binds on kube-ipvs0
                                        (default: TKE build from the kube-proxy version; upstream binds all)
  --pod-ip-routable true|false          pod IPs reach the VPC un-NATed (default: true on the known clouds)
  --pod-network shared|exclusive-eni    exclusive-ENI pods answer through the VPC (default: shared)
  --public-lb-in-scope                  analyse public LBs too (default: out of scope, F10)`;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${flag} ${value}: expected one of ${allowed.join(', ')}`);
  return value as T;
}

export function profileOverrides(values: Record<string, unknown>): ProfileOverrides {
  const o: ProfileOverrides = {};
  const provider = oneOf<Provider>('provider', values.provider as string | undefined, PROVIDERS);
  if (provider) o.provider = provider;
  const mode = oneOf<ProxyMode>('proxy-mode', values['proxy-mode'] as string | undefined, PROXY_MODES);
  if (mode) o.proxyMode = mode;
  const bind = oneOf<IpvsBind>('ipvs-bind', values['ipvs-bind'] as string | undefined, IPVS_BINDS);
  if (bind) o.ipvsBind = bind;
  const routable = oneOf('pod-ip-routable', values['pod-ip-routable'] as string | undefined, ['true', 'false'] as const);
  if (routable) o.podIpRoutable = routable === 'true';
  const network = oneOf<PodNetwork>('pod-network', values['pod-network'] as string | undefined, ['shared', 'exclusive-eni']);
  if (network) o.podNetwork = network;
  if (values['public-lb-in-scope'] === true) o.publicLbInScope = true;
  return o;
}
