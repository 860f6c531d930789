import { describe, expect, it } from 'vitest';
import { compareQuery, dataQuery, modelsQuery, parseCompareState, parseDataState, parseModelsState, parseRunsState, runsQuery, type CompareState, type DataState } from './url-state.ts';

describe('compare state in the URL', () => {
  it('round-trips every field', () => {
    const s: CompareState = { runs: ['a', 'b c', 'd&e'], keys: ['loss', 'eval/acc'], x: 'relative', smoothing: 0.6, from: 10, to: 500, log: true, onlyDiffering: true, rankBy: 'eval/acc' };
    expect(parseCompareState(new URLSearchParams(compareQuery(s)))).toEqual(s);
  });

  it('leaves defaults out of the link', () => {
    expect(compareQuery({ runs: ['a'], keys: [], x: 'step', smoothing: 0, log: false, onlyDiffering: false })).toBe('?run=a');
  });

  it('ignores what it cannot use', () => {
    const s = parseCompareState(new URLSearchParams('run=a&run=a&run=&x=sideways&smooth=1.5&from=9&to=3&log=yes'));
    expect(s).toEqual({ runs: ['a'], keys: [], x: 'step', smoothing: 0, log: false, onlyDiffering: false });
  });

  it('keeps a zoom only when both ends are numbers', () => {
    expect(parseCompareState(new URLSearchParams('run=a&from=5')).from).toBeUndefined();
    expect(parseCompareState(new URLSearchParams('run=a&from=5&to=5'))).toMatchObject({ from: 5, to: 5 });
  });
});

describe('runs and models state in the URL', () => {
  it('round-trips the runs page', () => {
    const s = { experiments: ['1', '2'], filter: "params.lr = '0.1' AND metrics.acc > 0.9", orderBy: 'metrics.acc DESC', columns: ['params.lr', 'metrics.acc'], selected: ['r1'] };
    expect(parseRunsState(new URLSearchParams(runsQuery(s)))).toEqual(s);
  });

  it('round-trips the models page and drops a bad goal', () => {
    const s = { model: 'churn clf', key: 'recall', baseline: 2, goal: 'min' as const, tolerance: 0.01 };
    expect(parseModelsState(new URLSearchParams(modelsQuery(s)))).toEqual(s);
    expect(parseModelsState(new URLSearchParams('model=m&goal=up&tol=-1'))).toEqual({ model: 'm', key: '', tolerance: 0 });
  });
});

describe('data state in the URL', () => {
  it('round-trips versions, windows, the over-time window and the label column', () => {
    const s: DataState = { dataset: 'serving inputs', reference: { version: 'train-v2' }, current: { version: 'prod', from: 1000, to: 5000 }, windowMs: 3_600_000, label: 'churned', methods: { age: 'psi', 'plan type': 'jensenshannon' } };
    expect(parseDataState(new URLSearchParams(dataQuery(s)))).toEqual(s);
  });

  it('drops a half-open or reversed window', () => {
    expect(parseDataState(new URLSearchParams('dataset=d&ref_from=5&cur_from=9&cur_to=3'))).toEqual({ dataset: 'd', reference: {}, current: {}, windowMs: 0, methods: {} });
  });
});
