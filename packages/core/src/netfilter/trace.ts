/**
 * The packet trace: follows the first packet of a connection through the
 * node's netfilter hooks the way the kernel does (prerouting or output, the
 * routing decision, then forward and postrouting, or input), running every
 * base chain of each hook by priority — iptables' nat and filter built-in
 * chains and nftables base chains alike (see ruleset.ts) — and says whether
 * the node captures it (DNAT, or an address bound on the node such as
 * kube-ipvs0) and whether it leaves SNATed. Probabilistic rules
 * (`-m statistic`, `numgen`) are explored on every branch, each outcome with
 * its probability.
 *
 * What the trace cannot decide (unknown match or target, missing ipset,
 * unknown node addresses…) makes the answer `uncertain`, with the reason and
 * the assumption made: it never guesses silently.
 */

import { LoopscopeError } from '../error/loopscopeError';
import type { AddressBook } from './ruleset/addr';
import { type IpAddress, type IpFamily, formatEndpoint, formatIp, parseIp } from './ruleset/cidr';
import type { PacketState } from './ruleset/match';
import { parseProtocol, protocolName } from './ruleset/protocols';
import type { Hook, MatchedRule, Ruleset } from './ruleset/ruleset';
import { addReason, newThread, round, runBaseChain, type Thread } from './walk';

export type { MatchedRule } from './ruleset/ruleset';

export type TraceHook = 'PREROUTING' | 'OUTPUT';

export interface TracePacket {
  src: string;
  dst: string;
  dport: number;
  /** tcp (default), udp, sctp, or a protocol number. */
  proto?: string | number;
  /** PREROUTING (default) for pod traffic, OUTPUT for host processes. Case-insensitive. */
  hook?: TraceHook | 'prerouting' | 'output';
  /** The client's source port; rules testing it are uncertain without it. */
  sport?: number;
  /** Packet mark when it reaches nat (default 0). */
  mark?: number;
  /** Interface the packet enters by (e.g. the pod's veth), for `-i` rules. */
  inInterface?: string;
  /** Interface the packet leaves by (e.g. eth0), for `-o` rules in POSTROUTING. */
  outInterface?: string;
  /**
   * Also walk filter-type base chains (the iptables filter table; nftables
   * `type filter` chains such as kube-proxy's filter-prerouting-pre-dnat) so
   * that drops and rejects there show (KUBE-PROXY-FIREWALL, firewall-ips,
   * no-endpoint-services). Off by default: NAT decisions are made in nat alone.
   */
  filter?: boolean;
}

/** How the node captured the packet. */
export type CaptureHow = 'dnat' | 'redirect' | 'bound-address' | 'none';

export interface TraceOutcome {
  probability: number;
  captured: boolean;
  how: CaptureHow;
  /** For `bound-address`: the interface holding the address (kube-ipvs0, eth0, …). */
  boundInterface: string | null;
  /** `ip:port` the packet was DNATed to, or null. */
  dnat: string | null;
  /** local: delivered to the node; forward: routed out; dropped: a rule or policy dropped it. */
  delivery: 'local' | 'forward' | 'dropped';
  snat: boolean;
  /** The rule that MASQUERADEd or SNATed the packet. */
  snatRule: MatchedRule | null;
  snatTarget: 'MASQUERADE' | 'SNAT' | null;
  /** What the source becomes: an address for SNAT, a phrase for MASQUERADE. */
  snatTo: string | null;
  droppedBy: MatchedRule | null;
  /** Destination after NAT, `ip:port`. */
  finalDestination: string;
  /** Packet mark at the end of the trace. */
  mark: number;
  rules: MatchedRule[];
  /** The statistic decisions that lead to this outcome. */
  branches: string[];
}

/** The most likely outcome's fields (the first one on a tie), then every outcome in `outcomes`. */
export interface TraceResult extends Omit<TraceOutcome, 'probability' | 'branches'> {
  packet: { src: string; dst: string; dport: number; proto: string; hook: TraceHook; sport: number | null };
  /** Every distinct path, with probabilities summing to 1. */
  outcomes: TraceOutcome[];
  captureProbability: number;
  snatProbability: number;
  uncertain: boolean;
  /** Why the answer is uncertain, each with the assumption the trace made. */
  reasons: string[];
  /** Context that does not make the answer uncertain. */
  notes: string[];
}

/** Bad trace input (the packet's fields): a LoopscopeError with code INPUT_INVALID. */
export class TraceInputError extends LoopscopeError {
  constructor(message: string) {
    super('INPUT_INVALID', message);
  }
}

