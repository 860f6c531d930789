import { describe, expect, it } from 'vitest';
import { chiSquareSurvival, kolmogorovSurvival, ksTwoSample, normalCdf } from './index.ts';
// Values printed by scipy 1.17 (scipy.stats.ks_2samp, kstwo.sf, chi2.sf, norm.cdf) for these inputs.
import reference from './scipy-reference-values.json' with { type: 'json' };

const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

describe('ksTwoSample agrees with scipy.stats.ks_2samp', () => {
  for (const [n1, n2, dNum, d, p] of reference.ks as [number, number, number, number, number][]) {
    it(`n1=${n1} n2=${n2}`, () => {
      const r = ksTwoSample(n1, n2, dNum);
      expect(rel(r.statistic, d)).toBeLessThan(1e-12);
      expect(rel(r.pValue, p)).toBeLessThan(1e-9);
      expect(r.method).toBe(Math.max(n1, n2) <= 10_000 ? 'exact' : 'asymp');
    });
  }
});

describe('kolmogorovSurvival agrees with scipy.stats.kstwo.sf', () => {
  for (const [n, x, p] of reference.kstwo as [number, number, number][]) {
    it(`n=${n} x=${x}`, () => expect(rel(kolmogorovSurvival(n, x), p)).toBeLessThan(1e-9));
  }
});

describe('chi-square survival and the normal CDF agree with scipy', () => {
  for (const [x, k, p] of reference.chi2 as [number, number, number][]) {
    it(`chi2.sf(${x}, ${k})`, () => expect(rel(chiSquareSurvival(x, k), p)).toBeLessThan(1e-10));
  }
  for (const [z, p] of reference.ndtr as [number, number][]) {
    it(`2(1 − Φ(|${z}|))`, () => expect(rel(2 * (1 - normalCdf(Math.abs(z))), p)).toBeLessThan(1e-12));
  }
});
