import { runCommand } from './command';

export type IptablesBackend = 'nft' | 'legacy';

export interface BackendChoice {
  backend: IptablesBackend;
  /** Why, for the evidence and the logs. */
  reason: string;
}

const HINT_CHAINS = /^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY) /m;

function ruleCount(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('-')) n++;
  return n;
}

/**
 * Which iptables backend holds the host's rules, decided as kube-proxy's `iptables-wrapper` does
 * (kubernetes-sigs/iptables-wrappers, `iptables-wrapper-installer.sh`): the kubelet's and
 * kube-proxy's hint chains (`KUBE-IPTABLES-HINT`, `KUBE-KUBELET-CANARY` in the mangle table) first;
 * else the backend with more rules; a tie goes to nft. A container reading the other backend sees
 * empty tables. Decided again on every refresh: a restarted kube-proxy may have switched.
 */
export async function chooseIptablesBackend(): Promise<BackendChoice> {
  const [nftHint, legacyHint] = await Promise.all([
    runCommand('iptables-nft-save', ['-t', 'mangle']),
    runCommand('iptables-legacy-save', ['-t', 'mangle']),
  ]);
  if (nftHint.ok && HINT_CHAINS.test(nftHint.stdout))
    return { backend: 'nft', reason: 'KUBE-IPTABLES-HINT/KUBE-KUBELET-CANARY chain in iptables-nft-save -t mangle' };
  if (legacyHint.ok && HINT_CHAINS.test(legacyHint.stdout))
    return { backend: 'legacy', reason: 'KUBE-IPTABLES-HINT/KUBE-KUBELET-CANARY chain in iptables-legacy-save -t mangle' };
  const count = async (cmds: string[]): Promise<number | undefined> => {
    let n: number | undefined;
    for (const r of await Promise.all(cmds.map((c) => runCommand(c, [])))) if (r.ok) n = (n ?? 0) + ruleCount(r.stdout);
    return n;
  };
  const [nft, legacy] = await Promise.all([
    count(['iptables-nft-save', 'ip6tables-nft-save']),
    count(['iptables-legacy-save', 'ip6tables-legacy-save']),
  ]);
  if (nft === undefined && legacy === undefined)
    return { backend: 'nft', reason: 'neither iptables-nft-save nor iptables-legacy-save ran; using plain iptables-save' };
  if ((legacy ?? 0) > (nft ?? 0)) return { backend: 'legacy', reason: `${legacy} legacy rules vs ${nft ?? 'no'} nft rules` };
  return { backend: 'nft', reason: `${nft ?? 'no'} nft rules vs ${legacy ?? 'no'} legacy rules` };
}
