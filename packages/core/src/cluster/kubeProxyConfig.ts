import { isRecord, readConfigYaml } from './configYaml';

/**
 * The `mode:` of kube-proxy's KubeProxyConfiguration (the `config.conf` key of the kube-system/
 * kube-proxy ConfigMap), read as YAML: `mode: ipvs  # note`, `mode: "ipvs"` and flow style all say
 * ipvs. (A hand-rolled line reader once read `mode: ipvs  # note` as iptables.)
 */

/** True when the text is a YAML mapping with a top-level `mode` key (how an unnamed key is recognised as the config). */
export function hasModeLine(config: string): boolean {
  const r = readConfigYaml(config);
  return r.ok && isRecord(r.value) && 'mode' in r.value;
}

/**
 * The top-level `mode` value; '' when there is no such key or it is empty (kube-proxy's default,
 * iptables). A value that is not a word is returned as is, so the profile reports it as unknown.
 */
export function kubeProxyConfigMode(config: string): string {
  return readKubeProxyConfig(config).mode;
}

export function readKubeProxyConfig(config: string): { mode: string; problem?: string } {
  const r = readConfigYaml(config);
  if (!r.ok) return { mode: '?', problem: r.message };
  if (!isRecord(r.value)) return { mode: '', problem: r.value == null ? undefined : 'is not a YAML mapping' };
  const mode = r.value.mode;
  if (mode === undefined || mode === null) return { mode: '' };
  if (typeof mode !== 'string') return { mode: '?', problem: `mode is ${JSON.stringify(mode).slice(0, 40)}, not a string` };
  const v = mode.trim();
  return /^[A-Za-z]{0,32}$/.test(v) ? { mode: v } : { mode: '?', problem: `mode ${JSON.stringify(v.slice(0, 40))} is not a proxy mode` };
}
