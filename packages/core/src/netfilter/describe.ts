/**
 * Words for a trace result, for an SRE on call: the verdict first, then the
 * evidence (matched rules with file:line), then what is uncertain and why.
 */

import { formatProbability } from '../format/probability';
import type { MatchedRule, TraceOutcome, TraceResult } from './trace';

export function ruleLabel(r: MatchedRule): string {
  // nftables rules carry their table's family (`ip kube-proxy`) and, when the dump shows it, their handle.
  const table = r.family ? `${r.family} ${r.table}` : r.table;
  const handle = r.handle !== undefined ? ` (handle ${r.handle})` : '';
  return r.ruleNumber > 0 ? `${table} ${r.chain} rule ${r.ruleNumber}${handle}` : `${table} ${r.chain} policy`;
}

/** Where to look the rule up: `file:line`, or the file alone for JSON dumps (the handle is in the label). */
export function ruleSource(r: MatchedRule): string {
  return r.line > 0 ? `${r.file}:${r.line}` : r.file;
}

/** One outcome in one sentence. */
export function describeOutcome(o: TraceOutcome, packet: TraceResult['packet']): string {
  if (o.delivery === 'dropped') return `dropped on the node${o.droppedBy ? ` by ${ruleLabel(o.droppedBy)}` : ''}`;
  if (o.how === 'dnat') {
    const after = o.delivery === 'local' ? ' (an address of this node)' : '';
    const snat = o.snat && o.snatRule ? `, then SNATed by ${ruleLabel(o.snatRule)}` : '';
    return `captured on the node by DNAT to ${o.dnat}${after}${snat}`;
  }
  if (o.how === 'redirect') return `captured on the node by REDIRECT to local port ${o.finalDestination.split(':').pop()}`;
  if (o.how === 'bound-address') {
    const where = o.boundInterface ? ` on ${o.boundInterface}` : '';
    const ipvs = o.boundInterface === 'kube-ipvs0' ? ', so IPVS serves it on the node' : ', so the node answers it itself';
    return `captured on the node: ${packet.dst} is bound${where}${ipvs}`;
  }
  const who = packet.hook === 'PREROUTING' ? `the pod IP ${packet.src}` : `the source ${packet.src}`;
  if (!o.snat) return `leaves the node to ${o.finalDestination} without SNAT: the LB sees ${who}`;
  const by = o.snatRule ? `${o.snatTarget ?? 'SNAT'} by ${ruleLabel(o.snatRule)}` : 'SNAT';
  const sees = o.snatTarget === 'SNAT' && o.snatTo ? o.snatTo : 'a node IP';
  return `leaves the node to ${o.finalDestination} with SNAT (${by}): the LB sees ${sees}, not ${who}`;
}

/** The verdict line: what happens to the packet, across all statistic branches. */
export function traceVerdict(r: TraceResult): string {
  const suffix = r.uncertain ? ' [uncertain: see below]' : '';
  if (r.outcomes.length === 1) return describeOutcome(r.outcomes[0] as TraceOutcome, r.packet) + suffix;
  if (r.outcomes.every((o) => o.how === 'dnat' && o.delivery !== 'dropped')) {
    const list = r.outcomes.map((o) => `${o.dnat} ${formatProbability(o.probability)}`).join(', ');
    return `captured on the node by DNAT to one of ${r.outcomes.length} endpoints (${list})${suffix}`;
  }
  const groups = new Map<string, number>();
  for (const o of r.outcomes) {
    const key = describeOutcome(o, r.packet).replace(/ to [^ ]+:\d+/, '');
    groups.set(key, (groups.get(key) ?? 0) + o.probability);
  }
  if (groups.size === 1) return `${[...groups.keys()][0]} (${r.outcomes.length} branches)${suffix}`;
  return (
    `${r.outcomes.length} possible outcomes: ` + [...groups.entries()].map(([k, p]) => `${formatProbability(p)} ${k}`).join('; ') + suffix
  );
}

/** Lines of matched rules and reasons the text report shows at most; --format json lists all. */
export const MAX_TEXT_LINES = 200;

/** Characters of one line of the text report (a rule quoted from the dump may be megabytes). */
export const MAX_TEXT_LINE_CHARS = 1000;

function clipLine(line: string): string {
  return line.length <= MAX_TEXT_LINE_CHARS
    ? line
    : `${line.slice(0, MAX_TEXT_LINE_CHARS)}… (${line.length - MAX_TEXT_LINE_CHARS} more characters; --format json has all)`;
}

/** Appends at most MAX_TEXT_LINES lines, each clipped, then one line saying how many more there are. */
function appendBounded<T>(out: string[], items: readonly T[], line: (item: T, i: number) => string, what: string): void {
  const shown = Math.min(items.length, MAX_TEXT_LINES);
  for (let i = 0; i < shown; i++) out.push(clipLine(line(items[i] as T, i)));
  if (items.length > shown) out.push(`  … ${items.length - shown} more ${what} (--format json lists all)`);
}

function ruleLines(out: string[], rules: MatchedRule[], indent: string): void {
  appendBounded(out, rules, (r, i) => `${indent}${i + 1}. ${ruleLabel(r)}: ${r.text}  (${ruleSource(r)})`, 'matched rules');
}

/** The full text report the CLI prints. */
export function formatTraceText(r: TraceResult): string {
  const p = r.packet;
  const out: string[] = [traceVerdict(r)];
  out.push(
    `packet: ${p.proto} ${p.src}${p.sport !== null ? ':' + p.sport : ''} -> ${p.dst}:${p.dport}, entering nat at ${p.hook} (${p.hook === 'PREROUTING' ? 'from a pod' : 'from a host process'})`,
  );
  if (r.uncertain) {
    out.push('', 'uncertain:');
    appendBounded(out, r.reasons, (reason) => `  - ${reason}`, 'reasons');
  }
  if (r.outcomes.length > 1) {
    out.push('', 'outcomes:');
    r.outcomes.forEach((o, i) => {
      out.push(
        `  ${String.fromCharCode(65 + (i % 26))}${i >= 26 ? Math.floor(i / 26) : ''}. ${formatProbability(o.probability)}  ${describeOutcome(o, p)}`,
      );
      if (o.branches.length > 0) out.push(`      via ${o.branches.join(', ')}`);
    });
  }
  const showAll = r.outcomes.length > 1 && r.outcomes.length <= 3;
  if (showAll) {
    r.outcomes.forEach((o, i) => {
      out.push('', `matched rules, outcome ${String.fromCharCode(65 + i)}:`);
      ruleLines(out, o.rules, '  ');
    });
  } else {
    out.push('', r.outcomes.length > 1 ? 'matched rules (most likely outcome; --format json lists all):' : 'matched rules:');
    if (r.rules.length > 0) ruleLines(out, r.rules, '  ');
    else out.push('  (none: no nat rule matched the packet)');
  }
  if (r.notes.length > 0) {
    out.push('', 'notes:');
    appendBounded(out, r.notes, (n) => `  - ${n}`, 'notes');
  }
  return out.join('\n') + '\n';
}
