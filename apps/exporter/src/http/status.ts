import type { LoopscopeErrorCode } from '@loopscope/core';

/**
 * The HTTP status of each core error, decided once: what the caller sent is wrong → 400; the thing
 * it names is not in the cluster → 404; the name fits several → 409 (the body lists them).
 */
export const HTTP_STATUS: Record<LoopscopeErrorCode, number> = {
  INPUT_UNREADABLE: 400,
  INPUT_INVALID: 400,
  CHANGE_INVALID: 400,
  NOT_FOUND: 404,
  AMBIGUOUS: 409,
};
