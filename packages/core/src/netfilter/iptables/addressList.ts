/** The value of `-s`/`-d`: a CIDR, a dotted mask, or a comma list as iptables-restore accepts. */

import { type Cidr, parseCidr } from '../ruleset/cidr';

export function parseAddressList(text: string): Cidr[] | null {
  const out: Cidr[] = [];
  for (const part of text.split(',')) {
    const c = parseCidr(part);
    if (!c) return null;
    out.push(c);
  }
  return out.length > 0 ? out : null;
}
