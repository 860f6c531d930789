import { describe, expect, it } from 'vitest';
import { bestValue, byGoal, inferGoal } from './metric-goal.ts';
import { differingParamKeys } from './param-diff.ts';
import { versionTrend } from './version-trend.ts';

describe('inferGoal', () => {
  it('minimises losses and errors, maximises the rest', () => {
    for (const k of ['loss', 'val/loss', 'eval_rmse', 'train.error_rate', 'perplexity', 'MSE']) expect(inferGoal(k)).toBe('min');
    for (const k of ['accuracy', 'eval/acc', 'f1', 'recall', 'lossless_ratio', 'auc']) expect(inferGoal(k)).toBe('max');
  });
});

describe('bestValue and byGoal', () => {
  it('takes min or max by goal', () => {
    expect(bestValue({ minValue: 0.1, maxValue: 2 }, 'min')).toBe(0.1);
    expect(bestValue({ minValue: 0.1, maxValue: 2 }, 'max')).toBe(2);
  });

  it('ranks better first and missing or NaN last', () => {
    // Wrapped: Array#sort moves bare undefined to the end without asking the comparator.
    const runs = [0.5, undefined, 0.9, NaN, 0.1].map((v, i) => ({ i, v }));
    const rank = (goal: 'min' | 'max') => [...runs].sort((a, b) => byGoal(goal)(a.v, b.v)).map((r) => r.i);
    expect(rank('max')).toEqual([2, 0, 4, 1, 3]);
    expect(rank('min')).toEqual([4, 0, 2, 1, 3]);
  });
});

describe('differingParamKeys', () => {
  it('lists keys whose values differ, counting a missing key as different', () => {
    expect(
      differingParamKeys([
        { lr: '0.1', optimizer: 'adam', seed: '1' },
        { lr: '0.01', optimizer: 'adam', seed: '1', dropout: '0.2' },
        { lr: '0.1', optimizer: 'adam', seed: '1' },
      ]),
    ).toEqual(['dropout', 'lr']);
    expect(differingParamKeys([{ a: '1' }])).toEqual([]);
    expect(differingParamKeys([])).toEqual([]);
  });

  it('compares values exactly, as strings', () => {
    expect(differingParamKeys([{ lr: '0.1' }, { lr: '0.10' }])).toEqual(['lr']);
  });
});

describe('versionTrend', () => {
  const versions = [
    { version: '1', value: 0.9 },
    { version: '2', value: 0.92 },
    { version: '3', value: 0.85 },
    { version: '4', value: undefined },
  ];

  it('flags versions worse than the baseline beyond the tolerance, in the goal direction', () => {
    const t = versionTrend(versions, '1', 'max', 0.01);
    expect(t.map((v) => v.degraded)).toEqual([false, false, true, false]);
    expect(t[2]!.delta).toBeCloseTo(-0.05, 12);
    expect(t[3]!.delta).toBeUndefined();
  });

  it('reverses for metrics to minimise', () => {
    const t = versionTrend(versions, '1', 'min', 0.01);
    expect(t.map((v) => v.degraded)).toEqual([false, true, false, false]);
  });

  it('keeps changes within the tolerance', () => {
    expect(versionTrend(versions, '1', 'max', 0.1).some((v) => v.degraded)).toBe(false);
  });
});
