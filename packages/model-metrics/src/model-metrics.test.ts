import { describe, expect, it } from 'vitest';
import { averagePrecision, confusionMetrics, featureFairness, mergeCells, mergeRegressionSums, oneVsRestAuc, probabilityMetrics, regressionMetrics, rocAuc, sortClasses, type ConfusionCell } from './index.ts';

const cells = (rows: [string, string][]): ConfusionCell[] => mergeCells(rows.map(([label, prediction]) => ({ label, prediction, count: 1 })));

describe('confusionMetrics', () => {
  // y_true = [0,0,0,1,1,2], y_pred = [0,1,0,1,2,2]: worked by hand from the confusion matrix.
  const m = confusionMetrics(cells([['0', '0'], ['0', '1'], ['0', '0'], ['1', '1'], ['1', '2'], ['2', '2']]), true);
  it('counts the matrix in scikit-learn class order', () => {
    expect(m.classes).toEqual(['0', '1', '2']);
    expect(m.confusionMatrix).toEqual([[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
    expect(m.rows).toBe(6);
  });
  it('derives accuracy, balanced accuracy and the averages', () => {
    expect(m.accuracy).toBeCloseTo(4 / 6, 15);
    expect(m.balancedAccuracy).toBeCloseTo((2 / 3 + 1 / 2 + 1) / 3, 15);
    expect(m.perClass.map((c) => c.precision)).toEqual([1, 0.5, 0.5]);
    expect(m.perClass.map((c) => c.recall)).toEqual([2 / 3, 0.5, 1]);
    expect(m.perClass[0]!.f1).toBeCloseTo(0.8, 15);
    expect(m.macro.precision).toBeCloseTo(2 / 3, 15);
    expect(m.micro.f1).toBeCloseTo(4 / 6, 15);
    expect(m.weighted.recall).toBeCloseTo((3 * (2 / 3) + 2 * 0.5 + 1) / 6, 15);
  });
  it('gives 0 where scikit-learn divides by zero, and drops never-true classes from balanced accuracy', () => {
    const z = confusionMetrics(cells([['a', 'a'], ['a', 'b']]), false, 'c');
    expect(z.perClass.find((c) => c.class === 'b')).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(z.balancedAccuracy).toBe(0.5);
    expect(z.binary).toEqual({ positive: 'c', precision: 0, recall: 0, f1: 0 });
  });
  it('sorts numbers numerically and strings by code point', () => {
    expect(sortClasses(['10', '9', '-1'], true)).toEqual(['-1', '9', '10']);
    expect(sortClasses(['b', 'B', 'a'], false)).toEqual(['B', 'a', 'b']);
    expect(sortClasses(['1', 'x'], true)).toEqual(['1', 'x']);
  });
});

describe('score curves', () => {
  it('finishes AUC and AP from the reduced sums and refuses one-class data', () => {
    // scores 0.1(neg) 0.4(pos) 0.35(neg) 0.8(pos): AUC 0.75; AP = 1/2·1 + 1/2·2/3.
    const curve = { positives: 2, negatives: 2, aucArea: 1 * 1 + 1 * 2, apSum: 1 + 2 / 3 };
    expect(rocAuc(curve)).toBe(0.75);
    expect(averagePrecision(curve)).toBeCloseTo(5 / 6, 15);
    expect(rocAuc({ ...curve, negatives: 0 })).toBeNull();
    expect(averagePrecision({ ...curve, positives: 0 })).toBeNull();
    expect(oneVsRestAuc([curve, { positives: 1, negatives: 3, aucArea: 3, apSum: 1 }])).toEqual({ macro: 0.875, weighted: (0.75 * 2 + 1) / 3 });
    expect(oneVsRestAuc([curve, { positives: 0, negatives: 4, aucArea: 0, apSum: 0 }])).toEqual({ macro: null, weighted: 0.75 });
    expect(oneVsRestAuc([curve, { positives: 4, negatives: 0, aucArea: 0, apSum: 4 }])).toEqual({ macro: null, weighted: null });
    expect(probabilityMetrics({ rows: 4, logLossSum: 2, brierSum: 1 })).toEqual({ logLoss: 0.5, brier: 0.25 });
  });
});

describe('regression', () => {
  it('finishes the sums and merges segments with Chan\'s formula', () => {
    const y = [1, 2, 4, 8];
    const p = [1.5, 2, 3, 9];
    const part = (ys: number[], ps: number[]) => {
      const m = ys.reduce((a, b) => a + b, 0) / ys.length;
      return {
        rows: ys.length,
        absErrorSum: ys.reduce((a, v, i) => a + Math.abs(v - ps[i]!), 0),
        sqErrorSum: ys.reduce((a, v, i) => a + (v - ps[i]!) ** 2, 0),
        pctErrorSum: ys.reduce((a, v, i) => a + Math.abs(v - ps[i]!) / Math.abs(v), 0),
        maxAbsError: Math.max(...ys.map((v, i) => Math.abs(v - ps[i]!))),
        labelMean: m,
        labelSqDev: ys.reduce((a, v) => a + (v - m) ** 2, 0),
      };
    };
    const whole = regressionMetrics(part(y, p));
    const merged = regressionMetrics(mergeRegressionSums([part(y.slice(0, 1), p.slice(0, 1)), part(y.slice(1), p.slice(1))]));
    expect(whole.mae).toBe(2.5 / 4);
    expect(whole.maxError).toBe(1);
    expect(whole.r2).toBeCloseTo(1 - 2.25 / 28.75, 14);
    for (const k of ['mae', 'mse', 'rmse', 'mape', 'r2', 'maxError'] as const) expect(merged[k]).toBeCloseTo(whole[k]!, 14);
    expect(regressionMetrics({ ...part([3, 3], [3, 3]) }).r2).toBe(1);
    expect(regressionMetrics({ ...part([3, 3], [3, 4]) }).r2).toBe(0);
    expect(regressionMetrics(part([3], [4])).r2).toBeNull();
  });
});

describe('featureFairness', () => {
  it('computes Fairlearn\'s differences and ratios and warns about small groups', () => {
    const byGroup = new Map([
      // group a: TP 2, FN 1, FP 1, TN 2 -> selection 3/6, TPR 2/3, FPR 1/3
      ['a', cells([['1', '1'], ['1', '1'], ['1', '0'], ['0', '1'], ['0', '0'], ['0', '0']])],
      // group b: negatives only, one predicted positive -> selection 1/2, TPR 0, FPR 1/2
      ['b', cells([['0', '1'], ['0', '0']])],
    ]);
    const f = featureFairness('sex', byGroup, '1', 3)!;
    expect(f.groups.map((g) => [g.group, g.count, g.small])).toEqual([['a', 6, false], ['b', 2, true]]);
    expect(f.demographicParityDifference).toBe(0);
    expect(f.demographicParityRatio).toBe(1);
    expect(f.equalOpportunityDifference).toBeCloseTo(2 / 3, 15);
    expect(f.equalizedOddsDifference).toBeCloseTo(2 / 3, 15);
    expect(f.equalizedOddsRatio).toBe(0);
    expect(f.warnings).toHaveLength(1);
  });
});
