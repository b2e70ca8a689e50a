import type { LoopscopeError, LoopscopeErrorCode } from '@loopscope/core';
import type { UsageError } from './io';

/**
 * The CLI's exit codes, decided once: 0 ok; 2 anything the user can fix (usage, input, a target or
 * change that does not fit the cluster); 3 an internal error (a bug). A new error code must be
 * placed here (the Record makes the compiler ask).
 */
const EXIT_CODE: Record<LoopscopeErrorCode, number> = {
  INPUT_UNREADABLE: 2,
  INPUT_INVALID: 2,
  CHANGE_INVALID: 2,
  NOT_FOUND: 2,
  AMBIGUOUS: 2,
};

export function exitCode(err: UsageError | LoopscopeError): number {
  return 'code' in err ? EXIT_CODE[err.code] : 2;
}
