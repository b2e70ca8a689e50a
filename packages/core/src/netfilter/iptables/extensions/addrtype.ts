/** `-m addrtype --src-type|--dst-type LOCAL,…` (with `--limit-iface-in|out`): decided from addr.txt. */

import { type IpAddress, isMulticast } from '../../ruleset/cidr';
import { type MatchOutcome, unknownOf } from '../../ruleset/match';
import { type MatchExtension, refuse, single } from './types';

/** How an addrtype option tests one side of the packet. */
export interface AddrTypeTest {
  negated: boolean;
  /** Upper-case route types: LOCAL, UNICAST, BROADCAST, MULTICAST, … */
  types: string[];
}

export type AddrTypeMatch = {
  kind: 'addrtype';
  src: AddrTypeTest | null;
  dst: AddrTypeTest | null;
  limitIfaceIn: boolean;
  limitIfaceOut: boolean;
  text: string;
};

const DECIDABLE = ['LOCAL', 'UNICAST', 'BROADCAST', 'MULTICAST'];

export const addrtypeExtension: MatchExtension<AddrTypeMatch> = {
  modules: ['addrtype'],
  kinds: ['addrtype'],
  options: { 'src-type': 1, 'dst-type': 1, 'limit-iface-in': 0, 'limit-iface-out': 0 },
  parse(_module, options, text) {
    const m: AddrTypeMatch = { kind: 'addrtype', src: null, dst: null, limitIfaceIn: false, limitIfaceOut: false, text };
    for (const o of options) {
      const v = single(o);
      if ((o.name === 'src-type' || o.name === 'dst-type') && v !== null) {
        const test = { negated: o.negated, types: v.toUpperCase().split(',') };
        if (o.name === 'src-type') m.src = test;
        else m.dst = test;
      } else if (o.name === 'limit-iface-in' && o.values.length === 0) m.limitIfaceIn = true;
      else if (o.name === 'limit-iface-out' && o.values.length === 0) m.limitIfaceOut = true;
      else return refuse(`option --${o.name} of -m addrtype is not evaluated by loopscope`);
    }
    return [m];
  },
  compile(m, ctx) {
    const book = ctx.addresses;
    const unknownLocal = unknownOf(m.text, 'the node addresses are unknown (no addr.txt), so LOCAL cannot be decided');
    const unknownIface = unknownOf(m.text, '--limit-iface needs the packet interface, which is not known');
    const unknownType = unknownOf(m.text, 'only LOCAL, UNICAST, BROADCAST and MULTICAST can be decided without the routing table');
    const test = (ip: IpAddress, t: AddrTypeTest, iface: string | null, limit: boolean): MatchOutcome => {
      let type: string | null;
      if (limit) {
        if (iface === null) return unknownIface;
        const onIface = book.isLocalOn(ip, iface);
        type = onIface === null ? null : onIface ? 'LOCAL' : book.isBroadcast(ip) ? 'BROADCAST' : isMulticast(ip) ? 'MULTICAST' : 'UNICAST';
      } else type = book.addressType(ip);
      if (type === null) return unknownLocal;
      if (t.types.includes(type)) return !t.negated;
      if (type === 'UNICAST' && t.types.some((x) => !DECIDABLE.includes(x))) return unknownType;
      return t.negated;
    };
    return (p) => {
      let result: MatchOutcome = true;
      if (m.src) {
        const r = test(p.src, m.src, p.inInterface, m.limitIfaceIn);
        if (r === false) return false;
        if (r !== true) result = r;
      }
      if (m.dst) {
        const r = test(p.dst, m.dst, m.limitIfaceOut ? p.outInterface : p.inInterface, m.limitIfaceIn || m.limitIfaceOut);
        if (r === false) return false;
        if (r !== true) result = r;
      }
      return result;
    };
  },
};
