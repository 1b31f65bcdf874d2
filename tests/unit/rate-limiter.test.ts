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

  it('is off at 0', () => {
    const limiter = new RateLimiter(0);
    expect(Array.from({ length: 100 }, () => limiter.take('k')).every(Boolean)).toBe(true);
  });
});
