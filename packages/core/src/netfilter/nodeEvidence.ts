/**
 * One node's datapath evidence: the dumps parsed, checked and indexed once,
 * ready for any number of traces.
 */

import { AddressBook, type InterfaceAddress, KUBE_IPVS_INTERFACE, parseIpAddr } from './ruleset/addr';
import { formatIp, type IpAddress, type IpFamily, parseIp } from './ruleset/cidr';
import { type ConntrackEntry, parseConntrack } from './conntrack';
import { iptablesRuleset } from './iptables/ruleset';
import { type IptablesDump, parseIptablesSave } from './iptables/save';
import { type IpsetDump, parseIpset } from './ruleset/ipset';
import type { MatchContext } from './ruleset/match';
import { appendProblems, type DumpProblem } from './ruleset/problems';
import { type NftDump, type NftTable, nftRuleset, parseNft } from './nftables';
import { combineRulesets, type Ruleset } from './ruleset/ruleset';
import type { TraceSubject } from './trace';

/** The text of one dump and the name to use in messages (e.g. `node-1/iptables-save.txt`). */
export interface DumpText {
  text: string;
  file: string;
}

/**
 * The files of a node-dumps folder (`DIR/<nodeName>/…`, as scripts/collect-node-dumps.sh writes
 * them), by the `NodeDumpsInput` field each feeds.
 */
export const NODE_DUMP_FILES = {
  iptablesSave: 'iptables-save.txt',
  ip6tablesSave: 'ip6tables-save.txt',
  ipset: 'ipset.txt',
  addr: 'addr.txt',
  conntrack: 'conntrack.txt',
  nftJson: 'nft.json',
  nftText: 'nft.txt',
} as const;

export interface NodeDumpsInput {
  /** `iptables-save` output (an ip6tables-save dump given here is recognized by its header). */
  iptablesSave?: DumpText;
  ip6tablesSave?: DumpText;
  /** `ipset save` or `ipset list` output. */
  ipset?: DumpText;
  /** `ip -o addr` output. */
  addr?: DumpText;
  /** `conntrack -L` output. */
  conntrack?: DumpText;
  /** `nft -j list ruleset` (preferred) or `nft list ruleset` output; either form is detected. */
  nftJson?: DumpText;
  nftText?: DumpText;
  /** Node addresses known from elsewhere (e.g. the Node object's InternalIP), added to addr.txt. */
  nodeAddresses?: string[];
  /** A node agent's conntrack-event counters: connections from a local address to an LB ingress. */
  connections?: ObservedConnection[];
  /** Where `connections` come from, for messages (default "node agent conntrack events"). */
  connectionsSource?: string;
}

/** Connections from `clientIp` to `ingressIp`:`ingressPort` seen by a node agent, by outcome. */
export interface ObservedConnection {
  clientIp: string;
  ingressIp: string;
  ingressPort: number;
  protocol: string;
  replied: number;
  unreplied: number;
}

/** More than a node agent keeps (its default is 20,000 series). */
const MAX_CONNECTIONS = 50_000;

export class NodeEvidence implements TraceSubject {
  readonly iptables: { ipv4: IptablesDump | null; ipv6: IptablesDump | null };
  readonly ipsets: IpsetDump | null;
  /** The nftables ruleset (kube-proxy nftables mode, and anything else in nft), or null. */
  readonly nft: NftDump | null;
  readonly addresses: InterfaceAddress[];
  readonly addressBook: AddressBook;
  readonly conntrack: ConntrackEntry[];
  /** A node agent's connection counters (valid entries only), and where they come from. */
  readonly connections: ObservedConnection[];
  readonly connectionsSource: string;
  /** Every parser finding, with file and line. */
  readonly problems: DumpProblem[];
  /**
   * Tables of the nft dump that are iptables-nft's own (`ip nat` beside an nf_tables iptables-save
   * with a nat table): the same rules, read from the iptables dump only.
   */
  readonly nftTablesReadFromIptables: string[] = [];
  private readonly compiled: { ipv4: Ruleset | null; ipv6: Ruleset | null };

