/**
 * nftables evidence: `nft list ruleset` text or `nft -j list ruleset` JSON
 * (told apart by the first character), parsed into one model and compiled
 * into the same `Ruleset` the iptables side produces.
 */

import type { ParsedDump } from '../ruleset/problems';
import { parseNftJson } from './json';
import type { NftDump } from './model';
import { parseNftText } from './text';

export { nftRuleset } from './ruleset';
export type { NftDump, NftRule, NftChain, NftSet, NftTable, NftStatement } from './model';

/** Parses either form; never throws. */
export function parseNft(text: string, file: string): ParsedDump<NftDump> {
  if (typeof text === 'string' && text.trimStart().startsWith('{')) return parseNftJson(text, file);
  return parseNftText(text, file);
}

export { parseNftJson, parseNftText };
