import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Who may read the evidence endpoint. A bearer token is checked by one of:
 *
 * - TokenReview (default in a cluster): the caller sends its ServiceAccount token (the exporter's),
 *   the agent asks the API server who it is (`authentication.k8s.io/v1` TokenReview) and accepts
 *   only the allowed usernames. Chosen over mTLS because every pod already has a projected,
 *   rotated, revocable token and the API server is already the cluster's identity authority: no CA
 *   to run, no certificates to distribute to every node and rotate. The price is one API call per
 *   new token, cached by the token's SHA-256 (never the token itself) for a minute.
 * - A static token file (`--token-file`), for nodes without API access and for tests.
 */
export type AuthResult = { ok: true; user: string } | { ok: false; status: 401 | 403 | 503; reason: string };

export interface Authenticator {
  readonly mode: string;
  authenticate(token: string): Promise<AuthResult>;
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export class StaticTokenAuthenticator implements Authenticator {
  readonly mode = 'static-token';
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = tokenDigest(token);
  }

  async authenticate(token: string): Promise<AuthResult> {
    // Compare digests: constant time, and the lengths always match.
    return timingSafeEqual(tokenDigest(token), this.digest)
      ? { ok: true, user: 'static-token' }
      : { ok: false, status: 401, reason: 'token does not match' };
  }
}

/** The Authorization header's bearer token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S{1,8192})\s*$/i.exec(header ?? '');
  return m?.[1];
}
