import { buildReport, formatProbability, type Report, type Verdict } from '@loopscope/core';
import { formatFlag, parseCommandArgs } from '../args';
import { QUIET } from '../progress';
import { jsonText, UsageError, type Command } from '../io';
import { PROFILE_HELP, PROFILE_OPTIONS, profileOverrides } from '../profileFlags';
import { clusterFromFlags, SOURCE_HELP, SOURCE_OPTIONS } from '../sources';
import { analyzeWithEvidence, NODE_DUMPS_HELP } from '../evidence';
import { renderFittedTable, renderTable, terminalColumns, type FitColumn, type FitStep } from '../table';

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

Columns: WORST CLIENT is the headline: the share of connections that time out for the worst-placed
client pod ("up to 50%"; "100% fail" when some clients cannot connect at all); EXPOSURE is the mean
over every client pod of the cluster (it ranks Services); CALLERS counts the pods known to call the
Service (named in a container's env, args or command, or seen by node evidence) and their mean figure;
AT RISK counts the client pods that time out or fail, and their nodes.

Table: the terminal's width (COLUMNS, else the terminal's, else 100 columns). When it is too narrow,
in this order: WORKLOADS, POLICY and LB IP are left out; "n/a" stands for not-applicable; WHY is cut
to 24, then 16 characters; EXPOSURE is left out; WHY is cut to 10; SERVICE to 24, then 20; AT RISK,
then CALLERS are left out. -o wide is never cut.

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

type ReportService = Report['services'][number];

