// Drift scores as Evidently 0.7 computes them (evidently.legacy.calculations.stattests), from the counts and sums
// ClickHouse returns. Each function takes one column's reference and current summaries after cleaning (±inf → NaN,
// NaN dropped), so sample sizes are the cleaned ones.
import { chiSquareSurvival } from './gamma-functions.ts';
import { ksTwoSample } from './ks-two-sample.ts';
import { normalCdf } from './normal-distribution.ts';

export type ColumnKind = 'numerical' | 'categorical';
export type DriftMethod = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon' | 'psi' | 'kl_div' | 'hellinger';
export const DRIFT_METHODS: readonly DriftMethod[] = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi', 'kl_div', 'hellinger'];

/** p-value tests flag drift below the threshold, distances at or above it. KS is "≤", the other p-values "<". */
export const METHOD_INFO: Record<DriftMethod, { threshold: number; kind: 'p_value' | 'distance'; kinds: readonly ColumnKind[]; label: string }> = {
  ks: { threshold: 0.05, kind: 'p_value', kinds: ['numerical'], label: 'K-S p_value' },
  chisquare: { threshold: 0.05, kind: 'p_value', kinds: ['numerical', 'categorical'], label: 'chi-square p_value' },
  z: { threshold: 0.05, kind: 'p_value', kinds: ['numerical', 'categorical'], label: 'Z-test p_value' },
  wasserstein: { threshold: 0.1, kind: 'distance', kinds: ['numerical'], label: 'Wasserstein distance (normed)' },
  jensenshannon: { threshold: 0.1, kind: 'distance', kinds: ['numerical', 'categorical'], label: 'Jensen-Shannon distance' },
  psi: { threshold: 0.1, kind: 'distance', kinds: ['numerical', 'categorical'], label: 'PSI' },
  kl_div: { threshold: 0.1, kind: 'distance', kinds: ['numerical', 'categorical'], label: 'Kullback-Leibler divergence' },
  hellinger: { threshold: 0.1, kind: 'distance', kinds: ['numerical', 'categorical'], label: 'Hellinger distance' },
};

export function isDrifted(method: DriftMethod, score: number, threshold: number): boolean {
  if (method === 'ks') return score <= threshold;
  return METHOD_INFO[method].kind === 'p_value' ? score < threshold : score >= threshold;
}

/**
 * Evidently's default method. `referenceRows` is the cleaned reference size, `distinctValues` the distinct values of
 * reference ∪ current.
 */
export function defaultMethod(kind: ColumnKind, referenceRows: number, distinctValues: number): DriftMethod {
  if (referenceRows <= 1000) {
    if (kind === 'numerical' && distinctValues > 5) return 'ks';
    return distinctValues > 2 ? 'chisquare' : 'z';
  }
  if (kind === 'numerical' && distinctValues > 5) return 'wasserstein';
  return 'jensenshannon';
}

/** The counts of one column on both sides over the same bins (or the same values), in the same order. */
export interface BinnedCounts {
  reference: readonly number[];
  current: readonly number[];
  referenceTotal: number;
  currentTotal: number;
}

export function ks(n1: number, n2: number, dNumerator: number): number {
  return ksTwoSample(n1, n2, dNumerator).pValue;
}

/** scipy.stats.chisquare(f_obs = current counts, f_exp = reference counts · n_cur / n_ref), k − 1 degrees of freedom. */
export function chiSquare(values: BinnedCounts): number {
  const norm = values.currentTotal / values.referenceTotal;
  let stat = 0;
  for (let i = 0; i < values.reference.length; i++) {
    const expected = values.reference[i]! * norm;
    const d = values.current[i]! - expected;
    stat += (d * d) / expected;
  }
  return chiSquareSurvival(stat, values.reference.length - 1);
}

/**
 * Two-proportion pooled z-test on the share of values other than the first (sorted) one. `firstCounts` are the
 * counts of that first value on each side. Both sides holding one and the same value → p = 1.
 */
