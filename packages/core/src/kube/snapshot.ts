import type { KubeObject } from './objects';
import { InputProblem } from './problems';

/** One object read from a snapshot, with where it came from (for error messages). */
export interface SourcedObject {
  object: KubeObject;
  /** File name (or "-" for stdin, or a caller's label). */
  source: string;
  /** Index of the object in its file's `items` (or 0 for a single object). */
  index: number;
}

export interface SnapshotText {
  /** Shown in messages: a file path, "-" or a label. */
  name: string;
  text: string;
}

/** Parses one snapshot file; never throws. Bad JSON loses the file, not the run. */
export function parseSnapshotText(input: SnapshotText, problems: InputProblem[]): SourcedObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.text);
  } catch (err) {
    problems.push({
      source: input.name,
      message: `not valid JSON (${describeJsonError(err, input.text)}); expected the output of \`kubectl get … -o json\``,
    });
    return [];
  }
  return flattenSnapshot(parsed, input.name, problems);
}

/** Accepts a List (`kubectl get a,b -o json`), an array of Lists/objects, or a single object. */
export function flattenSnapshot(parsed: unknown, source: string, problems: InputProblem[]): SourcedObject[] {
  const out: SourcedObject[] = [];
  const visit = (value: unknown, index: number): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, i));
      return;
    }
    if (value === null || typeof value !== 'object') {
      problems.push({ source, item: index, message: `item ${index} is ${value === null ? 'null' : typeof value}, not a Kubernetes object; skipped` });
      return;
    }
    const obj = value as KubeObject;
    if (Array.isArray((obj as { items?: unknown }).items) && (typeof obj.kind !== 'string' || obj.kind.endsWith('List'))) {
      const items = (obj as { items: unknown[] }).items;
      // A typed List (`NodeList`, `PodList`, … as `kubectl get --raw` returns it) omits each item's kind.
      const itemKind = typeof obj.kind === 'string' && obj.kind.length > 4 && obj.kind.endsWith('List') ? obj.kind.slice(0, -4) : undefined;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          problems.push({ source, item: i, message: `item ${i} is not a Kubernetes object; skipped` });
          continue;
        }
        const object = itemKind !== undefined && (item as KubeObject).kind === undefined ? { ...(item as KubeObject), kind: itemKind } : (item as KubeObject);
        out.push({ object, source, index: i });
      }
      return;
    }
    out.push({ object: obj, source, index });
  };
  visit(parsed, 0);
  if (out.length === 0 && problems.every((p) => p.source !== source)) {
    problems.push({ source, message: 'holds no Kubernetes objects (an empty List?)' });
  }
  return out;
}

function describeJsonError(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const pos = /position (\d+)/.exec(message);
  if (!pos) return message;
  const offset = Number(pos[1]);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${offset - lineStart + 1}`;
}
