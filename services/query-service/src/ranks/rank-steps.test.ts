import { describe, expect, it } from 'vitest';
import { summariseStep } from './rank-steps.ts';

describe('summariseStep', () => {
  it('summarises the ranks of a step: min, mean, max, which rank was lowest, highest and slowest', () => {
    const s = summariseStep(7, [
      { rank: 2, value: 3, timestampMs: 1000 },
      { rank: 0, value: 1, timestampMs: 1010 },
      { rank: 1, value: 5, timestampMs: 1250 },
    ]);
    expect(s).toEqual({
      step: 7,
      points: [{ rank: 0, value: 1, timestampMs: 1010 }, { rank: 1, value: 5, timestampMs: 1250 }, { rank: 2, value: 3, timestampMs: 1000 }],
      min: 1,
      mean: 3,
      max: 5,
      minRank: 0,
      maxRank: 1,
      slowestRank: 1,
      spreadMs: 250,
    });
  });

  it('keeps the latest point of a rank that logged a step twice', () => {
    const s = summariseStep(0, [{ rank: 0, value: 1, timestampMs: 5 }, { rank: 0, value: 9, timestampMs: 6 }]);
    expect(s.points).toEqual([{ rank: 0, value: 9, timestampMs: 6 }]);
    expect([s.min, s.max, s.mean]).toEqual([9, 9, 9]);
  });

  it('leaves NaN out of the statistics, NaN only when every value is', () => {
    const s = summariseStep(0, [{ rank: 0, value: NaN, timestampMs: 1 }, { rank: 1, value: 2, timestampMs: 1 }]);
    expect([s.min, s.mean, s.max, s.minRank, s.maxRank]).toEqual([2, 2, 2, 1, 1]);
    const all = summariseStep(0, [{ rank: 3, value: NaN, timestampMs: 1 }]);
    expect([all.min, all.mean, all.max, all.minRank]).toEqual([NaN, NaN, NaN, -1]);
  });
});
