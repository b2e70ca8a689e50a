import { explain as explainTarget, renderExplanationMarkdown, renderExplanationText, targetTooLong } from '@loopscope/core';
import { formatFlag, parseCommandArgs } from '../args';
import { QUIET } from '../progress';
import { jsonText, UsageError, type Command } from '../io';
import { PROFILE_HELP, PROFILE_OPTIONS, profileOverrides } from '../profileFlags';
import { clusterFromFlags, SOURCE_HELP, SOURCE_OPTIONS } from '../sources';
import { analyzeWithEvidence, NODE_DUMPS_HELP } from '../evidence';

export const EXPLAIN_HELP = `Usage: loopscope explain TARGET [--context NAME | --snapshot FILE|DIR|- | --demo] [-o text|markdown|json]

Explains why TARGET times out (or why it does not): the verdict and figure, the packet's path hop by
hop, where (nodes, workloads), the fixes each with its predicted figure, and what was inferred vs
read from evidence.

TARGET is one of:
  payments | prod/payments | svc/payments          a Service
  deployment/checkout | prod/deployment/checkout   a workload (deployment, statefulset, daemonset, job, cronjob)
  pod/checkout-7d9c-abcde | prod/pod/…             a pod
  10.0.0.5 | 10.0.0.5:8080                         an LB ingress IP[:port]

  -o, --format text|markdown|json   default text
  --compact               one-line JSON (the default when stdout is not a terminal)

${SOURCE_HELP}

${NODE_DUMPS_HELP}

${PROFILE_HELP}

Exit codes: 0 ok; 2 bad usage, bad input, or an unknown/ambiguous target (closest names listed).
`;

export const explain: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(
    'explain',
    args,
    {
      ...SOURCE_OPTIONS,
      compact: { type: 'boolean' },
      'node-dumps': { type: 'string' },
      format: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
      ...PROFILE_OPTIONS,
    },
    true,
  );
  if (values.help) {
    io.stdout(EXPLAIN_HELP);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      `explain: give exactly one TARGET (a Service, workload, pod or LB IP); got ${positionals.length} (see \`loopscope explain --help\`)`,
    );
  const tooLong = targetTooLong(positionals[0]!.length);
  if (tooLong) throw new UsageError(`explain: ${tooLong}`);
  const format = formatFlag('explain', values.format, ['text', 'markdown', 'json'], 'text');
  const cluster = await clusterFromFlags(values, io, io.progress ?? QUIET);
  const result = explainTarget(analyzeWithEvidence(cluster, profileOverrides(values), values['node-dumps'], io), positionals[0]!);
  if (!result.ok) {
    const hint = result.suggestions.length ? ` Did you mean: ${result.suggestions.join(', ')}?` : '';
    throw new UsageError(`explain: ${result.message}.${hint}`);
  }
  if (format === 'json') io.stdout(jsonText(result.explanation, io, values.compact));
  else if (format === 'markdown') io.stdout(renderExplanationMarkdown(result.explanation));
  else io.stdout(renderExplanationText(result.explanation));
  return 0;
};
