import { escapeControlCharacters } from '@loopscope/core';
import { Answerer } from './answerer';
import { renderBlocks } from './blockKit';
import type { ClusterApi } from './clusters/clusterApi';
import { DemoCluster } from './clusters/demoCluster';
import { ExporterClient } from './clusters/exporterClient';
import { ConfigError, DEFAULT_EXPORTER, parseClusters } from './config';
import { renderPlainText } from './plainText';
import { parseQuestion } from './question';

export const ASK_HELP = `Usage: loopscope-slack-bot ask [--exporter NAME=URL]... [--demo] [--blocks] [--timeout-ms N] QUESTION...

Answers a question the way the Slack bot would, without Slack, and prints the answer text.
  --exporter NAME=URL  a cluster's exporter (repeatable; default LOOPSCOPE_EXPORTERS, else ${DEFAULT_EXPORTER},
                       else the bundled demo cluster when nothing answers there)
  --demo               answer from the bundled demo cluster
  --blocks             print the Slack message (Block Kit JSON and fallback text) instead
  --timeout-ms N       time to wait for an exporter (default 4000)

Examples:
  loopscope-slack-bot ask why is payments timing out
  loopscope-slack-bot ask "why does checkout time out calling payments"
  loopscope-slack-bot ask --exporter prod=http://127.0.0.1:9808 which services are at risk
`;

interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: Record<string, string | undefined>;
  /** Where to look for a local exporter when none is configured (tests move it). */
  defaultExporter?: string;
}

const processIo: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env };

/** Console mode: one question in, the answer text out. Exit 0 answered, 1 no cluster answered, 2 bad usage. */
export async function ask(argv: string[], given: Io = processIo): Promise<number> {
  // Answers quote names from clusters and the question itself: no raw control characters reach the terminal.
  const io: Io = {
    ...given,
    stdout: (s) => given.stdout(escapeControlCharacters(s)),
    stderr: (s) => given.stderr(escapeControlCharacters(s)),
  };
  const exporters: string[] = [];
  const words: string[] = [];
  let demo = false;
  let blocks = false;
  let timeoutMs = Number(io.env.LOOPSCOPE_EXPORTER_TIMEOUT_MS ?? 4000);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      io.stdout(ASK_HELP);
      return 0;
    } else if (a === '--exporter' || a.startsWith('--exporter=')) {
      const v = a.includes('=') && a.startsWith('--exporter=') ? a.slice('--exporter='.length) : argv[++i];
      if (!v) return usage(io, '--exporter needs NAME=URL');
      exporters.push(v);
    } else if (a === '--demo') demo = true;
    else if (a === '--blocks') blocks = true;
    else if (a === '--timeout-ms') {
      timeoutMs = Number(argv[++i]);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) return usage(io, '--timeout-ms needs a whole number of milliseconds');
    } else if (a.startsWith('--')) return usage(io, `unknown flag ${a}`);
    else words.push(a);
  }
  if (words.length === 0) return usage(io, 'give a question, for example: ask why is payments timing out');

  let clusters: ClusterApi[];
  try {
    clusters = await chooseClusters({
      demo,
      exporters,
      env: io.env,
      timeoutMs,
      say: io.stderr,
      local: io.defaultExporter ?? DEFAULT_EXPORTER,
    });
  } catch (err) {
    if (err instanceof ConfigError) return usage(io, err.message);
    throw err;
  }
  const question = parseQuestion(
    words.join(' '),
    clusters.map((c) => c.name),
  );
  const answer = await new Answerer(clusters, { dashboardUrl: io.env.LOOPSCOPE_DASHBOARD_URL }).answer(question);
  io.stdout(blocks ? `${JSON.stringify(renderBlocks(answer), null, 2)}\n` : renderPlainText(answer));
  return answer.kind === 'notice' && answer.tone === 'error' && answer.unavailable.length ? 1 : 0;
}

async function chooseClusters(o: {
  demo: boolean;
  exporters: string[];
  env: Io['env'];
  timeoutMs: number;
  say: (s: string) => void;
  local: string;
}): Promise<ClusterApi[]> {
  if (o.demo) return [new DemoCluster()];
  const configured = o.exporters.length ? o.exporters.join(',') : o.env.LOOPSCOPE_EXPORTERS?.trim();
  if (configured)
    return parseClusters(configured, o.exporters.length ? '--exporter' : 'LOOPSCOPE_EXPORTERS').map(
      (c) => new ExporterClient(c.name, c.url, o.timeoutMs, undefined, process.env.LOOPSCOPE_EXPORTER_TOKEN?.trim() || undefined),
    );
  // Nothing configured: the local exporter if one runs, else the demo cluster, so it can be tried at once.
  try {
    const res = await fetch(`${o.local}/healthz`, { signal: AbortSignal.timeout(1000) });
    if (res.ok)
      return [new ExporterClient('default', o.local, o.timeoutMs, undefined, process.env.LOOPSCOPE_EXPORTER_TOKEN?.trim() || undefined)];
  } catch {
    // fall through to the demo
  }
  o.say(`no exporter answers at ${o.local}; answering from the bundled demo cluster (give --exporter NAME=URL to ask a real one)\n`);
  return [new DemoCluster()];
}

function usage(io: Io, message: string): number {
  io.stderr(`loopscope-slack-bot ask: ${message}\n(see loopscope-slack-bot ask --help)\n`);
  return 2;
}
