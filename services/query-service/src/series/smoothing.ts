// Server-side smoothing of a (downsampled) series. Non-finite values pass through unsmoothed and do not disturb
// the average, so one NaN or infinity does not poison the rest of the curve.

/**
 * Exponential moving average with a constant weight in [0, 1), debiased so the curve starts at the first value
 * instead of rising from zero (the convention of TensorBoard's smoothing slider).
 */
export function ema(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`weight must be in [0, 1), got ${weight}`);
  let accumulated = 0;
  let n = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    accumulated = accumulated * weight + (1 - weight) * v;
    n++;
    return accumulated / (1 - weight ** n);
  });
}

/**
 * Time-weighted EMA for unevenly spaced points: a point's influence halves every `halfLife` x units, so a gap in
 * the data lets the average catch up instead of smoothing over it.
 */
export function timeWeightedEma(xs: readonly number[], values: readonly number[], halfLife: number): number[] {
  if (!(halfLife > 0) || !Number.isFinite(halfLife)) throw new RangeError(`half life must be a positive number, got ${halfLife}`);
  if (xs.length !== values.length) throw new RangeError('xs and values differ in length');
  let average: number | undefined;
  let lastX = 0;
  return values.map((v, i) => {
    if (!Number.isFinite(v)) return v;
    const x = xs[i]!;
    if (average === undefined) {
      average = v;
    } else {
      const alpha = 1 - Math.pow(0.5, Math.max(0, x - lastX) / halfLife);
      average += alpha * (v - average);
    }
    lastX = x;
    return average;
  });
}
