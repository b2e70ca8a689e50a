/**
 * `-m comment --comment TEXT`. A comment never affects matching: whatever
 * follows `--comment` up to the next option is its text, quoted or not
 * (kube-proxy's restore input and upstream's own tests write
 * `--comment kubernetes service portals` without quotes).
 */

import { type MatchExtension } from './types';

export type CommentMatch = { kind: 'comment'; comment: string; text: string };

export const commentExtension: MatchExtension<CommentMatch> = {
  modules: ['comment'],
  kinds: ['comment'],
  options: { comment: 'rest' },
  parse(_module, options, text) {
    // Even a malformed comment (no text, an unknown option) only ever labels the rule.
    const comment = options.flatMap((o) => o.values).join(' ');
    return [{ kind: 'comment', comment, text }];
  },
  compile() {
    return null;
  },
};
