import { readFileSync, statSync, unwatchFile, watchFile } from 'node:fs';
import { flattenSnapshot, type InputProblem, type KubeObject } from '@loopscope/core';
import { snapshotFiles, type Logger } from '@loopscope/core/node';
import type { ClusterSource, ObjectSink, SourceHealth } from './types';

/**
 * A snapshot file or directory of kubectl JSON (the CLI's `--snapshot`), re-read when it changes.
 * A change that leaves the snapshot unreadable keeps the last good objects and reports the error.
 */
export class SnapshotSource implements ClusterSource {
  readonly description: string;
  private watched: string[] = [];
  private lastMtime = 0;
  private lastKinds = new Set<string>();

  constructor(
    private readonly path: string,
    private readonly options: { pollMs?: number; log?: Logger } = {},
  ) {
    this.description = `snapshot ${path}`;
  }

  /** Newest modification time of the snapshot's files (the input's age comes from it). */
  get modifiedAt(): number {
    return this.lastMtime;
  }

  async start(sink: ObjectSink, health: SourceHealth): Promise<void> {
    this.load(sink, health, true);
    const pollMs = this.options.pollMs ?? 2000;
    const files = this.files();
    this.watched = [this.path, ...files];
    for (const f of this.watched) watchFile(f, { interval: pollMs, persistent: false }, () => this.load(sink, health, false));
  }

  async stop(): Promise<void> {
    for (const f of this.watched) unwatchFile(f);
    this.watched = [];
  }

  private files(): string[] {
    return snapshotFiles(this.path);
  }

  private load(sink: ObjectSink, health: SourceHealth, first: boolean): void {
    let files: string[];
    try {
      files = this.files();
    } catch (err) {
      const message = `${(err as Error).message}; keeping the last good snapshot`;
      health.watchError('snapshot', message);
      if (first) throw new Error(message);
      return;
    }
    const problems: InputProblem[] = [];
    const byKind = new Map<string, KubeObject[]>();
    let mtime = 0;
    for (const f of files) {
      let parsed: unknown;
      try {
        const text = readFileSync(f, 'utf8');
        mtime = Math.max(mtime, statSync(f).mtimeMs);
        parsed = JSON.parse(text);
      } catch (err) {
        // A file caught half-written, or broken: keep everything that was good.
        health.watchError(
          'snapshot',
          `${f}: ${err instanceof SyntaxError ? 'not valid JSON' : ((err as NodeJS.ErrnoException).code ?? 'unreadable')}; keeping the last good snapshot`,
        );
        if (first) throw new Error(`${f}: not a readable kubectl JSON snapshot`);
        return;
      }
      for (const o of flattenSnapshot(parsed, f, problems)) {
        const kind = o.object.kind;
        if (typeof kind !== 'string') continue;
        let list = byKind.get(kind);
        if (!list) byKind.set(kind, (list = []));
        list.push(o.object);
      }
    }
    for (const p of problems) health.objectSkipped('snapshot', `${p.source}: ${p.message}`);
    this.lastMtime = mtime;
    // Kinds are passed as they are (the engine maps resources and kinds alike); a kind that is no
    // longer in the snapshot is emptied.
    for (const kind of this.lastKinds) if (!byKind.has(kind)) sink.replace(kind as never, []);
    for (const [kind, list] of byKind) sink.replace(kind as never, list);
    this.lastKinds = new Set(byKind.keys());
    health.synced('snapshot');
    if (!first)
      this.options.log?.(
        'info',
        `snapshot ${this.path} changed: reloaded ${[...byKind.values()].reduce((a, l) => a + l.length, 0)} objects`,
      );
  }
}