  constructor(input: NodeDumpsInput) {
    const problems: DumpProblem[] = [];
    const iptables: { ipv4: IptablesDump | null; ipv6: IptablesDump | null } = { ipv4: null, ipv6: null };
    const place = (dump: IptablesDump, expected: IpFamily) => {
      // The header says which tool wrote it, so either input slot takes either family.
      const family = dump.family ?? expected;
      const slot = family === 6 ? 'ipv6' : 'ipv4';
      if (iptables[slot]) {
        problems.push({
          file: dump.file,
          line: 0,
          message: `a second IPv${family} dump was given (${iptables[slot]?.file} is kept)`,
          severity: 'error',
        });
        return;
      }
      iptables[slot] = dump;
    };
    for (const [dt, fam] of [
      [input.iptablesSave, 4],
      [input.ip6tablesSave, 6],
    ] as const) {
      if (!dt) continue;
      const parsed = parseIptablesSave(dt.text, dt.file);
      appendProblems(problems, parsed.problems);
      if (parsed.value.tables.size === 0) {
        if (dt.text.trim() !== '')
          problems.push({ file: dt.file, line: 0, message: 'no table found (is this iptables-save output?)', severity: 'error' });
        continue;
      }
      if (!parsed.value.tables.has('nat')) {
        problems.push({
          file: dt.file,
          line: 0,
          message: 'the dump has no nat table (was it taken with `-t filter`?); traces of this family are uncertain',
          severity: 'warning',
        });
      }
      place(parsed.value, fam);
    }
    this.iptables = iptables;

    if (input.ipset) {
      const parsed = parseIpset(input.ipset.text, input.ipset.file);
      appendProblems(problems, parsed.problems);
      this.ipsets = parsed.value;
    } else this.ipsets = null;

    let addresses: InterfaceAddress[] = [];
    if (input.addr) {
      const parsed = parseIpAddr(input.addr.text, input.addr.file);
      appendProblems(problems, parsed.problems);
      addresses = parsed.value;
      if (addresses.length === 0 && parsed.problems.length === 0) {
        problems.push({ file: input.addr.file, line: 0, message: 'no address found (is this `ip -o addr` output?)', severity: 'warning' });
      }
    }
    const explicit: IpAddress[] = [];
    for (const a of input.nodeAddresses ?? []) {
      const ip = parseIp(a);
      if (ip) explicit.push(ip);
      else problems.push({ file: 'nodeAddresses', line: 0, message: `"${a}" is not an IP address; ignored`, severity: 'error' });
    }
    this.addresses = addresses;
    this.addressBook = new AddressBook(addresses, explicit, input.addr !== undefined && addresses.length > 0);

    if (input.conntrack) {
      const parsed = parseConntrack(input.conntrack.text, input.conntrack.file);
      appendProblems(problems, parsed.problems);
      this.conntrack = parsed.value;
    } else this.conntrack = [];
    this.connectionsSource =
      typeof input.connectionsSource === 'string' ? input.connectionsSource.slice(0, 200) : 'node agent conntrack events';
    this.connections = [];
    for (const c of (Array.isArray(input.connections) ? input.connections : []).slice(0, MAX_CONNECTIONS)) {
      const ip = typeof c?.clientIp === 'string' ? parseIp(c.clientIp) : null;
      const dst = typeof c?.ingressIp === 'string' ? parseIp(c.ingressIp) : null;
      if (!ip || !dst || !Number.isInteger(c.ingressPort) || c.ingressPort <= 0 || c.ingressPort > 65535 || typeof c.protocol !== 'string')
        continue;
      const count = (n: unknown): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);
      this.connections.push({
        clientIp: formatIp(ip),
        ingressIp: formatIp(dst),
        ingressPort: c.ingressPort,
        protocol: c.protocol.toLowerCase(),
        replied: count(c.replied),
        unreplied: count(c.unreplied),
      });
    }

