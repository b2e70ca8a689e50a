import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The JSON API's bearer token (RFC 6750 `Authorization: Bearer …`), which the Slack bot and the
 * Grafana panel's proxy send. Compared as SHA-256 digests in constant time: neither the token's
 * length nor a prefix leaks through timing.
 */
export class ApiToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = sha256(token);
  }

  /** Why the request is refused, or undefined when it carries the token. Never echoes what it got. */
  refusal(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization;
    if (!header) return 'this API needs a bearer token (Authorization: Bearer <token>; see the exporter README, "Securing the API")';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return 'the Authorization header is not "Bearer <token>"';
    return timingSafeEqual(sha256(m[1]!), this.digest) ? undefined : 'the bearer token is not the one this exporter was given';
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
