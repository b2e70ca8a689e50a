import { buildReport, formatProbability, type Report, type Verdict } from '@loopscope/core';
import { formatFlag, parseCommandArgs } from '../args';
import { QUIET } from '../progress';
import { jsonText, UsageError, type Command } from '../io';
import { PROFILE_HELP, PROFILE_OPTIONS, profileOverrides } from '../profileFlags';
import { clusterFromFlags, SOURCE_HELP, SOURCE_OPTIONS } from '../sources';
import { analyzeWithEvidence, NODE_DUMPS_HELP } from '../evidence';
import { renderTable } from '../table';

export const ANALYZE_HELP = `Usage: loopscope analyze [--context NAME | --snapshot FILE|DIR|- | --demo] [-n NS] [-o table|wide|json|markdown] [--fail-on-risk [--allow-unknown]]

Finds every Service whose pods can time out calling it through its internal LB (LB loopback).

  -o, --format table|wide|json|markdown
                          default table; wide adds each Service's ingress points, backend kind and
                          at-risk node names; json is the stable loopscope/v1 contract
  --compact               one-line JSON (the default when stdout is not a terminal: a pipe or a
                          file is read by a program, and indentation makes it ~5x larger at scale)
  --fail-on-risk          exit 1 when any Service is at risk (for CI gates): a loopback, an unreachable
                          one (clients fail outright), or an unknown one (incomplete input is never
                          safe; the report names the missing kind and the kubectl get that supplies it)
  --allow-unknown         with --fail-on-risk, do not fail on unknown Services
  --max-links N           keep the N most likely links in the output (default: all)
  --all                   list every Service in the table, not only LoadBalancer ones

${SOURCE_HELP}

${NODE_DUMPS_HELP}

${PROFILE_HELP}

Exit codes: 0 ok; 1 --fail-on-risk and a Service is loopback, unreachable or (without
--allow-unknown) unknown; 2 bad usage or input, or no cluster to
read; 3 an internal error (out of memory included).
`;

export const analyze: Command = async (args, io) => {
  const { values } = parseCommandArgs('analyze', args, {
    ...SOURCE_OPTIONS,
      compact: { type: 'boolean' },
    'node-dumps': { type: 'string' },
    format: { type: 'string', short: 'o' },
    'fail-on-risk': { type: 'boolean' },
    'allow-unknown': { type: 'boolean' },
    'max-links': { type: 'string' },
    all: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    ...PROFILE_OPTIONS,
  });
  if (values.help) {
    io.stdout(ANALYZE_HELP);
    return 0;
  }
  const format = formatFlag('analyze', values.format, ['table', 'wide', 'json', 'markdown'], 'table');
  const maxLinks = values['max-links'] === undefined ? undefined : positiveInt('--max-links', values['max-links']);
  const overrides = profileOverrides(values);
  const cluster = await clusterFromFlags(values, io, io.progress ?? QUIET);
  io.progress?.update(`analysing ${cluster.services.length} Services for ${cluster.pods.length} pods on ${cluster.nodes.length} nodes`);
  const report = buildReport(analyzeWithEvidence(cluster, overrides, values['node-dumps'], io), { maxLinks });
  io.progress?.done();
  if (format === 'json') io.stdout(jsonText(report, io, values.compact));
  else if (format === 'markdown') io.stdout(renderMarkdown(report));
  else io.stdout(renderSummaryTable(report, values.all === true, format === 'wide'));
  return values['fail-on-risk'] && failsGate(report, values['allow-unknown'] === true) ? 1 : 0;
};

