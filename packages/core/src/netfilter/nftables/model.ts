/**
 * An nftables ruleset as loopscope reads it, from `nft list ruleset` text or
 * `nft -j list ruleset` JSON alike: tables with their family, chains (base
 * chains with type, hook and priority), rules as statements, named sets and
 * maps with their elements. What the parsers cannot read is kept as an
 * `unknown` statement with its text, so a trace crossing it says so.
 */

import type { DumpProblem } from '../ruleset/problems';

/** A value of a set element or a comparison: a word (`10.0.0.0/8`, `tcp`, `80`, `0x4000`), a range, or a concatenation. */
export type NftValue = { kind: 'word'; text: string } | { kind: 'range'; from: string; to: string } | { kind: 'concat'; parts: NftValue[] };

export type NftVerdict =
  { kind: 'accept' | 'drop' | 'return' | 'continue' } | { kind: 'jump' | 'goto'; target: string } | { kind: 'reject'; with: string | null };

export interface NftElement {
  key: NftValue;
  /** For verdict maps: what the element does. */
  verdict: NftVerdict | null;
  /** For data maps (`: 10.0.0.1 . 80`), kept as text. */
  data: string | null;
}

/** What a rule or a lookup reads from the packet. */
export type NftExpr =
  /** `ip daddr`, `meta l4proto`, `th dport`, `tcp dport`, `meta mark`, `ct state`, `fib saddr type`, `iifname`… */
  | { kind: 'field'; name: string }
  | { kind: 'concat'; parts: NftExpr[] }
  /** `mark and 0x4000` */
  | { kind: 'binop'; op: 'and' | 'or' | 'xor'; left: NftExpr; right: number }
  | { kind: 'numgen'; mode: string; mod: number; offset: number };

/** The right side of a comparison or the map of a lookup. */
export type NftOperand = { kind: 'value'; value: NftValue } | { kind: 'setRef'; name: string } | { kind: 'set'; elements: NftElement[] };

export type NftStatement =
  | { kind: 'match'; op: '==' | '!=' | '<' | '>' | '<=' | '>='; left: NftExpr; right: NftOperand }
  | { kind: 'verdict'; verdict: NftVerdict }
  | { kind: 'vmap'; key: NftExpr; map: NftOperand }
  | { kind: 'nat'; type: 'dnat' | 'snat'; addr: string | null; port: string | null }
  | { kind: 'masquerade'; fullyRandom: boolean; port: string | null }
  | { kind: 'redirect'; port: string | null }
  /** `mark set mark or 0x4000`, `meta mark set 0x1`: the new mark as an expression of the old. */
  | { kind: 'markSet'; value: NftExpr | number }
  /** counter, log, comment, set updates, ct mark set…: nothing the trace follows. */
  | { kind: 'passive'; name: string }
  | { kind: 'unknown'; text: string; reason: string };

export interface NftRule {
  table: string;
  family: string;
  chain: string;
  /** 1-based position in its chain. */
  position: number;
  handle: number | null;
  text: string;
  comment: string | null;
  file: string;
  /** Line in the text dump; 0 for JSON (cite the handle). */
  line: number;
  statements: NftStatement[];
}

export interface NftChain {
  name: string;
  table: string;
  family: string;
  /** Base chains only. */
  base: { type: string; hook: string; priority: number; policy: 'accept' | 'drop' } | null;
  line: number;
  rules: NftRule[];
}

export interface NftSet {
  name: string;
  /** `ipv4_addr . inet_proto . inet_service` as a list of types. */
  keyTypes: string[];
  /** For maps: `verdict`, `ipv4_addr`…; null for sets. */
  dataType: string | null;
  flags: string[];
  elements: NftElement[];
  line: number;
}

export interface NftTable {
  family: string;
  name: string;
  line: number;
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
  /** The findings about this table's rules (also in the parse's problems), dropped with the table. */
  problems: DumpProblem[];
}

export interface NftDump {
  file: string;
  format: 'text' | 'json';
  tables: NftTable[];
}
