import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadNodeDumps, type NodeDumpsInput, type NodeEvidence } from '../../src/netfilter';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'netfilter');

export function fixture(path: string): { text: string; file: string } {
  return { text: readFileSync(join(FIXTURES, path), 'utf8'), file: path };
}

/** Loads a fixture node: file names relative to test/fixtures/netfilter. */
export function loadFixtureNode(
  files: { iptables?: string; ip6tables?: string; ipset?: string; addr?: string; conntrack?: string },
  extra: Partial<NodeDumpsInput> = {},
): NodeEvidence {
  return loadNodeDumps({
    iptablesSave: files.iptables ? fixture(files.iptables) : undefined,
    ip6tablesSave: files.ip6tables ? fixture(files.ip6tables) : undefined,
    ipset: files.ipset ? fixture(files.ipset) : undefined,
    addr: files.addr ? fixture(files.addr) : undefined,
    conntrack: files.conntrack ? fixture(files.conntrack) : undefined,
    ...extra,
  });
}

/** `chain#ruleNumber` of each matched rule, the compact form tests compare. */
export function ruleIds(rules: Array<{ table: string; chain: string; ruleNumber: number }>): string[] {
  return rules.map((r) => `${r.table === 'nat' ? '' : r.table + ':'}${r.chain}#${r.ruleNumber}`);
}