/** The --fail-on-risk gate: loopback and unreachable always fail it; unknown unless allowed. */
export function failsGate(report: Report, allowUnknown: boolean): boolean {
  const s = report.summary;
  return s.loopback > 0 || s.unreachable > 0 || (!allowUnknown && s.unknown > 0);
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} ${value}: expected a whole number`);
  return n;
}

const VERDICT_ORDER: Record<Verdict, number> = { loopback: 0, unreachable: 1, unknown: 2, safe: 3, 'not-applicable': 4 };

function sortedServices(report: Report, all: boolean): Report['services'] {
  return report.services
    .filter((s) => all || s.type === 'LoadBalancer')
    .sort((a, b) => VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] || b.loopbackProbability - a.loopbackProbability || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

function why(s: Report['services'][number]): string {
  const r = s.reasons.find((x) => x.code === 'LOOPBACK') ?? s.reasons.find((x) => /^(CAPTURED|SOURCE_NODE|PUBLIC|NO_|GCP|AWS|UNKNOWN|INVALID|NOT_LOAD)/.test(x.code)) ?? s.reasons[0];
  return r ? r.code : '';
}

function renderSummaryTable(report: Report, all: boolean, wide: boolean): string {
  const c = report.cluster;
  const s = report.summary;
  const head = `Cluster: ${c.nodes} nodes, ${c.clientPods} client pods; provider ${c.provider.value}; proxy ${Object.entries(c.proxyModes).map(([m, n]) => `${m}×${n}`).join(', ') || 'unknown'}${c.evidenceNodes ? `; node dumps for ${c.evidenceNodes} node(s)` : ''}\n` +
    `Services: ${s.loopback} loopback, ${s.safe} safe, ${s.unknown} unknown, ${s['not-applicable']} not applicable\n\n`;
  const services = sortedServices(report, all);
  const rows = services.map((x) => [
    `${x.namespace}/${x.name}`,
    x.verdict,
    x.verdict === 'loopback' || x.verdict === 'safe' ? formatProbability(x.loopbackProbability) : '-',
    x.trafficPolicy ?? '-',
    x.ingresses[0] ? (x.ingresses[0].ip ?? x.ingresses[0].hostname ?? '-') : '-',
    x.atRiskNodes.length ? `${x.atRiskNodes.length} (${x.clientPodsOnAtRiskNodes} pods)` : '-',
    x.affectedWorkloads.length ? String(x.affectedWorkloads.length) : '-',
    ...(c.evidenceNodes > 0 ? [x.observed ? `${x.observed.unrepliedConnections} unreplied` : '-'] : []),
    why(x),
    ...(wide ? wideColumns(x) : []),
  ]);
  const headers = ['SERVICE', 'VERDICT', 'LOOPBACK', 'POLICY', 'LB IP', 'AT-RISK NODES', 'WORKLOADS', ...(c.evidenceNodes > 0 ? ['OBSERVED'] : []), 'WHY', ...(wide ? WIDE_HEADERS : [])];
  const table = rows.length ? renderTable(headers, rows) : 'No LoadBalancer Services (use --all to list the others).\n';
  const hidden = report.services.length - services.length;
  const tail =
    (hidden > 0 ? `\n${hidden} Service(s) without a load balancer not shown (--all shows them).\n` : '') +
    (s.loopback > 0 ? `\nExplain one: loopscope explain ${services[0]!.namespace}/${services[0]!.name}\n` : '') +
    (report.problems.length ? `\n${report.problems.length} input problem(s); see the warnings above.\n` : '');
  return head + table + tail;
}

const WIDE_HEADERS = ['INGRESS', 'BACKEND', 'AT-RISK NODE NAMES'];

/** `-o wide`, as kubectl: more columns at the right, the same rows. */
function wideColumns(x: Report['services'][number]): string[] {
  const ingresses = x.ingresses.map((i) => `${i.ip ?? i.hostname ?? '?'}:${i.port}/${i.protocol}${i.ipMode === 'Proxy' ? ' (Proxy)' : ''}`);
  return [ingresses.join(',') || '-', x.backendKind ?? '-', x.atRiskNodes.join(',') || '-'];
}

function renderMarkdown(report: Report): string {
  const s = report.summary;
  const out = [
    '# loopscope report',
    '',
    `${report.cluster.nodes} nodes, ${report.cluster.clientPods} client pods, provider **${report.cluster.provider.value}**. ` +
      `Services: **${s.loopback} loopback**, ${s.safe} safe, ${s.unknown} unknown, ${s['not-applicable']} not applicable.`,
    '',
    '| Service | Verdict | Loopback | Policy | At-risk nodes | Affected workloads | Why |',
    '|---|---|---:|---|---|---|---|',
  ];
  for (const x of sortedServices(report, false)) {
    out.push(
      `| ${x.namespace}/${x.name} | ${x.verdict} | ${formatProbability(x.loopbackProbability)} | ${x.trafficPolicy ?? '-'} | ${x.atRiskNodes.join(', ') || '-'} | ${x.affectedWorkloads.map((w) => `${w.kind.toLowerCase()}/${w.name}`).join(', ') || '-'} | ${why(x)} |`,
    );
  }
  const looping = report.services.filter((x) => x.verdict === 'loopback');
  for (const x of looping) {
    out.push('', `## ${x.namespace}/${x.name}: ${formatProbability(x.loopbackProbability)}`, '');
    for (const r of x.reasons) out.push(`- **${r.code}**: ${r.message}`);
    if (x.fixes.length) {
      out.push('', 'Fixes:', '');
      for (const f of x.fixes) out.push(`1. ${f.title} → ${formatProbability(f.predictedProbability)}`);
    }
  }
  return out.join('\n') + '\n';
}
