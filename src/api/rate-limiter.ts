/**
 * A token bucket per key, in memory: `perMinute` requests a minute with bursts up to the same
 * number. Good for one process; several API processes would each allow this much.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  /** True when the request may go ahead. */
  take(key: string): boolean {
    if (this.perMinute === 0) return true;
    const bucket = this.refilled(key);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** True when `key` has a token now; takes none (a check before work that may then cost one). */
  has(key: string): boolean {
    return this.perMinute === 0 || this.refilled(key).tokens >= 1;
  }

  /** Whole seconds until `key` has a token again; 0 when it has one. */
  retryAfterSeconds(key: string): number {
    if (this.perMinute === 0) return 0;
    const missing = 1 - this.refilled(key).tokens;
    return missing <= 0 ? 0 : Math.ceil((missing / this.perMinute) * 60);
  }

  private refilled(key: string): { tokens: number; at: number } {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.at) / 60_000) * this.perMinute);
    bucket.at = now;
    if (this.buckets.size > 10_000) this.prune(now);
    this.buckets.set(key, bucket);
    return bucket;
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (now - bucket.at > 60_000) this.buckets.delete(key);
  }
}
