#!/usr/bin/env node
import { analyze } from './commands/analyze';
import { explain } from './commands/explain';
import { generate } from './commands/generate';
import { trace } from './commands/trace';
import { whatif } from './commands/whatif';
import { escapeControlCharacters, LoopscopeError } from '@loopscope/core';
import { exitCode } from './exitCode';
import { UsageError, type CliIO, type Command } from './io';

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  analyze: { run: analyze, summary: 'find every Service at risk of internal-LB loopback' },
  explain: { run: explain, summary: 'why is TARGET timing out: path, where, fixes, evidence' },
  whatif: { run: whatif, summary: 'the figures after a change (traffic policy, ipMode, kube-proxy build, …)' },
  trace: { run: trace, summary: "trace a packet through a node's iptables-save / ipset / addresses" },
  generate: { run: generate, summary: 'write a synthetic cluster snapshot of any size' },
};

export const HELP = `loopscope — find pods that time out calling a Service through its internal cloud LB

Usage: loopscope COMMAND [options]    (loopscope COMMAND --help for each)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

With no --snapshot, commands run on the bundled demo cluster.
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(HELP);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
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
    stdout: (t) => process.stdout.write(escapeControlCharacters(t)),
    stderr: (t) => process.stderr.write(escapeControlCharacters(t)),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

if (require.main === module) {
  run(process.argv.slice(2), processIO()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // A bug, not bad input: say so plainly, with the stack for the report.
      process.stderr.write(`loopscope: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\nPlease report this with the command you ran.\n`);
      process.exitCode = 3;
    },
  );
}
