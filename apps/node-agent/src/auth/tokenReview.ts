import type * as k8s from '@kubernetes/client-node';
import { describeKubeError, type ClientNode } from '../kube/client';
import { tokenDigest, type Authenticator, type AuthResult } from './credential';

const CACHE_MS = 60_000;
const DENY_CACHE_MS = 10_000;
const MAX_CACHE = 1000;

/** Bearer tokens checked with the API server's TokenReview; see credential.ts for why. */
export class TokenReviewAuthenticator implements Authenticator {
  readonly mode = 'tokenreview';
  private readonly api: k8s.AuthenticationV1Api;
  private readonly cache = new Map<string, { result: AuthResult; until: number }>();

  constructor(
    client: ClientNode,
    config: k8s.KubeConfig,
    private readonly allowedUsers: string[],
    private readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void,
  ) {
    this.api = config.makeApiClient(client.AuthenticationV1Api);
  }

  async authenticate(token: string): Promise<AuthResult> {
    const key = tokenDigest(token).toString('hex');
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.result;
    let result: AuthResult;
    let review: k8s.V1TokenReview;
    try {
      review = await this.api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
    } catch (err) {
      // Not cached: the API server may be back on the next request.
      this.log('warn', `TokenReview failed (${describeKubeError(err)}); refusing the request`);
      return { ok: false, status: 503, reason: 'cannot verify the token now (TokenReview failed)' };
    }
    const user = review.status?.user?.username;
    if (!review.status?.authenticated || !user) result = { ok: false, status: 401, reason: 'token not authenticated by the API server' };
    else if (!this.allowedUsers.includes(user)) result = { ok: false, status: 403, reason: `${user} is not allowed (--allow-user)` };
    else result = { ok: true, user };
    if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { result, until: now + (result.ok ? CACHE_MS : DENY_CACHE_MS) });
    return result;
  }
}
