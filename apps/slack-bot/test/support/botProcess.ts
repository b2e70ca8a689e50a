import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOT_TOKEN, SIGNING_SECRET } from './runningBot';
import type { SlackStandIn } from './slackStandIn';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface BotProcess {
  url: string;
  child: ChildProcess;
  log: () => string;
  /** Peak resident memory so far (VmHWM), in bytes. */
  peakRss: () => number;
  stop(): Promise<number | null>;
}

/** The built bot as its own process (`serve`, HTTP mode), as it runs in a pod: load and memory are its own. */
export async function startBotProcess(slack: SlackStandIn, env: Record<string, string>): Promise<BotProcess> {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `${slack.url}/api/`,
      PORT: '0',
      LOOPSCOPE_LISTEN_ADDRESS: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bot not listening after 30 s:\n${log}`)), 30_000);
    const check = (): void => {
      const m = /listening on (http:\/\/[\d.]+:\d+)\//.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bot exited with ${code}:\n${log}`));
    });
  });
  return {
    url,
    child,
    log: () => log,
    peakRss: () => {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : NaN;
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
