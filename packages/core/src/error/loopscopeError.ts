/**
 * The one error type core throws for a problem a user can meet (bad input, a target that does not
 * exist, a change that cannot apply). `code` is stable: each app maps it once, to an exit code (CLI)
 * or an HTTP status (exporter). Anything else thrown is a bug.
 */
export type LoopscopeErrorCode =
  /** A file, folder or stream could not be read (missing, not a directory, permissions). */
  | 'INPUT_UNREADABLE'
  /** Input was read but is not what it must be (not JSON, no usable objects, bad field). */
  | 'INPUT_INVALID'
  /** A what-if change that is malformed or cannot apply to this cluster. */
  | 'CHANGE_INVALID'
  /** A named Service, workload, pod or node is not in the cluster. */
  | 'NOT_FOUND'
  /** A name matches more than one thing; the message lists them. */
  | 'AMBIGUOUS';

export class LoopscopeError extends Error {
  constructor(
    readonly code: LoopscopeErrorCode,
    message: string,
    /** Close names to offer, for NOT_FOUND and AMBIGUOUS. */
    readonly suggestions: readonly string[] = [],
  ) {
    super(message);
    this.name = 'LoopscopeError';
  }
}

export function isLoopscopeError(err: unknown): err is LoopscopeError {
  return err instanceof LoopscopeError;
}
