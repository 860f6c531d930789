// Which direction is better for a metric, and a run's best value in that direction.

export type Goal = 'min' | 'max';

// Losses and errors go down; everything else (accuracy, recall, AUC, F1, reward…) goes up. Matched on words of the
// key so `val/loss`, `eval_rmse` and `train.error_rate` are recognised and `lossless_ratio` is not.
const MINIMISED = new Set(['loss', 'error', 'err', 'mse', 'mae', 'rmse', 'mape', 'perplexity', 'ppl', 'wer', 'cer', 'latency', 'logloss', 'nll']);

export function inferGoal(key: string): Goal {
  const words = key.toLowerCase().split(/[^a-z0-9]+/);
  return words.some((w) => MINIMISED.has(w)) ? 'min' : 'max';
}

/** The better of min and max for the goal. */
export function bestValue(summary: { minValue: number; maxValue: number }, goal: Goal): number {
  return goal === 'min' ? summary.minValue : summary.maxValue;
}

/**
 * Order for ranking by a value in a goal direction: better first; NaN and missing values last (in input order).
 * Returns a comparator over possibly-undefined numbers.
 */
export function byGoal(goal: Goal): (a: number | undefined, b: number | undefined) => number {
  return (a, b) => {
    const aMissing = a === undefined || Number.isNaN(a);
    const bMissing = b === undefined || Number.isNaN(b);
    if (aMissing || bMissing) return Number(aMissing) - Number(bMissing);
    if (a === b) return 0;
    return goal === 'min' ? (a < b ? -1 : 1) : a > b ? -1 : 1;
  };
}
