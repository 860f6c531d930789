import { describe, expect, it } from 'vitest';
import { breaches, thresholdOf, transitions } from './alert-rules.ts';
import { monitorProblem, type AlertRule, type Monitor } from './monitor-definition.ts';
import { monitorMetricKey } from './monitor-evaluator.ts';

const rule: AlertRule = { name: 'acc', metric: 'accuracy', op: 'below', threshold: 0.8, min_rows: 10 };
const w = (start: number, value: number | null, rows = 100) => ({ windowStartMs: start, value, rows });

describe('alert rules', () => {
  it('fires and resolves where the value crosses, skipping windows without a value or with too few rows', () => {
    const events = transitions('m', rule, 'resolved', [w(0, 0.9), w(1, 0.7), w(2, null), w(3, 0.1, 5), w(4, 0.75), w(5, 0.85)], 0.8, 42);
    expect(events.map((e) => [e.state, e.windowStartMs, e.value])).toEqual([['firing', 1, 0.7], ['resolved', 5, 0.85]]);
    expect(events[0]!.idempotencyKey).toBe('m/acc/1/firing');
    expect(transitions('m', rule, 'firing', [w(0, 0.5)], 0.8, 0)).toEqual([]);
    expect(transitions('m', rule, 'resolved', [w(0, 0.5)], undefined, 0)).toEqual([]);
  });
  it('derives thresholds from a baseline with the tolerance on the good side', () => {
    expect(thresholdOf({ ...rule, threshold: undefined, baseline: { version: '1', tolerance: 0.05 } }, 0.9)).toBeCloseTo(0.85, 15);
    expect(thresholdOf({ ...rule, op: 'above', threshold: undefined, baseline: { version: '1', tolerance: 0.05 } }, 0.1)).toBeCloseTo(0.15, 15);
    expect(thresholdOf({ ...rule, threshold: undefined, baseline: { version: '1', tolerance: 0 } }, undefined)).toBeUndefined();
    expect(breaches({ op: 'above' }, 0.3, 0.3)).toBe(false);
    expect(breaches({ op: 'below' }, 0.29, 0.3)).toBe(true);
  });
});

describe('monitor definitions', () => {
  const base: Monitor = { name: 'm', model: { name: 'x', version: '1' }, task: 'binary', dataset: 'd', prediction_column: 'p', label_column: 'y', sensitive_columns: [], window_ms: 3_600_000, min_group_size: 30, alerts: [] };
  it('rejects what the schema cannot', () => {
    expect(monitorProblem(base)).toBeUndefined();
    expect(monitorProblem({ ...base, label_column: undefined })).toMatch(/label_column or labels/);
    expect(monitorProblem({ ...base, labels: { dataset: 'l', id_column: 'id', label_column: 'y' } })).toMatch(/id_column/);
    expect(monitorProblem({ ...base, task: 'regression', score_column: 's' })).toMatch(/binary/);
    expect(monitorProblem({ ...base, alerts: [rule, rule] })).toMatch(/twice/);
    expect(monitorProblem({ ...base, alerts: [{ ...rule, threshold: undefined }] })).toMatch(/exactly one/);
    expect(monitorProblem({ ...base, alerts: [{ ...rule, metric: 'drift_share' }] })).toMatch(/drift reference/);
  });
  it('names metric keys in the characters metric keys allow', () => {
    expect(monitorMetricKey('churn', null, 'fairness.sex.demographic_parity_difference')).toBe('churn/fairness.sex.demographic_parity_difference');
    expect(monitorMetricKey('churn', 'eu/west:1', 'f1')).toBe('churn/eu_west_1/f1');
    expect(monitorMetricKey('churn', '', 'f1')).toBe('churn/_/f1');
  });
});
