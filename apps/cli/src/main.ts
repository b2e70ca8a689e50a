#!/usr/bin/env node
import { analyze, ANALYZE_HELP } from './commands/analyze';
import { explain, EXPLAIN_HELP } from './commands/explain';
import { generate, GENERATE_HELP } from './commands/generate';
import { trace, TRACE_HELP } from './commands/trace';
import { whatif, WHATIF_HELP } from './commands/whatif';
import { completionScript } from './completion';
import { escapeControlCharacters, LoopscopeError } from '@loopscope/core';
import { readBounded } from '@loopscope/core/node';
import { exitCode } from './exitCode';
import { UsageError, type CliIO, type Command } from './io';
import { QUIET, terminalProgress } from './progress';
import { CHILD_ENV, PROGRESS_ENV, supervise } from './supervisor';

const COMPLETION_HELP = `Usage: loopscope completion bash|zsh

Prints the shell completion script (commands, flags, flag values, files, kubeconfig contexts):
  bash:  source <(loopscope completion bash)      (or save it in /etc/bash_completion.d/loopscope)
  zsh:   source <(loopscope completion zsh)       (or save it as _loopscope in a directory of $fpath)
`;

const COMMANDS: Record<string, { run: Command; summary: string; help: string }> = {
  analyze: { run: analyze, summary: 'find every Service at risk of internal-LB loopback', help: ANALYZE_HELP },
  explain: { run: explain, summary: 'why is TARGET timing out: path, where, fixes, evidence', help: EXPLAIN_HELP },
  whatif: { run: whatif, summary: 'the figures after a change (traffic policy, ipMode, kube-proxy build, …)', help: WHATIF_HELP },
  trace: { run: trace, summary: "trace a packet through a node's iptables-save / ipset / addresses", help: TRACE_HELP },
  generate: { run: generate, summary: 'write a synthetic cluster snapshot of any size', help: GENERATE_HELP },
  completion: { run: async (args, io) => completion(args, io), summary: 'print the bash or zsh completion script', help: COMPLETION_HELP },
};

function completion(args: string[], io: CliIO): number {
  if (args[0] === '--help' || args[0] === '-h') {
    io.stdout(COMPLETION_HELP);
    return 0;
  }
  if (args.length !== 1) throw new UsageError('completion: give bash or zsh (see `loopscope completion --help`)');
  io.stdout(completionScript(args[0], COMMANDS));
  return 0;
}

export const HELP = `loopscope — find pods that time out calling a Service through its internal cloud LB

Usage: loopscope COMMAND [options]    (loopscope COMMAND --help for each)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

Commands read the cluster of your kubeconfig's current context (--kubeconfig, --context, as
kubectl), or --snapshot files of kubectl JSON, or the bundled demo cluster with --demo.

Exit codes: 0 ok; 1 --fail-on-risk and a Service is at risk; 2 bad usage or input, or no cluster to
read; 3 an internal error (out of memory included).
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- package.json sits outside rootDir
    io.stdout(`${require('../package.json').version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof LoopscopeError) {
      io.stderr(`loopscope: ${err.message}\n`);
      return exitCode(err);
    }
    throw err;
  }
}

function processIO(): CliIO {
  // Names in the output come from snapshots and dumps: no raw control characters reach the terminal.
  return {
    stdout: (t) => writeStdout(escapeControlCharacters(t)),
    stderr: (t) => process.stderr.write(escapeControlCharacters(t)),
    readStdin: (label = 'standard input') => readBounded(process.stdin, label),
    // Progress is ours (no names from the input), with its own control sequences.
    progress:
      process.env[PROGRESS_ENV] === '1' || process.stderr.isTTY
        ? terminalProgress((t) => process.stderr.write(t), process.stderr.columns || 100)
        : QUIET,
    stdoutIsTTY: process.stdout.isTTY === true,
  };
}

/**
 * The reader went away (`loopscope analyze | head -1`): that is how pipes end, not an error, so
 * stop quietly with 0 instead of writing on into a closed pipe.
 */
function writeStdout(text: string): void {
  process.stdout.write(text);
}
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(0);
  process.stderr.write(`loopscope: cannot write the output (${err.code ?? err.message})\n`);
  process.exit(3);
}

async function work(argv: string[]): Promise<void> {
  process.stdout.on('error', onStdoutError);
  try {
    process.exitCode = await run(argv, processIO());
  } catch (err) {
    // A bug, not bad input: one line; the stack only when asked for (LOOPSCOPE_DEBUG=1).
    const detail = process.env.LOOPSCOPE_DEBUG === '1' && err instanceof Error ? `\n${err.stack}` : '';
    process.stderr.write(
      `loopscope: internal error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; please report this with the command you ran${detail}\n`,
    );
    process.exitCode = 3;
  }
}

/**
 * The process entry point (`loopscope`, `kubectl-loopscope`). The work runs in a child so that
 * out-of-memory (which no handler of the dying process sees) still ends in one line and exit 3.
 */
export function main(): void {
  if (process.env[CHILD_ENV] === '1') void work(process.argv.slice(2));
  else supervise(__filename, process.argv.slice(2));
}

if (require.main === module) main();
