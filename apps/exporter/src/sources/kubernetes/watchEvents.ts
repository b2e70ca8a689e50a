/**
 * A watch response body, one JSON event per line
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes),
 * read defensively: lines are capped in bytes (a line past the cap is dropped as it streams, never
 * buffered), and each line is checked for the shape the source relies on before it is used. A line
 * that fails is one skipped event with a fixed reason (never its content); the watch goes on.
 */

export type Raw = Record<string, unknown>;

export function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A Status carried by an ERROR event (410 Gone, usually). */
export interface WatchStatus {
  code?: number;
  reason?: string;
}

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Raw; resourceVersion?: string }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'ERROR'; status: WatchStatus };

/** Why a line was not used. */
export interface SkippedEvent {
  skip: string;
}

const OBJECT_EVENTS = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * One line of a watch of objects of `kind`: a usable event, or why not. Only what the source and
 * the model read is checked here (type, metadata.name/namespace/resourceVersion, kind); the
 * model validates the rest of the object itself.
 */
export function parseWatchEvent(line: string, kind: string): WatchEvent | SkippedEvent {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return { skip: 'watch event is not JSON' };
  }
  if (!isRecord(data)) return { skip: 'watch event is not a JSON object' };
  const type = data.type;
  const object = data.object;
  if (typeof type !== 'string') return { skip: 'watch event without a type' };
  if (type === 'BOOKMARK') {
    const meta = isRecord(object) ? object.metadata : undefined;
    const rv = isRecord(meta) ? meta.resourceVersion : undefined;
    if (typeof rv !== 'string' || rv === '') return { skip: 'BOOKMARK event without metadata.resourceVersion' };
    return { type, resourceVersion: rv };
  }
  if (type === 'ERROR') {
    if (!isRecord(object)) return { skip: 'ERROR event without a Status object' };
    const code = typeof object.code === 'number' && Number.isInteger(object.code) ? object.code : undefined;
    const reason = typeof object.reason === 'string' && /^[A-Za-z]{1,64}$/.test(object.reason) ? object.reason : undefined;
    if (code === undefined && reason === undefined) return { skip: 'ERROR event without a code or reason' };
    return { type, status: { code, reason } };
  }
  if (!OBJECT_EVENTS.has(type)) return { skip: 'watch event of an unknown type' };
  if (!isRecord(object)) return { skip: `${type} event without an object` };
  const meta = object.metadata;
  if (!isRecord(meta)) return { skip: `${type} event object without metadata` };
  if (typeof meta.name !== 'string' || meta.name === '') return { skip: `${type} event object without metadata.name` };
  if (meta.namespace !== undefined && typeof meta.namespace !== 'string')
    return { skip: `${type} event object with a non-string metadata.namespace` };
  if (object.kind !== undefined && object.kind !== kind) return { skip: `${type} event object of another kind than ${kind}` };
  const rv = meta.resourceVersion;
  if (rv !== undefined && typeof rv !== 'string') return { skip: `${type} event object with a non-string metadata.resourceVersion` };
  const problem = metadataProblem(meta);
  if (problem) return { skip: `${type} event object with ${problem}` };
  return { type: type as 'ADDED' | 'MODIFIED' | 'DELETED', object, resourceVersion: rv === '' ? undefined : rv };
}

/**
 * What is wrong with an object's metadata beyond its name, if anything: the fields the model reads
 * (owners, labels, annotations, uid, timestamps) must have the types the API server gives them. A
 * numeric owner name failed every later analysis of the cluster (the exporter kept its last good
 * one forever); such an object is skipped at the boundary instead. Fixed reasons, never values.
 */
export function metadataProblem(meta: Raw): string | undefined {
  for (const field of ['uid', 'generateName', 'creationTimestamp', 'deletionTimestamp'] as const) {
    if (meta[field] !== undefined && meta[field] !== null && typeof meta[field] !== 'string') return `a non-string metadata.${field}`;
  }
  for (const field of ['labels', 'annotations'] as const) {
    const map = meta[field];
    if (map === undefined || map === null) continue;
    if (!isRecord(map)) return `a metadata.${field} that is not a map`;
    for (const k in map) if (Object.hasOwn(map, k) && typeof map[k] !== 'string') return `a non-string value in metadata.${field}`;
  }
  const owners = meta.ownerReferences;
  if (owners !== undefined && owners !== null) {
    if (!Array.isArray(owners)) return 'a metadata.ownerReferences that is not a list';
    for (const o of owners) {
      if (!isRecord(o) || typeof o.kind !== 'string' || typeof o.name !== 'string')
        return 'an ownerReference without a string kind and name';
      if (o.controller !== undefined && o.controller !== null && typeof o.controller !== 'boolean')
        return 'an ownerReference with a non-boolean controller';
    }
  }
  return undefined;
}

/**
 * Splits a byte stream into lines of at most `maxLineBytes`. A longer line is reported once
 * (`onOversized`) as soon as it passes the cap, and its remaining bytes are dropped up to the next
 * newline: memory stays at the cap whatever the server sends.
 */
export class WatchLines {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dropping = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.dropping) {
        const piece = chunk.subarray(start, end);
        if (this.pendingBytes + piece.length > this.maxLineBytes) {
          this.pending = [];
          this.pendingBytes = 0;
          this.dropping = true;
          this.onOversized();
        } else if (piece.length > 0) {
          this.pending.push(piece);
          this.pendingBytes += piece.length;
        }
      }
      if (nl === -1) return;
      if (this.dropping) this.dropping = false;
      else this.flush();
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without its newline is still a line (as readline has it). */
  end(): void {
    if (!this.dropping) this.flush();
    this.dropping = false;
  }

  private flush(): void {
    if (this.pendingBytes === 0) {
      this.pending = [];
      return;
    }
    const line = Buffer.concat(this.pending, this.pendingBytes).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    if (line.trim() !== '') this.onLine(line);
  }
}
