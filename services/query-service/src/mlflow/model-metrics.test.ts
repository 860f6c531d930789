import { describe, expect, it } from 'vitest';
import { firstCopies, pointIdentity, withModelMetrics } from './model-metrics.ts';

const point = (key: string, value: number, step = 0, timestampMs = 1000) => ({ point: { key, value, step, timestampMs }, datasetName: '', datasetDigest: '' });

describe('pointIdentity', () => {
  it('compares values by their bits: NaN equals NaN, 0 and -0 differ', () => {
    expect(pointIdentity({ key: 'a', step: 0, timestampMs: 1, value: NaN })).toBe(pointIdentity({ key: 'a', step: 0, timestampMs: 1, value: NaN }));
    expect(pointIdentity({ key: 'a', step: 0, timestampMs: 1, value: 0 })).not.toBe(pointIdentity({ key: 'a', step: 0, timestampMs: 1, value: -0 }));
    expect(pointIdentity({ key: 'a', step: 0, timestampMs: 1, value: 1 })).not.toBe(pointIdentity({ key: 'a', step: 0, timestampMs: 2, value: 1 }));
  });
});

describe('withModelMetrics', () => {
  it('adds each identical point once, in step order, with the run and dataset', () => {
    const once = withModelMetrics('[]', 'r1', [point('loss', 0.5, 1), point('acc', NaN), point('acc', NaN)]);
    expect(JSON.parse(once)).toEqual([
      { key: 'acc', value: 'NaN', timestamp: 1000, step: 0, run_id: 'r1' },
      { key: 'loss', value: 0.5, timestamp: 1000, step: 1, run_id: 'r1' },
    ]);
    expect(withModelMetrics(once, 'r1', [point('loss', 0.5, 1)])).toBe(once);
    const withDataset = JSON.parse(withModelMetrics(once, 'r1', [{ ...point('loss', 0.5, 1), datasetName: 'eval', datasetDigest: 'd1' }]));
    expect(withDataset).toHaveLength(3);
    expect(withDataset[2]).toMatchObject({ dataset_name: 'eval', dataset_digest: 'd1' });
  });
});

describe('firstCopies', () => {
  it('keeps the first of identical points, across pages through the shared set', () => {
    const seen = new Set<string>();
    const p = (value: number, step = 1) => ({ step, timestampMs: 5, value });
    expect(firstCopies('k', [p(7), p(7), p(8)], seen)).toEqual([p(7), p(8)]);
    expect(firstCopies('k', [p(7), p(7, 2)], seen)).toEqual([p(7, 2)]);
  });
});
