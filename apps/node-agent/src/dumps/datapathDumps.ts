import { chooseIptablesBackend, type BackendChoice } from './iptablesBackend';
import { runCommand, type CommandResult } from './command';

/**
 * The node's datapath dumps, refreshed on an interval: the same files `scripts/collect-node-dumps.sh`
 * collects by hand, under the names `@loopscope/core`'s `loadNodeDumps` takes. Every command only
 * reads (`-save`, `save`, `list`, `show`); nothing here writes a rule, a set or an address.
 */
export type DumpSource = 'iptablesSave' | 'ip6tablesSave' | 'ipset' | 'addr' | 'nftRuleset';

export const DUMP_SOURCES: DumpSource[] = ['iptablesSave', 'ip6tablesSave', 'ipset', 'addr', 'nftRuleset'];

export interface Dump {
  source: DumpSource;
  command: string;
  status: 'ok' | Extract<CommandResult, { ok: false }>['status'];
  /** The output of the last successful run (kept when a later run fails, with its time). */
  text?: string;
  /** When `text` was read (ms since the epoch). */
  collectedAt?: number;
  /** When the command was last run, successfully or not. */
  attemptedAt?: number;
  durationMs?: number;
  error?: string;
}

function commandFor(source: DumpSource, backend: BackendChoice | undefined): [string, string[]] {
  const suffix = backend && !backend.reason.startsWith('neither') ? `-${backend.backend}` : '';
  switch (source) {
    case 'iptablesSave':
      return [`iptables${suffix}-save`, []];
    case 'ip6tablesSave':
      return [`ip6tables${suffix}-save`, []];
    case 'ipset':
      return ['ipset', ['save']];
    case 'addr':
      return ['ip', ['-o', 'addr', 'show']];
    case 'nftRuleset':
      return ['nft', ['list', 'ruleset']];
  }
}

export class DatapathDumps {
  readonly dumps = new Map<DumpSource, Dump>();
  backend?: BackendChoice;
  refreshes = 0;
  private running?: Promise<void>;

  constructor(private readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void) {}

  /** Runs every source once (concurrent refreshes share one run). */
  refresh(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    const previous = this.backend?.backend;
    this.backend = await chooseIptablesBackend();
    if (previous !== this.backend.backend) this.log('info', `iptables backend: ${this.backend.backend} (${this.backend.reason})`);
    for (const source of DUMP_SOURCES) {
      const [cmd, args] = commandFor(source, this.backend);
      const r = await runCommand(cmd, args);
      const before = this.dumps.get(source);
      const now = Date.now();
      const command = [cmd, ...args].join(' ');
      if (r.ok) {
        this.dumps.set(source, {
          source,
          command,
          status: 'ok',
          text: r.stdout,
          collectedAt: now,
          attemptedAt: now,
          durationMs: r.durationMs,
        });
      } else {
        // Keep the last good text with its own time: stale but labelled beats nothing.
        this.dumps.set(source, {
          source,
          command,
          status: r.status,
          text: before?.text,
          collectedAt: before?.collectedAt,
          attemptedAt: now,
          durationMs: r.durationMs,
          error: r.error,
        });
        if (before?.status !== r.status) this.log('warn', `dump ${source}: ${r.error}`);
      }
    }
    this.refreshes++;
  }
}
