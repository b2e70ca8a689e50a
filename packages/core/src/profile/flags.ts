import { LoopscopeError } from '../error/loopscopeError';
import { IPVS_BINDS, PROXY_MODES, type IpvsBind, type PodNetwork, type ProfileOverrides, type ProxyMode } from './profile';
import { PROVIDERS, type Provider } from './signals';

/**
 * The profile override flags as every loopscope command spells them (`--provider`, `--proxy-mode`,
 * …), in `util.parseArgs` form, so the CLI and the exporter accept exactly the same words.
 */
export const PROFILE_FLAG_OPTIONS = {
  provider: { type: 'string' },
  'proxy-mode': { type: 'string' },
  'ipvs-bind': { type: 'string' },
  'pod-ip-routable': { type: 'string' },
  'pod-network': { type: 'string' },
  'public-lb-in-scope': { type: 'boolean' },
} as const;

export const PROFILE_FLAGS_HELP = `Profile overrides (each replaces what loopscope detects):
  --provider tke|aws|azure|gcp          cloud provider (default: from spec.providerID)
  --proxy-mode iptables|ipvs|nftables|cilium-kpr
                                        proxy mode on every node (default: kube-proxy args/ConfigMap, Cilium)
  --ipvs-bind all|annotated|none        which LB IPs IPVS kube-proxy binds on kube-ipvs0
                                        (default: TKE build from the kube-proxy version; upstream binds all)
  --pod-ip-routable true|false          pod IPs reach the VPC un-NATed (default: true on the known clouds)
  --pod-network shared|exclusive-eni    exclusive-ENI pods answer through the VPC (default: shared)
  --public-lb-in-scope                  analyse public LBs too (default: out of scope, see docs/model.md#scope)`;

function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new LoopscopeError('INPUT_INVALID', `--${flag} ${String(value)}: expected one of ${allowed.join(', ')}`);
  return value as T;
}

/** Parsed flag values (`parseArgs(...).values`) → overrides. Throws LoopscopeError INPUT_INVALID naming the flag and the accepted values. */
export function profileOverridesFromFlags(values: Record<string, unknown>): ProfileOverrides {
  const o: ProfileOverrides = {};
  const provider = oneOf<Provider>('provider', values.provider, PROVIDERS);
  if (provider) o.provider = provider;
  const mode = oneOf<ProxyMode>('proxy-mode', values['proxy-mode'], PROXY_MODES);
  if (mode) o.proxyMode = mode;
  const bind = oneOf<IpvsBind>('ipvs-bind', values['ipvs-bind'], IPVS_BINDS);
  if (bind) o.ipvsBind = bind;
  const routable = oneOf('pod-ip-routable', values['pod-ip-routable'], ['true', 'false'] as const);
  if (routable) o.podIpRoutable = routable === 'true';
  const network = oneOf<PodNetwork>('pod-network', values['pod-network'], ['shared', 'exclusive-eni']);
  if (network) o.podNetwork = network;
  if (values['public-lb-in-scope'] === true) o.publicLbInScope = true;
  return o;
}
