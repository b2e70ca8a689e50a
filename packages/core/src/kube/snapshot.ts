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

/** Arrays in arrays a snapshot may hold (an array of arrays of Lists at most). */
export const MAX_ARRAY_NESTING = 4;

/** Accepts a List (`kubectl get a,b -o json`), an array of Lists/objects, or a single object. */
export function flattenSnapshot(parsed: unknown, source: string, problems: InputProblem[]): SourcedObject[] {
  const out: SourcedObject[] = [];
  // A loop over a stack, not recursion: 10,000 nested arrays must not overflow the call stack.
  // Arrays nest at most MAX_ARRAY_NESTING deep (an array of Lists is 2); deeper is not kubectl output.
  const stack: Array<{ value: unknown; index: number; depth: number }> = [{ value: parsed, index: 0, depth: 0 }];
  while (stack.length > 0) {
    const { value, index, depth } = stack.pop() as { value: unknown; index: number; depth: number };
    if (Array.isArray(value)) {
      if (depth >= MAX_ARRAY_NESTING) {
        problems.push({
          source,
          item: index,
          message: `item ${index} nests arrays more than ${MAX_ARRAY_NESTING} deep, which no kubectl output does; skipped`,
        });
        continue;
      }
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], index: i, depth: depth + 1 });
      continue;
    }
    if (value === null || typeof value !== 'object') {
      problems.push({
        source,
        item: index,
        message: `item ${index} is ${value === null ? 'null' : typeof value}, not a Kubernetes object; skipped`,
      });
      continue;
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
        if (!shallowEnough(item, source, i, problems)) continue;
        const object =
          itemKind !== undefined && (item as KubeObject).kind === undefined
            ? { ...(item as KubeObject), kind: itemKind }
            : (item as KubeObject);
        out.push({ object, source, index: i });
      }
      continue;
    }
    if (shallowEnough(obj, source, index, problems)) out.push({ object: obj, source, index });
  }
  if (out.length === 0 && problems.every((p) => p.source !== source)) {
    problems.push({ source, message: 'holds no Kubernetes objects (an empty List?)' });
  }
  return out;
}

/** How deep one object may nest (kubectl objects, managedFields included, stay under 30). */
export const MAX_OBJECT_DEPTH = 100;

/**
 * False (and a problem) when an object nests deeper than MAX_OBJECT_DEPTH: later code (and
 * JSON.stringify in messages) recurses, and 10,000 levels would overflow its stack.
 */
function shallowEnough(obj: object, source: string, index: number, problems: InputProblem[]): boolean {
  if (!deeperThanLimit(obj, 1)) return true;
  problems.push({
    source,
    item: index,
    message: `item ${index} nests more than ${MAX_OBJECT_DEPTH} levels deep, which no Kubernetes object does; skipped`,
  });
  return false;
}

/**
 * Recursion is safe here: it stops at MAX_OBJECT_DEPTH levels. It allocates nothing per value (no
 * work list, no Object.values), because it visits every value of a 150,000-pod snapshot.
 */
function deeperThanLimit(value: object, depth: number): boolean {
  if (depth > MAX_OBJECT_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const child: unknown = value[i];
      if (child !== null && typeof child === 'object' && deeperThanLimit(child, depth + 1)) return true;
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const child = record[key];
    if (child !== null && typeof child === 'object' && deeperThanLimit(child, depth + 1)) return true;
  }
  return false;
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
