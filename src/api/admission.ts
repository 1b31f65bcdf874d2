import type { AuthService, Principal } from '../domain/api-keys/auth.service';
import { AppError, ErrorCode } from '../domain/common/errors';
import { bearerSecret } from './auth-header';
import { graphQLError } from './errors';
import { RateLimiter } from './rate-limiter';

export interface AdmissionLimits {
  /** Requests per minute per API key (and for the platform key); 0: unlimited. */
  perKeyPerMinute: number;
  /** Per client address and minute: requests without a key, and, separately, failed key lookups; 0: unlimited. */
  perAddressPerMinute: number;
}

/**
 * Who is asking, and whether they may ask now: the same for HTTP requests, WebSocket connections
 * and each operation over a socket.
 *
 * A valid key spends its own budget. Work without a valid key is budgeted by client address, in
 * two buckets: requests without a key (cheap, but unbounded otherwise), and key lookups that found
 * nothing. An address whose failed lookups are spent gets no more lookups until the bucket
 * refills, even for a key that would have been valid: telling it apart would cost the very lookup
 * the limit is there to save. Key-less requests never block an address's keys.
 */
export class Admission {
  private readonly perKey: RateLimiter;
  private readonly keyless: RateLimiter;
  private readonly failedLookups: RateLimiter;

  constructor(private readonly auth: Pick<AuthService, 'authenticate'>, limits: AdmissionLimits, now?: () => number) {
    this.perKey = new RateLimiter(limits.perKeyPerMinute, now);
    this.keyless = new RateLimiter(limits.perAddressPerMinute, now);
    this.failedLookups = new RateLimiter(limits.perAddressPerMinute, now);
  }

  /** The principal of `authorization` (null without one); throws 401 or 429 GraphQL errors. */
  async admit(authorization: string | undefined, address: string): Promise<Principal | null> {
    let secret: string | undefined;
    try {
      secret = bearerSecret(authorization);
    } catch (malformed) {
      this.spend(this.keyless, address);
      throw malformed;
    }
    if (secret === undefined) {
      this.spend(this.keyless, address);
      return null;
    }
    if (!this.failedLookups.has(address)) throw this.limited(this.failedLookups, address, 'too many invalid API keys from this address');
    let principal: Principal;
    try {
      principal = await this.auth.authenticate(secret);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      this.failedLookups.take(address);
      throw graphQLError(error.code, error.message, 401);
    }
    const bucket = principal.kind === 'key' ? principal.keyId : 'platform';
    if (!this.perKey.take(bucket)) throw this.limited(this.perKey, bucket, 'too many requests for this key');
    return principal;
  }

  private spend(limiter: RateLimiter, address: string): void {
    if (!limiter.take(address)) throw this.limited(limiter, address, 'too many requests without an API key from this address');
  }

  private limited(limiter: RateLimiter, bucket: string, why: string) {
    const retryAfterSeconds = Math.max(1, limiter.retryAfterSeconds(bucket));
    return graphQLError(ErrorCode.RATE_LIMITED, `${why}; retry in ${retryAfterSeconds} s`, 429, { retryAfterSeconds },
      new Map([['retry-after', String(retryAfterSeconds)]]));
  }
}