/** Verdict first, then the headline figure (the worst-placed client's), then cluster exposure, then name. */
function sortedServices(report: Report, all: boolean): Report['services'] {
  return report.services
    .filter((s) => all || s.type === 'LoadBalancer')
    .sort(
      (a, b) =>
        VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] ||
        b.worstClientProbability - a.worstClientProbability ||
        b.loopbackProbability - a.loopbackProbability ||
        `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    );
}

/** The headline figure: what the worst-placed client suffers ("up to 50%"); for `unreachable`, its connections fail outright. */
function worstClientCell(s: ReportService): string {
  if (s.verdict === 'loopback') return `up to ${formatProbability(s.worstClientProbability)}`;
  if (s.verdict === 'unreachable') return '100% fail';
  if (s.verdict === 'safe') return formatProbability(s.worstClientProbability);
  return '-';
}

function exposureCell(s: ReportService): string {
  return s.verdict === 'loopback' || s.verdict === 'safe' || s.verdict === 'unreachable' ? formatProbability(s.loopbackProbability) : '-';
}

/** Distinct known caller pods. */
function callerPods(s: ReportService): number {
  return new Set(s.callers.map((c) => `${c.namespace}/${c.pod}`)).size;
}

/** "2 (50%)": known caller pods and the mean p over them ("2 (?)" when the verdict is unknown). */
function callersCell(s: ReportService): string {
  const n = callerPods(s);
  return n ? `${n} (${s.callersProbability === null ? '?' : formatProbability(s.callersProbability)})` : '-';
}

/** Client pods that time out (loopback) or cannot connect (unreachable), and on how many nodes. */
function atRiskCell(s: ReportService): string {
  if (s.verdict === 'unreachable' && s.unreachable) return `${s.unreachable.clientPods} (${plural(s.unreachable.nodes.length, 'node')})`;
  return s.atRiskNodes.length ? `${s.clientPodsAtRisk} (${plural(s.atRiskNodes.length, 'node')})` : '-';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The known callers as a person reads them, one name per calling workload (or bare pod), the likeliest
 * to loop first: "checkout-api calls it (env PAYMENTS_API_URL)", or "… and 2 more workloads call it"
 * (the Slack answer's words).
 */
function leadCaller(s: ReportService): string | undefined {
  const byName = new Map<string, string>();
  for (const c of [...s.callers].sort(
    (a, b) => b.probability - a.probability || (a.source === b.source ? 0 : a.source === 'declared' ? -1 : 1),
  )) {
    const name = c.workload?.name ?? c.pod;
    if (!byName.has(name)) byName.set(name, c.where);
  }
  const [first, ...rest] = [...byName];
  if (!first) return undefined;
  return rest.length === 0
    ? `${first[0]} calls it (${first[1]})`
    : `${first[0]} (${first[1]}) and ${plural(rest.length, 'more workload')} call it`;
}

/** What is missing or why: the caller that leads, the missing input, the outright failure, or the deciding reason code. */
function why(s: ReportService): string {
  if (s.verdict === 'unknown' && s.missing.length) return `missing ${s.missing.map((m) => m.kind).join(', ')}`;
  if (s.verdict === 'unreachable' && s.unreachable?.reasons.length) return s.unreachable.reasons[0]!;
  if (s.verdict === 'loopback') {
    const caller = leadCaller(s);
    if (caller) return caller;
  }
  const r =
    s.reasons.find((x) => x.code === 'LOOPBACK') ??
    s.reasons.find((x) => /^(CAPTURED|SOURCE_NODE|PUBLIC|NO_|GCP|AWS|UNKNOWN|INVALID|NOT_LOAD)/.test(x.code)) ??
    s.reasons[0];
  return r ? r.code : '';
}

const SHORT_VERDICT: Record<Verdict, string> = {
  loopback: 'loopback',
  unreachable: 'unreachable',
  unknown: 'unknown',
  safe: 'safe',
  'not-applicable': 'n/a',
};

/**
 * How the table meets the terminal's width (see TABLE_WIDTH_HELP), step by step until it fits. The
 * name, the verdict and the worst-client figure always stay; cut cells end in "…".
 */
export const TABLE_FIT_ORDER: FitStep[] = [
  { drop: 'WORKLOADS' },
  { drop: 'POLICY' },
  { drop: 'LB IP' },
  { shorten: 'VERDICT' },
  { shorten: 'WHY', to: 24 },
  { shorten: 'WHY', to: 16 },
  // The Service's name and the figures matter more than the reason (explain gives it whole).
  { drop: 'EXPOSURE' },
  { shorten: 'WHY', to: 10 },
  { shorten: 'SERVICE', to: 24 },
  { shorten: 'SERVICE', to: 20 },
  { drop: 'AT RISK' },
  { drop: 'CALLERS' },
];

/** The table for a person; `width`: the terminal's (COLUMNS, the TTY, else 100). */
export function renderSummaryTable(report: Report, all: boolean, wide: boolean, width = terminalColumns()): string {
  const c = report.cluster;
  const s = report.summary;
  const head =
    `Cluster: ${c.nodes} nodes, ${c.clientPods} client pods; provider ${c.provider.value}; proxy ${
      Object.entries(c.proxyModes)
        .map(([m, n]) => `${m}×${n}`)
        .join(', ') || 'unknown'
    }${c.evidenceNodes ? `; node dumps for ${c.evidenceNodes} node(s)` : ''}\n` +
    `Services: ${s.loopback} loopback, ${s.unreachable} unreachable, ${s.safe} safe, ${s.unknown} unknown, ${s['not-applicable']} not applicable\n\n`;
  const services = sortedServices(report, all);
  const col = (header: string, cell: (x: ReportService) => string, more: Partial<FitColumn> = {}): FitColumn => ({
    header,
    cells: services.map(cell),
    ...more,
  });
  const columns: FitColumn[] = [
    col('SERVICE', (x) => `${x.namespace}/${x.name}`),
    col('VERDICT', (x) => x.verdict, { shortCells: services.map((x) => SHORT_VERDICT[x.verdict]) }),
    col('WORST CLIENT', worstClientCell),
    col('EXPOSURE', exposureCell),
    col('CALLERS', callersCell),
    col('AT RISK', atRiskCell),
    col('POLICY', (x) => x.trafficPolicy ?? '-'),
    col('LB IP', (x) => (x.ingresses[0] ? (x.ingresses[0].ip ?? x.ingresses[0].hostname ?? '-') : '-')),
    col('WORKLOADS', (x) => (x.affectedWorkloads.length ? String(x.affectedWorkloads.length) : '-')),
    ...(c.evidenceNodes > 0 ? [col('OBSERVED', (x) => (x.observed ? `${x.observed.unrepliedConnections} unreplied` : '-'))] : []),
    col('WHY', why),
    ...(wide ? wideColumns(services) : []),
  ];
  // `-o wide` is for reading everything (as kubectl's): it is never cut to the terminal.
  const table = services.length
    ? wide
      ? renderTable(
          columns.map((x) => x.header),
          services.map((_, r) => columns.map((x) => x.cells[r]!)),
        )
      : renderFittedTable(columns, width, TABLE_FIT_ORDER)
    : 'No LoadBalancer Services (use --all to list the others).\n';
  const hidden = report.services.length - services.length;
  const firstAtRisk = services.find((x) => x.verdict === 'loopback' || x.verdict === 'unreachable');
  const tail =
    missingInputs(services) +
    (hidden > 0 ? `\n${hidden} Service(s) without a load balancer not shown (--all shows them).\n` : '') +
    (firstAtRisk ? `\nExplain one: loopscope explain ${firstAtRisk.namespace}/${firstAtRisk.name}\n` : '') +
    (report.problems.length ? `\n${report.problems.length} input problem(s); see the warnings above.\n` : '');
  return head + table + tail;
}

/** Each missing input kind once, with the `kubectl get` that supplies it (the WHY column may be cut). */
function missingInputs(services: Report['services']): string {
  const byKind = new Map<string, { kubectl: string; services: number }>();
  for (const s of services) {
    if (s.verdict !== 'unknown') continue;
    for (const m of s.missing) {
      const e = byKind.get(m.kind) ?? { kubectl: m.kubectl, services: 0 };
      e.services++;
      byKind.set(m.kind, e);
    }
  }
  if (!byKind.size) return '';
  return (
    '\n' +
    [...byKind]
      .map(([kind, e]) => `Missing ${kind} (${plural(e.services, 'Service')} unknown): add the output of \`${e.kubectl}\`\n`)
      .join('')
  );
}

