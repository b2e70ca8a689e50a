/**
 * Netfilter evidence from a node: parsers for iptables-save, nftables
 * (`nft list ruleset` text and `nft -j` JSON), ipset, `ip -o addr` and
 * `conntrack -L` dumps, and a trace of a pod's packet to an LB address
 * through every base chain the kernel runs. See README.md beside this file.
 */

export { loadNodeDumps, NodeEvidence, NODE_DUMP_FILES, type DumpText, type NodeDumpsInput } from './nodeEvidence';
export {
  traceLbPacket,
  TraceInputError,
  type CaptureHow,
  type TraceHook,
  type TraceOutcome,
  type TracePacket,
  type TraceResult,
} from './trace';
export type { MatchedRule } from './ruleset/ruleset';
export { describeOutcome, formatTraceText, ruleLabel, traceVerdict } from './describe';
export { formatDumpProblem, type ParsedDump, type DumpProblem } from './ruleset/problems';
export {
  parseIptablesSave,
  type Counters,
  type IptablesChain,
  type IptablesDump,
  type IptablesRule,
  type IptablesTable,
} from './iptables/save';
export type { RuleMatch, RuleTarget, SetFlag } from './iptables/extensions';
export { parseNft, type NftDump, type NftTable, type NftChain, type NftRule, type NftSet, type NftStatement } from './nftables';
export type { NatRange, PortRange, Ruleset, BaseChain, Hook } from './ruleset/ruleset';
export { parseIpset, IpSet, type IpsetDimension, type IpsetDump, type SetProbe, type SetTestResult } from './ruleset/ipset';
export { parseIpAddr, AddressBook, KUBE_IPVS_INTERFACE, type InterfaceAddress } from './ruleset/addr';
export { parseConntrack, describeConntrackEntry, type ConntrackEntry, type ConntrackTuple } from './conntrack';
export {
  parseIp,
  parseCidr,
  parseEndpoint,
  formatIp,
  formatCidr,
  formatEndpoint,
  cidrContains,
  type Cidr,
  type IpAddress,
  type IpFamily,
} from './ruleset/cidr';
