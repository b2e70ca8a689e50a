import type { IpMasqAgentConfig } from './model';
import { cidrContains, parseCidr, type Cidr, type IpAddress } from '../netfilter/ruleset/cidr';
import { isRecord, readConfigYaml } from './configYaml';

/**
 * The `kube-system/ip-masq-agent` ConfigMap (its `config` key, YAML or JSON): pod traffic to a
 * destination inside `nonMasqueradeCIDRs` keeps the pod IP, anything else is masqueraded to the
 * node IP; link-local destinations keep the pod IP unless `masqLinkLocal`. Without a CIDR list the
 * agent uses its defaults (kubernetes-sigs/ip-masq-agent README).
 */
export const IP_MASQ_AGENT_DEFAULT_CIDRS: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '240.0.0.0/4',
];

const LINK_LOCAL = parseCidr('169.254.0.0/16')!;

export function readIpMasqAgent(data: Record<string, unknown>, where: string): { config?: IpMasqAgentConfig; problem?: string } {
  const key = typeof data.config === 'string' ? 'config' : Object.keys(data).find((k) => typeof data[k] === 'string');
  if (key === undefined)
    return {
      problem: 'has no config key; the agent defaults are assumed',
      config: defaults(`${where} (no config key: the agent's default non-masquerade CIDRs)`),
    };
  const r = readConfigYaml(data[key] as string);
  if (!r.ok) return { problem: `data.${key} ${r.message}; ignored` };
  const value = isRecord(r.value) ? r.value : {};
  const masqLinkLocal = value.masqLinkLocal === true;
  const raw = value.nonMasqueradeCIDRs;
  if (!Array.isArray(raw)) return { config: { ...defaults(`${where} (no nonMasqueradeCIDRs: the agent's defaults)`), masqLinkLocal } };
  const cidrs: Cidr[] = [];
  const text: string[] = [];
  const bad: string[] = [];
  for (const c of raw.slice(0, 1000)) {
    const parsed = typeof c === 'string' ? parseCidr(c.trim()) : null;
    if (parsed) {
      cidrs.push(parsed);
      text.push(c as string);
    } else bad.push(String(c).slice(0, 60));
  }
  return {
    config: { nonMasqueradeCIDRs: cidrs, cidrText: text, masqLinkLocal, source: `${where} nonMasqueradeCIDRs [${text.join(', ')}]` },
    problem: bad.length ? `nonMasqueradeCIDRs entries that are not CIDRs were ignored: ${bad.slice(0, 5).join(', ')}` : undefined,
  };
}

function defaults(source: string): IpMasqAgentConfig {
  return {
    nonMasqueradeCIDRs: IP_MASQ_AGENT_DEFAULT_CIDRS.map((c) => parseCidr(c)!),
    cidrText: [...IP_MASQ_AGENT_DEFAULT_CIDRS],
    masqLinkLocal: false,
    source,
  };
}

/** Whether the agent masquerades pod traffic to `ip` (so the destination sees the node IP). */
export function masqueradesTo(config: IpMasqAgentConfig, ip: IpAddress): boolean {
  if (!config.masqLinkLocal && cidrContains(LINK_LOCAL, ip)) return false;
  return !config.nonMasqueradeCIDRs.some((c) => cidrContains(c, ip));
}
