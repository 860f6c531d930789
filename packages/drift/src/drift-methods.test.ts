import { describe, expect, it } from 'vitest';
import { emptyTotals, scanValues, chiSquare, defaultMethod, hellingerCategorical, hellingerNumerical, isDrifted, jensenShannon, klDiv, ks, psi, sturgesEdges, wassersteinNormed, zTest, type BinnedCounts } from './index.ts';
// Scores printed by Evidently 0.7.23's stat tests (evidently.legacy.calculations.stattests) for these samples.
import reference from './evidently-method-values.json' with { type: 'json' };

type Sample = (number | string)[];
const rel = (a: number, b: number) => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));

/** What ClickHouse returns for a column, computed here by brute force from the raw samples. */
function perValue(ref: Sample, cur: Sample): BinnedCounts & { keys: Sample } {
  const keys = [...new Set([...ref, ...cur])].sort((a, b) => (typeof a === 'number' ? (a as number) - (b as number) : String(a) < String(b) ? -1 : 1));
  return { keys, reference: keys.map((k) => ref.filter((v) => v === k).length), current: keys.map((k) => cur.filter((v) => v === k).length), referenceTotal: ref.length, currentTotal: cur.length };
}

function binned(ref: number[], cur: number[], edges: number[]): BinnedCounts {
  const count = (xs: number[]) => edges.slice(0, -1).map((e, i) => xs.filter((x) => x >= e && (i === edges.length - 2 ? x <= edges[i + 1]! : x < edges[i + 1]!)).length);
  return { reference: count(ref), current: count(cur), referenceTotal: ref.length, currentTotal: cur.length };
}

function ecdf(ref: number[], cur: number[]): { d: number; w: number } {
  const all = [...ref, ...cur].sort((a, b) => a - b);
  let d = 0;
  let w = 0;
  for (let i = 0; i < all.length - 1; i++) {
    const a = ref.filter((x) => x <= all[i]!).length;
    const b = cur.filter((x) => x <= all[i]!).length;
    const diff = Math.abs(a * cur.length - b * ref.length);
    d = Math.max(d, diff);
    w += diff * (all[i + 1]! - all[i]!);
  }
  return { d, w: w / (ref.length * cur.length) };
}

const popStd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};

function scores(ref: number[] | string[], cur: number[] | string[], numerical: boolean): Record<string, number> {
  const values = perValue(ref, cur);
  const out: Record<string, number> = {};
  if (numerical) {
    const r = ref as number[];
    const c = cur as number[];
    const distinctRef = new Set(r).size;
    const all = [...r, ...c];
    const bins = distinctRef > 20 ? binned(r, c, sturgesEdges(Math.min(...all), Math.max(...all), all.length)) : values;
    out.psi = psi(bins);
    out.kl_div = klDiv(bins);
    out.jensenshannon = jensenShannon(bins);
    out.hellinger = hellingerNumerical(binned(r, c, sturgesEdges(Math.min(...all), Math.max(...all), new Set(all).size)), sturgesEdges(Math.min(...all), Math.max(...all), new Set(all).size));
    const { d, w } = ecdf(r, c);
    out.wasserstein = wassersteinNormed(w, popStd(r));
    out.ks = ks(r.length, c.length, d);
  } else {
    out.psi = psi(values);
    out.kl_div = klDiv(values);
    out.jensenshannon = jensenShannon(values);
    out.hellinger = hellingerCategorical(values);
    out.chisquare = chiSquare(values);
    out.z = zTest(ref.length, cur.length, values.reference[0]!, values.current[0]!, false);
  }
  return out;
}

describe('drift methods agree with Evidently', () => {
  const cases: [string, number[] | string[], number[] | string[], boolean][] = [
    ['num', reference.num_ref, reference.num_cur, true],
    ['few', reference.few_ref, reference.few_cur, true],
    ['cat', reference.cat_ref, reference.cat_cur, false],
  ];
  for (const [name, ref, cur, numerical] of cases) {
    const ours = scores(ref, cur, numerical);
    for (const [method, score] of Object.entries(ours)) {
      it(`${name}: ${method}`, () => {
        const theirs = (reference.scores as Record<string, number>)[`${name}:${method}`]!;
        expect(rel(score, theirs), `${score} vs ${theirs}`).toBeLessThan(1e-12);
      });
    }
  }
});

describe("Evidently's defaults", () => {
  it('picks the method by reference size and distinct values', () => {
    expect(defaultMethod('numerical', 1000, 6)).toBe('ks');
    expect(defaultMethod('numerical', 1000, 5)).toBe('chisquare');
    expect(defaultMethod('numerical', 1000, 2)).toBe('z');
    expect(defaultMethod('numerical', 1001, 6)).toBe('wasserstein');
    expect(defaultMethod('numerical', 1001, 5)).toBe('jensenshannon');
    expect(defaultMethod('categorical', 1000, 3)).toBe('chisquare');
    expect(defaultMethod('categorical', 1000, 2)).toBe('z');
    expect(defaultMethod('categorical', 1001, 2)).toBe('jensenshannon');
  });
  it('flags KS at p ≤ threshold, other p-values below it, distances at or above it', () => {
    expect(isDrifted('ks', 0.05, 0.05)).toBe(true);
    expect(isDrifted('chisquare', 0.05, 0.05)).toBe(false);
    expect(isDrifted('z', 0.049, 0.05)).toBe(true);
    expect(isDrifted('wasserstein', 0.1, 0.1)).toBe(true);
    expect(isDrifted('psi', 0.0999, 0.1)).toBe(false);
  });
  it("reproduces numpy's Sturges edges, constant data included", () => {
    expect(sturgesEdges(0, 8, 16)).toEqual([0, 1.6, 3.2, 4.800000000000001, 6.4, 8]);
    expect(sturgesEdges(3, 3, 10)).toEqual([2.5, 3.5]);
  });
});

describe('scanValues', () => {
  it("integrates |F1 − F2| across sorted values and reproduces Evidently's normed Wasserstein", () => {
    const whole = (values: number[], sides: number[], n1: number, n2: number) => {
      const totals = emptyTotals(n1, n2, []);
      scanValues(values, sides, { bucket: { point: 0, lo: values[0]!, hi: values[values.length - 1]!, c1: 0, c2: 0, s1: 0, s2: 0, q1: 0 }, dStart: 0, goals: { wasserstein: true, ks: true, histograms: [] } }, [], totals);
      return totals;
    };
    // reference [1, 3], current [2]: ∫|F1 − F2| = 0.5 + 0.5 = 1.
    expect(whole([1, 2, 3], [1, 2, 1], 2, 1).wasserstein).toBe(1);
    const r = reference.num_ref;
    const c = reference.num_cur;
    const pairs = [...r.map((v) => [v, 1]), ...c.map((v) => [v, 2])].sort((a, b) => a[0]! - b[0]!);
    const w = whole(pairs.map((p) => p[0]!), pairs.map((p) => p[1]!), r.length, c.length).wasserstein;
    expect(rel(wassersteinNormed(w, popStd(r)), reference.scores['num:wasserstein'])).toBeLessThan(1e-12);
  });
});
