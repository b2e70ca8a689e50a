import { isIP } from 'node:net';

/**
 * One spelling per address, so an ingress IP from the Kubernetes API matches the one conntrack
 * prints (IPv6 has many spellings: `fd00:0:0::5`, `FD00::5`). undefined when it is not an address.
 */
export function canonicalIp(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family === 6) return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  return undefined;
}