export function zTest(n1: number, n2: number, firstRef: number, firstCur: number, singleSameValue: boolean): number {
  if (singleSameValue) return 1;
  const p1 = (n1 - firstRef) / n1;
  const p2 = (n2 - firstCur) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return 2 * (1 - normalCdf(Math.abs(z)));
}

/** W1 / max(population std of reference, 0.001); `w1` is the Wasserstein-1 distance of the raw samples. */
export function wassersteinNormed(w1: number, referenceStdPop: number): number {
  return w1 / Math.max(referenceStdPop, 0.001);
}

/** Shares per bin; with `fillZeros`, Evidently's replacement of empty bins (PSI, KL). */
export function shares(counts: readonly number[], total: number, fillZeros: boolean): number[] {
  const out = counts.map((c) => c / total);
  if (!fillZeros) return out;
  let smallest = Infinity;
  for (const s of out) if (s !== 0 && s < smallest) smallest = s;
  const fill = smallest <= 0.0001 ? smallest / 10 ** 6 : 0.0001;
  return out.map((s) => (s === 0 ? fill : s));
}

function relEntr(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

const sum = (xs: readonly number[]) => pairwiseSum(xs, 0, xs.length);

/** numpy's pairwise summation (np.sum over a float64 vector), so sums round the same way. */
function pairwiseSum(a: readonly number[], start: number, n: number): number {
  if (n < 8) {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[start + i]!;
    return s;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += a[start + i + j]!;
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

export function psi(counts: BinnedCounts): number {
  const r = shares(counts.reference, counts.referenceTotal, true);
  const c = shares(counts.current, counts.currentTotal, true);
  return sum(r.map((ri, i) => (ri - c[i]!) * Math.log(ri / c[i]!)));
}

/** scipy.stats.entropy(reference shares, current shares): KL(ref ‖ cur) after renormalising both. */
export function klDiv(counts: BinnedCounts): number {
  const r = shares(counts.reference, counts.referenceTotal, true);
  const c = shares(counts.current, counts.currentTotal, true);
  const rs = sum(r);
  const cs = sum(c);
  return sum(r.map((ri, i) => relEntr(ri / rs, c[i]! / cs)));
}

/** scipy.spatial.distance.jensenshannon with the natural log; no zero filling. */
export function jensenShannon(counts: BinnedCounts): number {
  const r0 = shares(counts.reference, counts.referenceTotal, false);
  const c0 = shares(counts.current, counts.currentTotal, false);
  const rs = sum(r0);
  const cs = sum(c0);
  const p = r0.map((x) => x / rs);
  const q = c0.map((x) => x / cs);
  const m = p.map((x, i) => (x + q[i]!) / 2);
  const js = sum(p.map((x, i) => relEntr(x, m[i]!))) + sum(q.map((x, i) => relEntr(x, m[i]!)));
  return Math.sqrt(js / 2);
}

/** Hellinger distance of categorical shares: √(1 − Σ √(p·q)), the sum clipped to [0, 1]. */
export function hellingerCategorical(counts: BinnedCounts): number {
  let bc = 0;
  for (let i = 0; i < counts.reference.length; i++) bc += Math.sqrt((counts.reference[i]! / counts.referenceTotal) * (counts.current[i]! / counts.currentTotal));
  return Math.sqrt(1 - Math.min(1, Math.max(0, bc)));
}

/** Hellinger distance of numerical data: density histograms over Sturges edges of the distinct values. */
export function hellingerNumerical(counts: BinnedCounts, edges: readonly number[]): number {
  const bins = edges.length - 1;
  const width = (Math.max(...edges) - Math.min(...edges)) / bins;
  const inRef = sum(counts.reference);
  const inCur = sum(counts.current);
  let bc = 0;
  for (let i = 0; i < bins; i++) {
    const db = edges[i + 1]! - edges[i]!;
    const p1 = counts.reference[i]! / db / inRef;
    const p2 = counts.current[i]! / db / inCur;
    bc += Math.sqrt(p1 * p2) * width;
  }
  return Math.sqrt(1 - Math.min(1, Math.max(0, bc)));
}