/** What a trace needs from the node: its compiled rules per family and its address book. */
export interface TraceSubject {
  ruleset(family: IpFamily): Ruleset | null;
  /** Why there are no nat rules for a family (no dump, no nat table), for the reason text. */
  natMissingReason(family: IpFamily): string;
  readonly addressBook: AddressBook;
}

function parsePacket(input: TracePacket): { pkt: PacketState; hook: TraceHook; proto: string } {
  const src = parseIp(String(input.src ?? ''));
  if (!src) throw new TraceInputError(`source "${input.src}" is not an IP address`);
  const dst = parseIp(String(input.dst ?? ''));
  if (!dst) throw new TraceInputError(`destination "${input.dst}" is not an IP address`);
  if (src.family !== dst.family) throw new TraceInputError('source and destination are of different address families');
  if (!Number.isInteger(input.dport) || input.dport < 0 || input.dport > 65535)
    throw new TraceInputError(`destination port "${input.dport}" is not a port number`);
  if (input.sport !== undefined && (!Number.isInteger(input.sport) || input.sport < 0 || input.sport > 65535))
    throw new TraceInputError(`source port "${input.sport}" is not a port number`);
  const protoRaw = input.proto ?? 'tcp';
  const protocol = parseProtocol(String(protoRaw));
  if (protocol === null || protocol === 'all')
    throw new TraceInputError(`protocol "${protoRaw}" is not known (tcp, udp, sctp or a number)`);
  const hookRaw = String(input.hook ?? 'PREROUTING').toUpperCase();
  if (hookRaw !== 'PREROUTING' && hookRaw !== 'OUTPUT')
    throw new TraceInputError(`hook "${input.hook}" must be PREROUTING (pods) or OUTPUT (host processes)`);
  const mark = input.mark ?? 0;
  if (!Number.isInteger(mark) || mark < 0 || mark > 0xffffffff) throw new TraceInputError(`mark "${input.mark}" is not a 32-bit number`);
  const hook = hookRaw as TraceHook;
  return {
    hook,
    proto: protocolName(protocol),
    pkt: {
      family: src.family,
      src,
      dst,
      protocol,
      sport: input.sport ?? null,
      dport: input.dport,
      mark: mark >>> 0,
      inInterface: hook === 'OUTPUT' ? null : (input.inInterface ?? null),
      outInterface: input.outInterface ?? null,
      dnatDone: false,
      snatDone: false,
    },
  };
}

/**
 * Traces the first packet of a connection through the node's nat table.
 * Throws TraceInputError for a malformed packet (bad address, port…); never
 * for anything in the dumps.
 */
