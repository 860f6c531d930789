import { describe, expect, it } from 'vitest';
import { pixelColumns } from './pixel-columns.ts';

const ok = (v: number) => Number.isFinite(v);

describe('pixel columns', () => {
  it('keeps one column per bucket when buckets are wider than a pixel', () => {
    const c = pixelColumns({ xFirst: [0, 10, 20], xLast: [9, 19, 29], min: [1, 2, 3], max: [4, 5, 6], line: [2, 3, 4] }, (x) => x * 2, ok);
    expect(c.length).toBe(3);
    expect(Array.from(c.x0.subarray(0, 3))).toEqual([0, 20, 40]);
    expect(Array.from(c.max.subarray(0, 3))).toEqual([4, 5, 6]);
    expect(Array.from(c.first.subarray(0, 3))).toEqual([2, 3, 4]);
  });

  it('merges buckets that share a pixel, keeping the extremes and the line order', () => {
    // 10 buckets on 2 pixels: a spike in bucket 3 must survive in its column's max and the line's high.
    const line = [5, 4, 3, 50, 2, 1, 1, 1, 1, 0];
    const c = pixelColumns(
      { xFirst: line.map((_, i) => i), xLast: line.map((_, i) => i), min: line.map((v) => v - 1), max: line.map((v) => v + 1), line },
      (x) => x / 5,
      ok,
    );
    expect(c.length).toBe(2);
    expect([c.min[0], c.max[0], c.first[0], c.low[0], c.high[0], c.last[0]]).toEqual([1, 51, 5, 2, 50, 2]);
    expect([c.min[1], c.max[1], c.first[1], c.low[1], c.high[1], c.last[1]]).toEqual([-1, 2, 1, 0, 1, 0]);
    expect([c.x0[1], c.x1[1]]).toEqual([1, 1.8]);
  });

  it('leaves out values the scale cannot show', () => {
    const c = pixelColumns({ xFirst: [0, 0], xLast: [0, 0], min: [NaN, -1], max: [Infinity, 2], line: [NaN, 0] }, (x) => x, (v) => ok(v) && v > 0);
    expect(c.length).toBe(1);
    expect(Number.isNaN(c.min[0]!)).toBe(true);
    expect(Number.isNaN(c.first[0]!)).toBe(true);
  });

  it('merges wider columns on request', () => {
    const line = [1, 2, 3, 4];
    const c = pixelColumns({ xFirst: [0, 1, 2, 3], xLast: [0, 1, 2, 3], min: line, max: line, line }, (x) => x, ok, 2);
    expect(c.length).toBe(2);
    expect([c.first[0], c.last[0], c.first[1], c.last[1]]).toEqual([1, 2, 3, 4]);
  });
});
