import { describe, expect, it } from 'vitest';
import { bucketIndex, planBuckets } from './series-plan.ts';

describe('planBuckets', () => {
  it('reads short spans from the raw points', () => {
    expect(planBuckets('step', 0, 999, 1000)).toEqual({ width: 1, granularity: 1 });
    expect(planBuckets('step', 0, 9_999, 1000)).toEqual({ width: 10, granularity: 1 });
  });

  it('rounds the width up to a multiple of the coarsest level not wider than it', () => {
    // 5M steps into 1000 buckets: width 5,000 -> level 1024, width 5,120, 977 buckets.
    expect(planBuckets('step', 0, 4_999_999, 1000)).toEqual({ width: 5120, granularity: 1024 });
    // 10M steps: width 10,000 -> the 16,384 level is less than twice as wide: 611 buckets.
    expect(planBuckets('step', 0, 9_999_999, 1000)).toEqual({ width: 16_384, granularity: 16_384 });
    expect(planBuckets('step', 0, 99_999, 1000)).toEqual({ width: 128, granularity: 64 });
  });

  it('takes the next level when it is at most twice the width', () => {
    // One hour of wall time: width 3602 ms -> the 4 s level (901 buckets) instead of every raw point.
    expect(planBuckets('time', 1_700_000_000_000, 1_700_000_000_000 + 3_600_000, 1000)).toEqual({ width: 4000, granularity: 4000 });
    expect(planBuckets('step', 0, 39_999, 1000)).toEqual({ width: 64, granularity: 64 });
    // 1M steps: width 1000 -> the 1024 level, 977 buckets from 977 rollup rows.
    expect(planBuckets('step', 0, 999_999, 1000)).toEqual({ width: 1024, granularity: 1024 });
  });

  it('never returns more buckets than asked, also for unaligned and negative ranges', () => {
    for (const [lo, hi, b] of [
      [5, 1_000_004, 1000],
      [-12_345, 987_654, 333],
      [17, 17, 1],
      [1_699_999_999_999, 1_700_086_400_000, 1000],
    ] as const) {
      for (const axis of ['step', 'time'] as const) {
        const { width, granularity } = planBuckets(axis, lo, hi, b);
        expect(width % granularity).toBe(0);
        expect(bucketIndex(hi, width) - bucketIndex(lo, width) + 1).toBeLessThanOrEqual(b);
      }
    }
  });

  it('floors negative x like the SQL', () => {
    expect(bucketIndex(-1, 64)).toBe(-1);
    expect(bucketIndex(-64, 64)).toBe(-1);
    expect(bucketIndex(-65, 64)).toBe(-2);
    expect(bucketIndex(63, 64)).toBe(0);
  });
});
