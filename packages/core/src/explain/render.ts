import { formatP, formatProbability } from '../format/probability';
import { callerPhrase, type Explanation, type ServiceExplanation } from './explain';

/** Markdown for chat, issues and the exporter's explain endpoint. */
export function renderExplanationMarkdown(e: Explanation): string {
  const out: string[] = [`**${e.headline}**`, ''];
  for (const s of e.services) {
    if (e.services.length > 1 || e.target.kind === 'workload' || e.target.kind === 'pod')
      out.push(`### ${s.namespace}/${s.name}`, '', s.headline, '');
    section(out, s, 'md');
  }
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

/** Plain text for a terminal. */
export function renderExplanationText(e: Explanation): string {
  const out: string[] = [e.headline, ''];
  for (const s of e.services) {
    if (e.services.length > 1 || e.target.kind === 'workload' || e.target.kind === 'pod')
      out.push(`== ${s.namespace}/${s.name}`, s.headline, '');
    section(out, s, 'text');
  }
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

function section(out: string[], s: ServiceExplanation, style: 'md' | 'text'): void {
  const h = (title: string): void => {
    out.push(style === 'md' ? `#### ${title}` : `${title}:`);
  };
  const item = (text: string, n?: number): string => (n !== undefined ? `${n}. ${text}` : style === 'md' ? `- ${text}` : `  - ${text}`);
  if (s.callerCount > 0) {
    // An unknown verdict has no figure for its callers either: no "0%" that would read as safe.
    const figured = s.verdict !== 'unknown';
    h(
      `Known callers (${s.callerCount}${s.callersProbability !== null ? `; on average ${formatProbability(s.callersProbability)} of their connections loop` : figured ? '' : '; how many of their connections loop is unknown until the missing input is supplied'})`,
    );
    for (const c of s.callers)
      out.push(
        item(
          `${callerPhrase(c)}${figured ? `: ${formatProbability(c.probability)} of its connections loop` : ''}${c.observed ? ' [observed]' : ''}`,
        ),
      );
    if (s.callerCount > s.callers.length) out.push(item(`… ${s.callerCount - s.callers.length} more caller(s)`));
    out.push('');
  }
  if (s.path.length) {
    h(`Packet path${s.clientNode ? ` (client on ${s.clientNode})` : ''}`);
    s.path.forEach((hop, i) =>
      out.push(
        `${style === 'text' ? '  ' : ''}${item(`${style === 'md' ? `**${hop.at}**` : hop.at}: ${hop.what}${hop.fails ? (style === 'md' ? ' ❌' : '  <-- fails here') : ''}${hop.basis === 'observed' ? ' [observed]' : ''}`, i + 1)}`,
      ),
    );
    out.push('');
  }
  if (s.where.nodeCount > 0) {
    h('Where');
    out.push(item(`${s.where.nodeCount} at-risk node(s), ${s.where.clientPods} client pod(s) on them`));
    for (const n of s.where.nodes) out.push(item(`node ${n.node}: p = ${formatP(n.probability)}, ${n.clientPods} client pod(s)`));
    if (s.where.nodeCount > s.where.nodes.length) out.push(item(`… ${s.where.nodeCount - s.where.nodes.length} more node(s)`));
    for (const w of s.where.workloads)
      out.push(item(`${w.workload}: ${w.pods} pod(s) on ${w.nodes.join(', ')} (p up to ${formatP(w.maxProbability)})`));
    if (s.where.workloadCount > s.where.workloads.length)
      out.push(item(`… ${s.where.workloadCount - s.where.workloads.length} more workload(s)`));
    out.push('');
  }
  if (s.fixes.length) {
    h('Fixes (predicted figure after each)');
    s.fixes.forEach((f, i) =>
      out.push(
        `${style === 'text' ? '  ' : ''}${i + 1}. ${style === 'md' ? `**${f.title}**` : f.title} → worst client ${formatProbability(f.predictedWorstClientProbability)}, exposure ${formatProbability(f.predictedProbability)}${f.effective ? '' : ' (no effect here)'}. ${f.description} Trade-off: ${f.tradeoff}`,
      ),
    );
    out.push('');
  }
  if (s.findings.length) {
    h('Findings');
    for (const f of s.findings) out.push(item(`${f.code}: ${f.message}${f.nodes?.length ? ` (nodes: ${f.nodes.join(', ')})` : ''}`));
    out.push('');
  }
  if (s.checkInstead.length && s.verdict !== 'loopback') {
    h('Check instead');
    for (const c of s.checkInstead) out.push(item(c));
    out.push('');
  }
  h('Evidence');
  if (s.observed.length) for (const o of s.observed) out.push(item(`observed: ${o}`));
  else out.push(item('observed: none (no node dumps given; pass --node-dumps to settle the node datapath from iptables/ipset/conntrack)'));
  for (const i of s.inferred) out.push(item(`inferred: ${i}`));
  out.push('');
}