/** `-o wide`, as kubectl: more columns at the right, the same rows. */
function wideColumns(services: Report['services']): FitColumn[] {
  return [
    {
      header: 'INGRESS',
      cells: services.map(
        (x) =>
          x.ingresses
            .map((i) => `${i.ip ?? i.hostname ?? '?'}:${i.port}/${i.protocol}${i.ipMode === 'Proxy' ? ' (Proxy)' : ''}`)
            .join(',') || '-',
      ),
    },
    { header: 'BACKEND', cells: services.map((x) => x.backendKind ?? '-') },
    {
      header: 'AT-RISK NODE NAMES',
      cells: services.map((x) => (x.verdict === 'unreachable' && x.unreachable ? x.unreachable.nodes : x.atRiskNodes).join(',') || '-'),
    },
    { header: 'KNOWN CALLERS', cells: services.map((x) => x.callers.map(callerText).join('; ') || '-') },
  ];
}

/** "checkout/checkout-api-7d9 on 10.0.1.11 (env PAYMENTS_API_URL) 50%". */
function callerText(c: ReportService['callers'][number]): string {
  return `${c.namespace}/${c.pod} on ${c.node} (${c.where}) ${formatProbability(c.probability)}`;
}

export function renderMarkdown(report: Report): string {
  const s = report.summary;
  const out = [
    '# loopscope report',
    '',
    `${report.cluster.nodes} nodes, ${report.cluster.clientPods} client pods, provider **${report.cluster.provider.value}**. ` +
      `Services: **${s.loopback} loopback**, ${s.unreachable} unreachable, ${s.safe} safe, ${s.unknown} unknown, ${s['not-applicable']} not applicable.`,
    '',
    '| Service | Verdict | Worst client | Exposure | Known callers | At risk | Policy | At-risk nodes | Affected workloads | Why |',
    '|---|---|---:|---:|---|---|---|---|---|---|',
  ];
  const cell = (t: string): string => t.replace(/\|/g, '\\|');
  for (const x of sortedServices(report, false)) {
    out.push(
      `| ${x.namespace}/${x.name} | ${x.verdict} | ${worstClientCell(x)} | ${exposureCell(x)} | ${callersCell(x)} | ${atRiskCell(x)} | ${x.trafficPolicy ?? '-'} | ${x.atRiskNodes.join(', ') || '-'} | ${x.affectedWorkloads.map((w) => `${w.kind.toLowerCase()}/${w.name}`).join(', ') || '-'} | ${cell(why(x))} |`,
    );
  }
  for (const x of report.services.filter((v) => v.verdict === 'loopback' || v.verdict === 'unreachable')) {
    const headline =
      x.verdict === 'loopback'
        ? `up to ${formatProbability(x.worstClientProbability)} of connections from ${plural(x.clientPodsAtRisk, 'client pod')} on ${plural(x.atRiskNodes.length, 'node')} time out (exposure ${formatProbability(x.loopbackProbability)})`
        : `${plural(x.unreachable?.clientPods ?? 0, 'client pod')} on ${plural(x.unreachable?.nodes.length ?? 0, 'node')} cannot connect`;
    out.push('', `## ${x.namespace}/${x.name}: ${headline}`, '');
    if (x.callers.length) {
      out.push(`Known callers (${formatProbability(x.callersProbability ?? 0)} of their connections loop):`, '');
      for (const c of x.callers) out.push(`- ${cell(callerText(c))}`);
      out.push('');
    }
    for (const r of x.unreachable?.reasons ?? []) out.push(`- **unreachable**: ${r}`);
    for (const r of x.reasons) out.push(`- **${r.code}**: ${r.message}`);
    if (x.fixes.length) {
      out.push('', 'Fixes:', '');
      for (const f of x.fixes) out.push(`1. ${f.title} → ${formatProbability(f.predictedProbability)}`);
    }
  }
  const unknown = report.services.filter((v) => v.verdict === 'unknown' && v.missing.length);
  if (unknown.length) {
    out.push('', '## Missing input', '');
    for (const m of new Map(unknown.flatMap((v) => v.missing).map((m) => [m.kind, m])).values())
      out.push(`- **${m.kind}**: \`${m.kubectl}\``);
  }
  return out.join('\n') + '\n';
}
