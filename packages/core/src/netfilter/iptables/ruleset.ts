/**
 * An iptables-save dump as a `Ruleset`: the built-in chains of the nat and
 * filter tables attached to their hooks at the kernel's priorities
 * (`NF_IP_PRI_NAT_DST` -100, `NF_IP_PRI_FILTER` 0, `NF_IP_PRI_NAT_SRC` 100),
 * every rule compiled once. mangle and raw are not traced (a note says when
 * mangle sets marks).
 */

import { type Cidr, type IpFamily, ipKey } from '../ruleset/cidr';
import type { MatchContext, Matcher } from '../ruleset/match';
import { type BaseChain, type Chain, type ChainType, type Hook, indexChain, type Rule, type Ruleset } from '../ruleset/ruleset';
import { compileMatch, targetActions } from './extensions';
import type { IptablesChain, IptablesDump, IptablesRule } from './save';

interface BuiltinHook {
  hook: Hook;
  priority: number;
}

/** Where each traced table's built-in chains sit (net/ipv4/netfilter/iptable_nat.c, iptable_filter.c). */
const TRACED_TABLES: Record<string, { type: ChainType; chains: Record<string, BuiltinHook> }> = {
  nat: {
    type: 'nat',
    chains: {
      PREROUTING: { hook: 'prerouting', priority: -100 },
      OUTPUT: { hook: 'output', priority: -100 },
      INPUT: { hook: 'input', priority: 100 },
      POSTROUTING: { hook: 'postrouting', priority: 100 },
    },
  },
  filter: {
    type: 'filter',
    chains: {
      INPUT: { hook: 'input', priority: 0 },
      FORWARD: { hook: 'forward', priority: 0 },
      OUTPUT: { hook: 'output', priority: 0 },
    },
  },
};

function compileRule(rule: IptablesRule, chains: ReadonlyMap<string, Chain>, ctx: MatchContext): Rule {
  const matchers: Matcher[] = [];
  let dstKey: string | null = null;
  for (const m of rule.matches) {
    const fn = compileMatch(m, ctx);
    if (fn) matchers.push(fn);
    if (m.kind === 'destination' && !m.negated && m.cidrs.length === 1) {
      const c = m.cidrs[0] as Cidr;
      if (c.prefix === (c.family === 4 ? 32 : 128))
        dstKey = ipKey(c.family === 4 ? { family: 4, value: c.network } : { family: 6, value: c.network });
    }
  }
  const t = rule.target;
  return {
    ref: { table: rule.table, chain: rule.chain, ruleNumber: rule.ruleNumber, text: rule.text, file: rule.file, line: rule.line },
    matchers,
    actions: targetActions(t, chains),
    passive: t.kind === 'none' || t.kind === 'passive',
    where: `${rule.table} ${rule.chain} rule ${rule.ruleNumber} (${rule.file}:${rule.line})`,
    dstKey,
  };
}

function mangleNote(dump: IptablesDump): string | null {
  const mangle = dump.tables.get('mangle');
  if (!mangle) return null;
  const markRules = [...mangle.chains.values()]
    .flatMap((c: IptablesChain) => c.rules)
    .filter((r) => r.target.kind === 'mark' || (r.target.kind === 'unknown' && r.target.name === 'CONNMARK'));
  if (markRules.length === 0) return null;
  return `the mangle table has ${markRules.length} rule(s) that set packet marks (first: ${dump.file}:${markRules[0]?.line}); the trace follows nat only and starts from the given mark`;
}

/** Compiles the nat and filter tables of a dump, once. */
export function iptablesRuleset(dump: IptablesDump, family: IpFamily, ctx: MatchContext): Ruleset {
  const byHook = new Map<Hook, BaseChain[]>();
  const types = new Set<ChainType>();
  for (const [tableName, spec] of Object.entries(TRACED_TABLES)) {
    const table = dump.tables.get(tableName);
    if (!table) continue;
    types.add(spec.type);
    const chains = new Map<string, Chain>();
    for (const c of table.chains.values()) {
      const builtin = c.builtin && Object.hasOwn(spec.chains, c.name) ? spec.chains[c.name] : undefined;
      const chain: Chain = { name: c.name, table: tableName, rules: [], index: null };
      if (builtin) {
        const base: BaseChain = Object.assign(chain, {
          hook: builtin.hook,
          type: spec.type,
          priority: builtin.priority,
          policy: c.policy === 'DROP' ? ('drop' as const) : ('accept' as const),
          family: family === 6 ? 'ip6' : 'ip',
          policyRef: {
            table: tableName,
            chain: c.name,
            ruleNumber: 0,
            text: `:${c.name} ${c.policy ?? 'ACCEPT'} (chain policy)`,
            file: dump.file,
            line: 0,
          },
        });
        const list = byHook.get(builtin.hook) ?? [];
        list.push(base);
        byHook.set(builtin.hook, list);
      }
      chains.set(c.name, chain);
    }
    for (const c of table.chains.values()) {
      const chain = chains.get(c.name) as Chain;
      chain.rules = c.rules.map((r) => compileRule(r, chains, ctx));
      indexChain(chain);
    }
  }
  for (const list of byHook.values()) list.sort((a, b) => a.priority - b.priority);
  const note = mangleNote(dump);
  return {
    file: dump.file,
    family,
    baseChains: (hook) => byHook.get(hook) ?? [],
    notes: note ? [note] : [],
    hasType: (type) => types.has(type),
  };
}
