import { PROFILE_FLAG_OPTIONS, PROFILE_FLAGS_HELP, ProfileFlagError, profileOverridesFromFlags, type ProfileOverrides } from '@loopscope/core';
import { UsageError } from './io';

/** The profile override flags shared by analyze, explain and whatif (the core's vocabulary). */
export const PROFILE_OPTIONS = PROFILE_FLAG_OPTIONS;
export const PROFILE_HELP = PROFILE_FLAGS_HELP;

export function profileOverrides(values: Record<string, unknown>): ProfileOverrides {
  try {
    return profileOverridesFromFlags(values);
  } catch (err) {
    if (err instanceof ProfileFlagError) throw new UsageError(err.message);
    throw err;
  }
}
