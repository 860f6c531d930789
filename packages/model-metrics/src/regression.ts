// Regression metrics finished from sums ClickHouse keeps per window and segment. Sums are additive and the spread
// of the true values merges with Chan's formula, so the total over segments needs no second query.

/** Per (window, segment): sums over the rows with both a true value and a prediction. */
export interface RegressionSums {
  rows: number;
  absErrorSum: number;
  sqErrorSum: number;
  /** Σ |y − ŷ| / max(|y|, ε), ε = 2⁻⁵² (mean_absolute_percentage_error). */
  pctErrorSum: number;
  maxAbsError: number;
  labelMean: number;
  /** Σ (y − ȳ)². */
  labelSqDev: number;
}

export interface RegressionMetrics {
  rows: number;
  mae: number | null;
  mse: number | null;
  rmse: number | null;
  mape: number | null;
  r2: number | null;
  maxError: number | null;
}

export function regressionMetrics(s: RegressionSums): RegressionMetrics {
  if (s.rows === 0) return { rows: 0, mae: null, mse: null, rmse: null, mape: null, r2: null, maxError: null };
  const mse = s.sqErrorSum / s.rows;
  // r2_score(force_finite=True): constant true values give 1.0 for a perfect fit, else 0.0. One row is undefined.
  const r2 = s.rows < 2 ? null : s.labelSqDev === 0 ? (s.sqErrorSum === 0 ? 1 : 0) : 1 - s.sqErrorSum / s.labelSqDev;
  return { rows: s.rows, mae: s.absErrorSum / s.rows, mse, rmse: Math.sqrt(mse), mape: s.pctErrorSum / s.rows, r2, maxError: s.maxAbsError };
}

export function mergeRegressionSums(parts: readonly RegressionSums[]): RegressionSums {
  let out: RegressionSums = { rows: 0, absErrorSum: 0, sqErrorSum: 0, pctErrorSum: 0, maxAbsError: 0, labelMean: 0, labelSqDev: 0 };
  for (const p of parts) {
    if (p.rows === 0) continue;
    const rows = out.rows + p.rows;
    const delta = p.labelMean - out.labelMean;
    out = {
      rows,
      absErrorSum: out.absErrorSum + p.absErrorSum,
      sqErrorSum: out.sqErrorSum + p.sqErrorSum,
      pctErrorSum: out.pctErrorSum + p.pctErrorSum,
      maxAbsError: Math.max(out.maxAbsError, p.maxAbsError),
      labelMean: out.labelMean + (delta * p.rows) / rows,
      labelSqDev: out.labelSqDev + p.labelSqDev + (delta * delta * out.rows * p.rows) / rows,
    };
  }
  return out;
}