export function traceLbPacket(node: TraceSubject, input: TracePacket): TraceResult {
  const { pkt, hook, proto } = parsePacket(input);
  const book = node.addressBook;
  const rs = node.ruleset(pkt.family);
  const origSrc = pkt.src;
  const origDst = pkt.dst;
  const notes: string[] = rs ? rs.notes.slice() : [];
  const start = newThread(pkt);
  const budget = { outcomes: 1 };
  if (!rs || !rs.hasType('nat')) addReason(start, `${node.natMissingReason(pkt.family)}; assumed the nat table has no rules`);
  const withFilter = input.filter === true;
  if (withFilter && !rs?.hasType('filter')) notes.push('the dump has no filter table, so no filter rule was traced');

  const finished: Array<{ t: Thread; delivery: TraceOutcome['delivery'] }> = [];
  const localOf = (t: Thread, ip: IpAddress): boolean => {
    const local = book.isLocal(ip);
    if (local === null) {
      const original = !t.dnat;
      addReason(
        t,
        `the node addresses are unknown (no addr.txt): assumed ${formatIp(ip)} is not bound on the node${original ? ' (in particular not on kube-ipvs0)' : ''}`,
      );
      return false;
    }
    return local;
  };
  // Each hook runs its base chains by priority; a dropped thread stops where it was dropped.
  // Once a nat chain has translated the connection, the hook's later nat chains are skipped, as the
  // kernel does (nf_nat_inet_fn): an iptables-nft table and its copy in `nft list ruleset`, or
  // kube-proxy's nftables table beside iptables rules, never translate one connection twice.
  const natBound = (t: Thread, h: Hook): boolean => (h === 'prerouting' || h === 'output' ? t.pkt.dnatDone : t.pkt.snatDone);
  const hooks = (threads: Thread[], names: Hook[]): Thread[] => {
    let current = threads;
    for (const h of names) {
      for (const base of rs?.baseChains(h) ?? []) {
        if (base.type === 'filter' && !withFilter) continue;
        const next: Thread[] = [];
        for (const t of current) {
          if (t.dropped || (base.type === 'nat' && natBound(t, h))) next.push(t);
          else for (const done of runBaseChain(t, base, budget)) next.push(done);
        }
        current = next;
      }
    }
    return current;
  };
  const finish = (threads: Thread[], delivery: 'local' | 'forward') => {
    for (const t of threads) finished.push({ t, delivery: t.dropped ? 'dropped' : delivery });
  };

  for (const t of hooks([start], [hook === 'OUTPUT' ? 'output' : 'prerouting'])) {
    if (t.dropped) {
      finished.push({ t, delivery: 'dropped' });
      continue;
    }
    // The routing decision, after DNAT. REDIRECT always delivers to the node itself.
    const local = t.redirect || localOf(t, t.pkt.dst);
    if (hook === 'OUTPUT') {
      // Locally generated packets always pass POSTROUTING, even to a local address.
      const out = hooks([t], ['postrouting']);
      if (local) finish(hooks(out, ['input']), 'local');
      else finish(out, 'forward');
    } else if (local) {
      finish(hooks([t], ['input']), 'local');
    } else {
      finish(hooks([t], ['forward', 'postrouting']), 'forward');
    }
  }

  const outcomes: TraceOutcome[] = finished.map(({ t, delivery }) => {
    let how: CaptureHow = 'none';
    let boundInterface: string | null = null;
    if (t.dnat) how = 'dnat';
    else if (t.redirect) how = 'redirect';
    else if (delivery === 'local') {
      how = 'bound-address';
      boundInterface = book.interfaceOf(t.pkt.dst);
    }
    return {
      probability: t.probability,
      captured: how !== 'none',
      how,
      boundInterface,
      dnat: t.dnat ? formatEndpoint(t.pkt.dst, t.pkt.dport) : null,
      delivery,
      snat: t.snatRule !== null,
      snatRule: t.snatRule,
      snatTarget: t.snatTarget,
      snatTo: t.snatTo,
      droppedBy: t.droppedBy,
      finalDestination: formatEndpoint(t.pkt.dst, t.pkt.dport),
      mark: t.pkt.mark,
      rules: t.rules,
      branches: t.branches,
    };
  });
  let best = outcomes[0] as TraceOutcome;
  for (const o of outcomes) if (o.probability > best.probability + 1e-12) best = o;
  const seen = new Set<string>();
  const reasons: string[] = [];
  for (const { t } of finished) {
    for (const r of t.reasons) {
      if (seen.has(r)) continue;
      seen.add(r);
      reasons.push(r);
    }
  }
  if (outcomes.some((o) => o.how === 'bound-address' && o.boundInterface === 'kube-ipvs0')) {
    notes.push(
      `${formatIp(origDst)} is bound on kube-ipvs0: the kernel delivers the packet locally and IPVS serves it; it never reaches the load balancer`,
    );
  }
  if (!withFilter && rs?.hasType('filter')) {
    // kube-proxy leaves a no-target rule saying the filter table drops what KUBE-FW did not accept.
    const hint = outcomes.flatMap((o) => o.rules).find((r) => /will be dropped by KUBE-PROXY-FIREWALL/.test(r.text));
    if (hint)
      notes.push(
        `${hint.table} ${hint.chain} rule ${hint.ruleNumber} says this traffic is dropped in the filter table (loadBalancerSourceRanges): trace with filter to confirm`,
      );
    notes.push('the filter table was not traced (trace with filter to see drops there); it cannot change addresses');
  }
  const sum = (f: (o: TraceOutcome) => boolean) => round(outcomes.filter(f).reduce((a, o) => a + o.probability, 0));
  return {
    packet: { src: formatIp(origSrc), dst: formatIp(origDst), dport: input.dport, proto, hook, sport: input.sport ?? null },
    captured: best.captured,
    how: best.how,
    boundInterface: best.boundInterface,
    dnat: best.dnat,
    delivery: best.delivery,
    snat: best.snat,
    snatRule: best.snatRule,
    snatTarget: best.snatTarget,
    snatTo: best.snatTo,
    droppedBy: best.droppedBy,
    finalDestination: best.finalDestination,
    mark: best.mark,
    rules: best.rules,
    outcomes,
    captureProbability: sum((o) => o.captured),
    snatProbability: sum((o) => o.snat),
    uncertain: reasons.length > 0,
    reasons,
    notes,
  };
}