    const ctx: MatchContext = {
      addresses: this.addressBook,
      sets: this.ipsets ? this.ipsets.sets : null,
      setsFile: this.ipsets ? this.ipsets.file : null,
    };
    this.nft = null;
    const nftInput = input.nftJson ?? input.nftText;
    if (nftInput) {
      if (input.nftJson && input.nftText)
        problems.push({
          file: input.nftText.file,
          line: 0,
          message: `${input.nftJson.file} is used; the text form is not read as well`,
          severity: 'warning',
        });
      const parsed = parseNft(nftInput.text, nftInput.file);
      const copies = iptablesNftCopies(parsed.value, iptables);
      const dropped = new Set(copies.flatMap((t) => t.problems));
      appendProblems(
        problems,
        parsed.problems.filter((p) => !dropped.has(p)),
      );
      this.nft = { ...parsed.value, tables: parsed.value.tables.filter((t) => !copies.includes(t)) };
      this.nftTablesReadFromIptables = copies.map((t) => `${t.family} ${t.name}`);
      if (parsed.value.tables.length === 0 && parsed.problems.length === 0 && nftInput.text.trim() !== '') {
        problems.push({ file: nftInput.file, line: 0, message: 'no table found (is this `nft list ruleset` output?)', severity: 'error' });
      }
    }
    const nft = this.nft;
    const build = (family: IpFamily, dump: IptablesDump | null): Ruleset | null => {
      const rs = combineRulesets(
        [dump ? iptablesRuleset(dump, family, ctx) : null, nft ? nftRuleset(nft, family, ctx) : null].filter(
          (r): r is Ruleset => r !== null,
        ),
      );
      const copies = this.nftTablesReadFromIptables.filter((t) => t.startsWith(family === 4 ? 'ip ' : 'ip6 '));
      if (!rs || copies.length === 0) return rs;
      const note = `${copies.join(', ')} in ${nftInput!.file} ${copies.length === 1 ? 'is' : 'are'} iptables-nft's, traced once from ${dump!.file}`;
      return { ...rs, notes: [...rs.notes, note] };
    };
    this.compiled = { ipv4: build(4, iptables.ipv4), ipv6: build(6, iptables.ipv6) };
    this.problems = problems;
  }

  /** The compiled nat/filter rules of one family (null without a dump of that family). */
  ruleset(family: IpFamily): Ruleset | null {
    return family === 6 ? this.compiled.ipv6 : this.compiled.ipv4;
  }

  natMissingReason(family: IpFamily): string {
    const dump = family === 6 ? this.iptables.ipv6 : this.iptables.ipv4;
    const nftNote = this.nft ? ` and ${this.nft.file} has no nat chain for IPv${family}` : '';
    if (!dump) return `no ${family === 6 ? 'ip6tables-save' : 'iptables-save'} dump for IPv${family} was given${nftNote}`;
    return `${dump.file} has no nat table${nftNote}`;
  }

  /** Addresses bound on an interface, e.g. the Service addresses IPVS captures on kube-ipvs0. */
  boundAddresses(iface: string = KUBE_IPVS_INTERFACE): string[] {
    return this.addressBook.boundAddresses(iface);
  }

  /** true/false when addr.txt says; null when there is no addr.txt. */
  isBound(ip: string, iface: string = KUBE_IPVS_INTERFACE): boolean | null {
    const addr = parseIp(ip);
    if (!addr || !this.addressBook.known) return null;
    return this.addressBook.isLocalOn(addr, iface);
  }

  /** The node's own addresses (global scope, not kube-ipvs0, not loopback). */
  nodeAddresses(): string[] {
    return this.addressBook.nodeAddresses();
  }

  /** Conntrack entries whose original destination is ip (and port, protocol when given). */
  connectionsTo(ip: string, port?: number, protocol?: string): ConntrackEntry[] {
    const addr = parseIp(ip);
    if (!addr) return [];
    return this.conntrack.filter(
      (e) =>
        e.original.dst.family === addr.family &&
        e.original.dst.value === addr.value &&
        (port === undefined || e.original.dport === port) &&
        (protocol === undefined || e.protocol === protocol),
    );
  }
}

/** Parses, checks and indexes a node's dumps. Never throws on bad dumps: see `problems`. */
/**
 * On a node whose iptables is iptables-nft, `nft list ruleset` shows iptables' tables again (`table
 * ip nat`, `ip6 filter`…, their matches as `xt` expressions nft cannot print): the kernel has one
 * copy. Such a table is the one named like a table of the iptables dump of its family, unless that
 * dump says it came from the legacy backend (whose tables nft does not see).
 */
function iptablesNftCopies(nft: NftDump, iptables: { ipv4: IptablesDump | null; ipv6: IptablesDump | null }): NftTable[] {
  const dumpOf = (family: string): IptablesDump | null => (family === 'ip' ? iptables.ipv4 : family === 'ip6' ? iptables.ipv6 : null);
  return nft.tables.filter((t) => {
    const dump = dumpOf(t.family);
    return dump !== null && dump.tables.has(t.name) && !/\(legacy\)/.test(dump.generator ?? '');
  });
}

export function loadNodeDumps(input: NodeDumpsInput): NodeEvidence {
  return new NodeEvidence(input);
}
