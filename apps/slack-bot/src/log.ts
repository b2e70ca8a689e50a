import { LogLevel, type Logger } from '@slack/bolt';
import { inspect } from 'node:util';

const ORDER: Record<LogLevel, number> = { [LogLevel.DEBUG]: 0, [LogLevel.INFO]: 1, [LogLevel.WARN]: 2, [LogLevel.ERROR]: 3 };

/**
 * One line per event on stderr (time, level, message), shared by our code and Bolt's. Every line
 * passes through `redact`: the tokens and the signing secret are replaced wherever they appear,
 * so a library that echoes a header or an error with a token in it cannot leak them.
 */
export class RedactingLogger implements Logger {
  private level: LogLevel;
  private name = 'loopscope-slack-bot';
  private readonly secrets: string[];

  constructor(
    secrets: Array<string | undefined>,
    level: LogLevel = LogLevel.INFO,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4).sort((a, b) => b.length - a.length);
    this.level = level;
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    // Slack token shapes, in case one we were not given shows up (a user pasting one, an error body).
    return out.replace(/\bx(?:ox[abprs]|app)-[A-Za-z0-9-]{6,}/g, '[redacted-token]');
  }

  private log(level: LogLevel, msg: unknown[]): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const text = msg
      .map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : inspect(m, { depth: 3, breakLength: Infinity })))
      .join(' ');
    this.write(`${new Date().toISOString()} ${level.padEnd(5)} ${escapeControls(this.redact(text))}\n`);
  }

  debug(...msg: unknown[]): void {
    this.log(LogLevel.DEBUG, msg);
  }
  info(...msg: unknown[]): void {
    this.log(LogLevel.INFO, msg);
  }
  warn(...msg: unknown[]): void {
    this.log(LogLevel.WARN, msg);
  }
  error(...msg: unknown[]): void {
    this.log(LogLevel.ERROR, msg);
  }
  setLevel(level: LogLevel): void {
    this.level = level;
  }
  getLevel(): LogLevel {
    return this.level;
  }
  setName(name: string): void {
    this.name = name;
  }
  getName(): string {
    return this.name;
  }
}

/**
 * One line, and no raw control character: a question's text reaches the log, and an escape sequence
 * there would act on whoever reads it in a terminal (or split a record in a log pipeline).
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
