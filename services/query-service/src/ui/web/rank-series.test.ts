import { describe, expect, it } from 'vitest';
import type { RankBucketsResponse } from './api-types.ts';
import { rankChartSeries } from './rank-series.ts';

const res: RankBucketsResponse = {
  key: 'loss',
  ranks: [
    { rank: -1, buckets: [{ bucket: 0, first_step: 0, last_step: 9, min: 1, max: 2, mean: 1.5, points: 10 }] },
    {
      rank: 0,
      buckets: [
        { bucket: 0, first_step: 0, last_step: 9, min: 0.5, max: 3, mean: 2, points: 10 },
        { bucket: 1, first_step: 10, last_step: 12, min: 'NaN', max: 'NaN', mean: 'NaN', points: 3 },
      ],
    },
    { rank: 1, buckets: [{ bucket: 1, first_step: 11, last_step: 19, min: 4, max: 'Infinity', mean: 5, points: 9 }] },
  ],
};
const color = (i: number) => `c${i}`;

describe('rankChartSeries', () => {
  it('split: one series per rank, its buckets as they came', () => {
    const s = rankChartSeries(res, 'split', color);
    expect(s.map((x) => x.label)).toEqual(['no rank', 'rank 0', 'rank 1']);
    expect(Array.from(s[1]!.xFirst)).toEqual([0, 10]);
    expect(Array.from(s[1]!.line)).toEqual([2, NaN]);
    expect(Array.from(s[2]!.max)).toEqual([Infinity]);
  });

  it('band: per bucket the lowest and highest rank value and the mean of the ranks’ means, NaN left out', () => {
    const [band, ...rest] = rankChartSeries(res, 'band', color);
    expect(rest).toEqual([]);
    expect(band!.label).toBe('3 ranks: min–max, mean');
    expect(Array.from(band!.xFirst)).toEqual([0, 10]);
    expect(Array.from(band!.xLast)).toEqual([9, 19]);
    expect(Array.from(band!.min)).toEqual([0.5, 4]);
    expect(Array.from(band!.max)).toEqual([3, Infinity]);
    expect(Array.from(band!.line)).toEqual([1.75, 5]);
  });

  it('band of nothing is no series', () => {
    expect(rankChartSeries({ key: 'k', ranks: [] }, 'band', color)).toEqual([]);
  });
});
