/**
 * The `mode:` of kube-proxy's KubeProxyConfiguration (the `config.conf` key of the kube-system/
 * kube-proxy ConfigMap). Read line by line with string operations, not a multi-line regex: anyone
 * who can write that ConfigMap controls the text, and `\s*` runs across lines backtrack.
 */

/** True when some line starts with `mode:` (how an unnamed key is recognised as the config). */
export function hasModeLine(config: string): boolean {
  return config.startsWith('mode:') || config.includes('\nmode:');
}

/**
 * The top-level `mode:` value, unquoted, without a trailing `# comment`; '' when there is no such
 * line or its value is not a word (kube-proxy's default, iptables).
 */
export function kubeProxyConfigMode(config: string): string {
  let start = 0;
  while (start <= config.length) {
    let end = config.indexOf('\n', start);
    if (end < 0) end = config.length;
    if (config.startsWith('mode:', start)) return modeValue(config.slice(start + 5, end));
    start = end + 1;
  }
  return '';
}

function modeValue(rest: string): string {
  let v = rest;
  const hash = v.indexOf(' #');
  if (hash >= 0) v = v.slice(0, hash);
  v = v.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) v = v.slice(1, -1);
  return /^[A-Za-z]{0,32}$/.test(v) ? v : '';
}
