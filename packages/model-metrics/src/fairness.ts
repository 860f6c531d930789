// Fairness of a binary classifier per sensitive feature, as Fairlearn 0.15 defines it, from the confusion counts of
// each group: MetricFrame's by_group values and their between-groups difference (max − min) and ratio (min / max).
// Rates with an empty denominator are 0, as Fairlearn's rates (scikit-learn's confusion matrix) give them.
import type { ConfusionCell } from './classification.ts';

export interface GroupFairness {
  group: string;
  count: number;
  accuracy: number;
  selectionRate: number;
  /** True positive rate (recall of the positive class). */
  tpr: number;
  fpr: number;
  /** Fewer rows than the monitor's minimum group size: its rates are noisy. */
  small: boolean;
}

export interface FeatureFairness {
  feature: string;
  groups: GroupFairness[];
  demographicParityDifference: number;
  demographicParityRatio: number | null;
  equalizedOddsDifference: number;
  equalizedOddsRatio: number | null;
  equalOpportunityDifference: number;
  equalOpportunityRatio: number | null;
  accuracyDifference: number;
  warnings: string[];
}

const rate = (num: number, den: number) => (den === 0 ? 0 : num / den);
const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
/** min / max; 0 / 0 is NaN in Fairlearn, reported as null. */
const ratioOf = (xs: number[]) => {
  const max = Math.max(...xs);
  return max === 0 ? null : Math.min(...xs) / max;
};

export function groupFairness(group: string, cells: readonly ConfusionCell[], positive: string, minGroupSize: number): GroupFairness {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const c of cells) {
    const truePos = c.label === positive;
    const predPos = c.prediction === positive;
    if (truePos && predPos) tp += c.count;
    else if (predPos) fp += c.count;
    else if (truePos) fn += c.count;
    else tn += c.count;
  }
  const count = tp + fp + fn + tn;
  // Accuracy counts exact matches, so in a multiclass task two different negative classes are an error.
  const correct = cells.reduce((a, c) => a + (c.label === c.prediction ? c.count : 0), 0);
  return { group, count, accuracy: rate(correct, count), selectionRate: rate(tp + fp, count), tpr: rate(tp, tp + fn), fpr: rate(fp, fp + tn), small: count < minGroupSize };
}

/** `byGroup`: the confusion cells of each group of one feature (groups without rows left out). */
export function featureFairness(feature: string, byGroup: ReadonlyMap<string, readonly ConfusionCell[]>, positive: string, minGroupSize: number): FeatureFairness | null {
  const groups = [...byGroup.entries()]
    .map(([g, cells]) => groupFairness(g, cells, positive, minGroupSize))
    .filter((g) => g.count > 0)
    .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  if (groups.length === 0) return null;
  const sel = groups.map((g) => g.selectionRate);
  const tpr = groups.map((g) => g.tpr);
  const fpr = groups.map((g) => g.fpr);
  const tprRatio = ratioOf(tpr);
  const fprRatio = ratioOf(fpr);
  const warnings: string[] = [];
  for (const g of groups) if (g.small) warnings.push(`group "${g.group}" has ${g.count} rows (fewer than ${minGroupSize}): its rates are unreliable`);
  if (groups.length === 1) warnings.push('only one group present: differences are 0 by definition');
  return {
    feature,
    groups,
    demographicParityDifference: spread(sel),
    demographicParityRatio: ratioOf(sel),
    equalizedOddsDifference: Math.max(spread(tpr), spread(fpr)),
    equalizedOddsRatio: tprRatio === null || fprRatio === null ? null : Math.min(tprRatio, fprRatio),
    equalOpportunityDifference: spread(tpr),
    equalOpportunityRatio: tprRatio,
    accuracyDifference: spread(groups.map((g) => g.accuracy)),
    warnings,
  };
}
