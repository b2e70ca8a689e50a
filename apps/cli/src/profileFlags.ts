import { PROFILE_FLAG_OPTIONS, PROFILE_FLAGS_HELP, profileOverridesFromFlags, type ProfileOverrides } from '@loopscope/core';

/** The profile override flags shared by analyze, explain and whatif (the core's vocabulary). */
export const PROFILE_OPTIONS = PROFILE_FLAG_OPTIONS;
export const PROFILE_HELP = PROFILE_FLAGS_HELP;

/** Throws LoopscopeError INPUT_INVALID naming the flag (the CLI exits 2 with its message). */
export function profileOverrides(values: Record<string, unknown>): ProfileOverrides {
  return profileOverridesFromFlags(values);
}
