/** NAT destinations as DNAT/SNAT (`--to-destination`) and nftables (`dnat to`) write them. */

import { type IpAddress, parseEndpoint, parseIp } from './cidr';
import { parsePortRange } from './ports';
import type { NatRange, PortRange } from './ruleset';

/** Parses `ip[-ip][:port[-port]]` and `[v6][-[v6]][:port[-port]]`; null when unreadable. */
export function parseNatRange(text: string): NatRange | null {
  let addrPart = text;
  let portPart: string | null = null;
  if (text.startsWith('[')) {
    const close = text.lastIndexOf(']');
    if (close < 0) return null;
    addrPart = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portPart = rest.slice(1);
    }
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 1) {
      const idx = text.indexOf(':');
      addrPart = text.slice(0, idx);
      portPart = text.slice(idx + 1);
    } else if (colons > 1) {
      // A bare IPv6 address (or range) without port.
      addrPart = text;
    }
  }
  let from: IpAddress | null = null;
  let to: IpAddress | null = null;
  if (addrPart !== '') {
    const strip = (s: string) => (s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);
    const dash = addrPart.indexOf('-');
    const first = strip(dash < 0 ? addrPart : addrPart.slice(0, dash));
    const second = dash < 0 ? null : strip(addrPart.slice(dash + 1));
    from = parseIp(first);
    if (!from) {
      // `[fd00::5]:80` was split above; a bare `fd00::5` arrives here whole.
      const ep = parseEndpoint(addrPart);
      if (!ep) return null;
      from = ep.ip;
    }
    to = second === null ? from : parseIp(second);
    if (!to || to.family !== from.family) return null;
  }
  let ports: PortRange | null = null;
  if (portPart !== null) {
    ports = parsePortRange(portPart, '-');
    if (!ports) return null;
  }
  if (!from && !ports) return null;
  return { from, to, ports };
}
