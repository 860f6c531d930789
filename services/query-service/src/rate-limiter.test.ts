import { expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';

it('allows a burst, then the sustained rate, per caller, and says when to retry', () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSec: 10, burst: 5, now: () => now });
  for (let i = 0; i < 5; i++) expect(limiter.take('a').allowed).toBe(true);
  const refused = limiter.take('a');
  expect(refused).toEqual({ allowed: false, retryAfterSec: 1 });
  expect(limiter.take('b').allowed).toBe(true); // another caller has its own bucket
  now += 100; // one token back at 10/s
  expect(limiter.take('a').allowed).toBe(true);
  expect(limiter.take('a').allowed).toBe(false);
  now += 10_000;
  for (let i = 0; i < 5; i++) expect(limiter.take('a').allowed).toBe(true); // never more than the burst
  expect(limiter.take('a').allowed).toBe(false);
});

it('computes Retry-After from the refill rate', () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSec: 0.5, burst: 1, now: () => now });
  expect(limiter.take('x').allowed).toBe(true);
  expect(limiter.take('x').retryAfterSec).toBe(2);
});
