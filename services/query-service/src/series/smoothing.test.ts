import { describe, expect, it } from 'vitest';
import { ema, timeWeightedEma } from './smoothing.ts';

describe('ema', () => {
  it('is the debiased running average', () => {
    // w = 0.5: a1 = 0.5*1 = 0.5 -> 0.5/0.5 = 1; a2 = 0.25 + 0.5*3 = 1.75 -> 1.75/0.75
    expect(ema([1, 3], 0.5)).toEqual([1, 1.75 / 0.75]);
    expect(ema([4, 4, 4, 4], 0.9).every((v) => Math.abs(v - 4) < 1e-12)).toBe(true);
    expect(ema([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });

  it('passes non-finite values through without disturbing the average', () => {
    const s = ema([2, NaN, Infinity, 2], 0.6);
    expect(s[1]).toBeNaN();
    expect(s[2]).toBe(Infinity);
    expect(s[3]).toBeCloseTo(2, 12);
  });

  it('rejects weights outside [0, 1)', () => {
    expect(() => ema([1], 1)).toThrow(RangeError);
    expect(() => ema([1], -0.1)).toThrow(RangeError);
  });
});

describe('timeWeightedEma', () => {
  it('halves the old average every half life', () => {
    expect(timeWeightedEma([0, 10], [0, 8], 10)).toEqual([0, 4]);
    expect(timeWeightedEma([0, 20], [0, 8], 10)).toEqual([0, 6]);
    // A long gap: the average catches up almost fully.
    expect(timeWeightedEma([0, 1000], [0, 8], 10)[1]).toBeCloseTo(8, 10);
  });

  it('rejects a half life that is not positive', () => {
    expect(() => timeWeightedEma([0], [1], 0)).toThrow(RangeError);
  });
});
