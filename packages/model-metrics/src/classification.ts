// Classification metrics finished from counts: ClickHouse counts rows per (true class, predicted class) and reduces
// the score curves; these functions turn the counts into the numbers scikit-learn 1.9 reports for the same rows.
// Undefined ratios follow scikit-learn's zero_division="warn" (0.0); a metric that scikit-learn refuses to compute
// (ROC AUC with one class present) is null.

/** Rows with this true class and this predicted class. */
export interface ConfusionCell {
  label: string;
  prediction: string;
  count: number;
}

export interface ClassScores {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true class this is. */
  support: number;
}

export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
}

export interface ConfusionMetrics {
  rows: number;
  /** The classes present (true or predicted), in scikit-learn's order. */
  classes: string[];
  /** matrix[i][j]: rows of true class classes[i] predicted as classes[j]. */
  confusionMatrix: number[][];
  accuracy: number;
  balancedAccuracy: number;
  perClass: ClassScores[];
  macro: AveragedScores;
  micro: AveragedScores;
  weighted: AveragedScores;
  /** The positive class's scores (average="binary"), when a positive class is given. */
  binary: (AveragedScores & { positive: string }) | null;
}

/**
 * scikit-learn sorts labels with numpy: numbers numerically, strings by code point. Classes read from numerical
 * columns are decimal strings, so they sort as numbers when every one of them parses as a number.
 */
export function sortClasses(classes: Iterable<string>, numeric: boolean): string[] {
  const xs = [...new Set(classes)];
  if (numeric && xs.every((c) => c.trim() !== '' && Number.isFinite(Number(c)))) return xs.sort((a, b) => Number(a) - Number(b));
  return xs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const ratio = (num: number, den: number) => (den === 0 ? 0 : num / den);
const f1Of = (tp: number, fp: number, fn: number) => ratio(2 * tp, 2 * tp + fp + fn);
const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Everything scikit-learn derives from the confusion matrix. `positive` names the class of average="binary". */
export function confusionMetrics(cells: readonly ConfusionCell[], numericClasses: boolean, positive?: string): ConfusionMetrics {
  const classes = sortClasses(
    cells.filter((c) => c.count > 0).flatMap((c) => [c.label, c.prediction]),
    numericClasses,
  );
  const index = new Map(classes.map((c, i) => [c, i]));
  const matrix = classes.map(() => classes.map(() => 0));
  let rows = 0;
  for (const c of cells) {
    if (c.count <= 0) continue;
    matrix[index.get(c.label)!]![index.get(c.prediction)!]! += c.count;
    rows += c.count;
  }
  const tp = classes.map((_, i) => matrix[i]![i]!);
  const support = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const predicted = classes.map((_, j) => matrix.reduce((a, row) => a + row[j]!, 0));
  const perClass = classes.map((c, i) => {
    const fp = predicted[i]! - tp[i]!;
    const fn = support[i]! - tp[i]!;
    return { class: c, precision: ratio(tp[i]!, predicted[i]!), recall: ratio(tp[i]!, support[i]!), f1: f1Of(tp[i]!, fp, fn), support: support[i]! };
  });
  const sumTp = tp.reduce((a, b) => a + b, 0);
  const weighted = (pick: (s: ClassScores) => number) => ratio(perClass.reduce((a, s) => a + pick(s) * s.support, 0), rows);
  // Micro averages over all classes: every row is one prediction, so precision = recall = F1 = accuracy.
  const micro = ratio(sumTp, rows);
  const pos = positive === undefined ? undefined : index.get(positive);
  return {
    rows,
    classes,
    confusionMatrix: matrix,
    accuracy: micro,
    // Classes never true are left out of the mean (scikit-learn warns and drops their NaN recall).
    balancedAccuracy: mean(perClass.filter((s) => s.support > 0).map((s) => s.recall)),
    perClass,
    macro: { precision: mean(perClass.map((s) => s.precision)), recall: mean(perClass.map((s) => s.recall)), f1: mean(perClass.map((s) => s.f1)) },
    micro: { precision: micro, recall: micro, f1: micro },
    weighted: { precision: weighted((s) => s.precision), recall: weighted((s) => s.recall), f1: weighted((s) => s.f1) },
    binary:
      positive === undefined
        ? null
        : pos === undefined
          ? { positive, precision: 0, recall: 0, f1: 0 }
          : { positive, precision: perClass[pos]!.precision, recall: perClass[pos]!.recall, f1: perClass[pos]!.f1 },
  };
}

/**
 * One class against the rest, reduced by ClickHouse over the distinct scores (ties grouped):
 * aucArea = Σ over scores of positives × (negatives with a lower score + negatives with this score / 2),
 * apSum = Σ over scores, highest first, of positives here × precision at this threshold.
 */
export interface ScoreCurve {
  positives: number;
  negatives: number;
  aucArea: number;
  apSum: number;
}

/** ROC AUC (the trapezoid under the ROC curve equals the tie-corrected Mann-Whitney statistic); null with one class. */
export function rocAuc(c: ScoreCurve): number | null {
  return c.positives === 0 || c.negatives === 0 ? null : c.aucArea / (c.positives * c.negatives);
}

/** Average precision Σ (Rₙ − Rₙ₋₁)·Pₙ; null without positives (recall undefined). */
export function averagePrecision(c: ScoreCurve): number | null {
  return c.positives === 0 ? null : c.apSum / c.positives;
}

/**
 * roc_auc_score(multi_class="ovr"). Macro: the mean over classes, null when any class's AUC is undefined. Weighted
 * by prevalence: a class that is never true has weight 0 and scikit-learn forces its (undefined) score to 0, so it
 * drops out; null only when a class that is true somewhere has no negatives.
 */
export function oneVsRestAuc(curves: readonly ScoreCurve[]): { macro: number | null; weighted: number | null } {
  const aucs = curves.map(rocAuc);
  const total = curves.reduce((a, c) => a + c.positives, 0);
  const weightedUndefined = total === 0 || curves.some((c, i) => c.positives > 0 && aucs[i] === null);
  return {
    macro: curves.length === 0 || aucs.some((a) => a === null) ? null : mean(aucs as number[]),
    weighted: weightedUndefined ? null : curves.reduce((a, c, i) => a + (c.positives > 0 ? (aucs[i] as number) * c.positives : 0), 0) / total,
  };
}

/** Sums of per-row losses over the scored rows, from ClickHouse. */
export interface ProbabilitySums {
  rows: number;
  /** Σ −ln(p of the true class clipped to [ε, 1 − ε]), ε = 2⁻⁵², as log_loss clips. */
  logLossSum: number;
  /** Σ over rows of Σ over classes (p − [class is true])² (binary: (p − y)² for the positive class only). */
  brierSum: number;
}

export function probabilityMetrics(s: ProbabilitySums): { logLoss: number | null; brier: number | null } {
  return s.rows === 0 ? { logLoss: null, brier: null } : { logLoss: s.logLossSum / s.rows, brier: s.brierSum / s.rows };
}

/** Adds counts of equal (label, prediction) cells: the totals over segments. */
export function mergeCells(cells: Iterable<ConfusionCell>): ConfusionCell[] {
  const out = new Map<string, ConfusionCell>();
  for (const c of cells) {
    const key = `${c.label}\u0000${c.prediction}`;
    const seen = out.get(key);
    if (seen) seen.count += c.count;
    else out.set(key, { ...c });
  }
  return [...out.values()];
}
