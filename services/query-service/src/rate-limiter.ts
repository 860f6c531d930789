// Per-caller token buckets: each API token (or, when the API is open, each client address) may make `ratePerSec`
// requests per second with bursts up to `burst`. Over the limit: 429 with Retry-After. Pure, unit-tested.

export interface RateDecision {
  allowed: boolean;
  /** Seconds until one request is allowed again (when refused). */
  retryAfterSec: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerSec: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(opts: { ratePerSec: number; burst: number; now?: () => number }) {
    this.ratePerSec = opts.ratePerSec;
    this.burst = opts.burst;
    this.now = opts.now ?? Date.now;
  }

  take(caller: string): RateDecision {
    const now = this.now();
    const b = this.buckets.get(caller) ?? { tokens: this.burst, updatedMs: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.updatedMs) / 1000) * this.ratePerSec);
    b.updatedMs = now;
    this.buckets.set(caller, b);
    if (this.buckets.size > 100_000) this.evictFull(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSec: 0 };
    }
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerSec)) };
  }

  /** Buckets that have refilled completely carry no information: drop them so memory stays bounded. */
  private evictFull(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + ((now - b.updatedMs) / 1000) * this.ratePerSec >= this.burst) this.buckets.delete(k);
  }
}
