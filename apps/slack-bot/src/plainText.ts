import { formatP, formatProbability, type ServiceExplanation } from '@loopscope/core';
import type { Answer, ExplanationAnswer } from './answer';
import { formatQuestion } from './question';
import {
  atRiskEntry,
  byWorstClient,
  CAPABILITIES,
  plural,
  serviceLine,
  TARGET_FORMS,
  unavailableNote,
  verdictLine,
  verdictWord,
} from './wording';

/**
 * An answer as plain text: what the console prints, and (shortened) the `text` fallback that
 * Slack shows in notifications and wherever blocks cannot be drawn.
 */
export function renderPlainText(answer: Answer): string {
  const out: string[] = [];
  const clusterTag = (cluster: string): string => (answer.showCluster ? `[${cluster}] ` : '');
  switch (answer.kind) {
    case 'explanation':
      explanation(out, answer, clusterTag(answer.cluster));
      break;
    case 'choice':
      out.push(answer.prompt);
      for (const o of answer.options) out.push(`  - ${o.label}: ask "${formatQuestion(o.question)}"`);
      break;
    case 'unknownTarget':
      out.push(
        `I could not find "${answer.target}"${answer.clustersAsked.length > 1 ? ` in ${answer.clustersAsked.join(', ')}` : ''}: ${answer.message}.`,
      );
      if (answer.suggestions.length) {
        out.push('Did you mean:');
        for (const s of answer.suggestions) out.push(`  - ${s.label}: ask "${formatQuestion(s.question)}"`);
      }
      out.push(TARGET_FORMS);
      break;
    case 'atRisk':
      for (const c of answer.clusters) {
        const where = answer.namespace ? ` in namespace ${answer.namespace}` : '';
        out.push(
          `${clusterTag(c.cluster)}${c.total ? `${plural(c.total, 'Service')} at risk of internal-LB loopback${where}` : `No Service${where} is at risk of internal-LB loopback`} (of ${plural(c.summary.services, 'Service')}; ${c.summary.clientPodsAtRisk} of ${c.summary.clientPods} client pods on at-risk nodes${c.summary.unreachable ? `; ${c.summary.unreachable} unreachable` : ''}${c.summary.unknown ? `; ${c.summary.unknown} unknown` : ''}).`,
        );
        byWorstClient(c.services).forEach((s, i) => out.push(`  ${i + 1}. ${s.namespace}/${s.name}: ${atRiskEntry(s)}`));
        if (c.total > c.services.length)
          out.push(
            `  … and ${plural(c.total - c.services.length, 'more Service')} at risk${c.dashboardUrl ? ' (all of them on the dashboard)' : ''}`,
          );
        if (c.dashboardUrl) out.push(`Dashboard: ${c.dashboardUrl}`);
      }
      break;
    case 'whatIf':
      out.push(`${clusterTag(answer.cluster)}What if ${answer.change}:`);
      if (answer.assumed) out.push(`(${answer.assumed})`);
      if (!answer.services.length) out.push('  no Service changes its verdict or figure.');
      for (const s of answer.services)
        out.push(
          `  - ${s.namespace}/${s.name}: ${verdictWord(s.before.verdict)} ${formatProbability(s.before.probability)} → ${verdictWord(s.after.verdict)} ${formatProbability(s.after.probability)}`,
        );
      if (answer.dashboardUrl) out.push(`Dashboard: ${answer.dashboardUrl}`);
      break;
    case 'help':
      if (answer.notUnderstood !== undefined)
        out.push(`I did not understand "${answer.notUnderstood}".${answer.hint ? ` ${answer.hint}` : ''} Here is what I can answer:`);
      else out.push('I explain why pods time out calling a Service through its internal load balancer (LB loopback). Ask me:');
      for (const c of CAPABILITIES) out.push(`  - "${c.ask}": ${c.what}`);
      out.push(TARGET_FORMS);
      out.push(`Clusters: ${answer.clusters.join(', ')}.`);
      break;
    case 'notice':
      out.push(answer.text);
      break;
  }
  // Right under the first line: the fallback text is cut from the end, and this must survive.
  if (answer.unavailable.length) out.splice(1, 0, `Note: ${unavailableNote(answer.unavailable, answer.kind !== 'notice')}`);
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

function explanation(out: string[], a: ExplanationAnswer, tag: string): void {
  const e = a.explanation;
  out.push(`${tag}${verdictLine(e)}`);
  out.push(e.headline);
  if (a.assumed) out.push(`(${a.assumed})`);
  // A Service of its own heading only when it adds something (several Services, or a caller's view).
  const perService =
    e.services.length > 1 || ((e.target.kind === 'workload' || e.target.kind === 'pod') && e.services[0]?.headline !== e.headline);
  e.services.forEach((s, i) => {
    out.push('');
    if (perService) out.push(`== ${serviceLine(s)}`, s.headline);
    // The worst Service in full; the rest briefly, so a workload exposed to many stays readable.
    service(out, s, i === 0 ? a.detail : 'brief');
  });
  if (a.checkInstead?.length) {
    out.push('', 'Check instead:');
    for (const c of a.checkInstead) out.push(`  - ${c}`);
  }
  out.push('');
  if (a.dashboardUrl) out.push(`Dashboard: ${a.dashboardUrl}`);
  out.push(`Full detail: ${a.cliCommand}`);
}

function service(out: string[], s: ServiceExplanation, detail: 'full' | 'brief'): void {
  if (detail === 'full' && s.path.length) {
    out.push(`Packet path${s.clientNode ? ` (client on ${s.clientNode})` : ''}:`);
    s.path.forEach((hop, i) =>
      out.push(`  ${i + 1}. ${hop.at}: ${hop.what}${hop.fails ? '  <-- fails here' : ''}${hop.basis === 'observed' ? ' [observed]' : ''}`),
    );
  }
  const failing = s.path.find((h) => h.fails);
  if (detail === 'brief' && failing) out.push(`Where it fails: ${failing.at}: ${failing.what}`);
  if (s.where.nodeCount > 0) {
    out.push(`Where: ${plural(s.where.nodeCount, 'at-risk node')}, ${plural(s.where.clientPods, 'client pod')} on them`);
    for (const n of s.where.nodes) out.push(`  - node ${n.node}: p = ${formatP(n.probability)}, ${plural(n.clientPods, 'client pod')}`);
    if (s.where.nodeCount > s.where.nodes.length) out.push(`  - … and ${plural(s.where.nodeCount - s.where.nodes.length, 'more node')}`);
    out.push(`Affected workloads (${s.where.workloadCount}):`);
    for (const w of s.where.workloads)
      out.push(`  - ${w.workload}: ${plural(w.pods, 'pod')} on ${w.nodes.join(', ')} (p up to ${formatP(w.maxProbability)})`);
    if (s.where.workloadCount > s.where.workloads.length)
      out.push(`  - … and ${plural(s.where.workloadCount - s.where.workloads.length, 'more workload')}`);
  }
  if (s.fixes.length) {
    out.push('Fixes (predicted figure after each):');
    s.fixes.forEach((f, i) =>
      out.push(
        detail === 'full'
          ? `  ${i + 1}. ${f.title} → ${formatProbability(f.predictedProbability)}${f.effective ? '' : ' (no effect here)'}. ${f.description} Trade-off: ${f.tradeoff}`
          : `  ${i + 1}. ${f.title} → ${formatProbability(f.predictedProbability)}${f.effective ? '' : ' (no effect here)'}`,
      ),
    );
  }
  if (s.findings.length) {
    out.push('Findings:');
    for (const f of s.findings) out.push(`  - ${f.code}: ${f.message}`);
  }
  if (s.checkInstead.length && s.verdict !== 'loopback') {
    out.push('Check instead:');
    for (const c of s.checkInstead) out.push(`  - ${c}`);
  }
  if (detail === 'full') {
    out.push('Evidence:');
    if (s.observed.length) for (const o of s.observed) out.push(`  - observed: ${o}`);
    else out.push('  - observed: nothing (no node dumps; the exporter can read them with --node-dumps)');
    for (const i of s.inferred) out.push(`  - inferred: ${i}`);
  }
}
