import { RateLimiter } from '../../src/api/rate-limiter';

describe('RateLimiter', () => {
  it('allows the per-minute budget, refuses the next, and refills over time', () => {
    let now = 0;
    const limiter = new RateLimiter(3, () => now);
    expect([1, 2, 3].map(() => limiter.take('k'))).toEqual([true, true, true]);
    expect(limiter.take('k')).toBe(false);
    expect(limiter.take('other')).toBe(true);
    now += 20_000; // a third of a minute: one token back
    expect(limiter.take('k')).toBe(true);
    expect(limiter.take('k')).toBe(false);
  });

  it('tells whether a token is there without taking it, and how long until the next one', () => {
    let now = 0;
    const limiter = new RateLimiter(3, () => now);
    expect(limiter.has('k')).toBe(true);
    expect(limiter.retryAfterSeconds('k')).toBe(0);
    [1, 2, 3].forEach(() => limiter.take('k'));
    expect(limiter.has('k')).toBe(false);
    expect(limiter.retryAfterSeconds('k')).toBe(20); // one token every 20 s
    now += 15_000;
    expect(limiter.retryAfterSeconds('k')).toBe(5);
    expect(limiter.has('k')).toBe(false);
    now += 5_000;
    expect(limiter.has('k')).toBe(true);
    expect(limiter.take('k')).toBe(true);
  });

  it('is off at 0', () => {
    const limiter = new RateLimiter(0);
    expect(Array.from({ length: 100 }, () => limiter.take('k')).every(Boolean)).toBe(true);
  });
});
