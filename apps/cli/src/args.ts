import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io';

/** `util.parseArgs`, strict, with its errors turned into usage errors naming the command. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/, '');
    throw new UsageError(`${command}: ${message} (see \`loopscope ${command} --help\`)`);
  }
}

export function formatFlag(command: string, value: string | undefined, allowed: readonly string[], fallback: string): string {
  const v = value ?? fallback;
  if (!allowed.includes(v)) throw new UsageError(`${command}: --format ${v}: expected one of ${allowed.join(', ')}`);
  return v;
}
