// MLflow's request values as MLflow 3's server reads and validates them (mlflow/utils/validation.py, server handlers).
import { describe, expect, it } from 'vitest';
import { MlflowError } from './mlflow-errors.ts';
import { batchLimitMessage, batchMetrics, double, duplicateParamsProblem, entryKey, entryValue, metricKey, metricPoint, timestampMs } from './mlflow-values.ts';

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(MlflowError);
    expect((err as MlflowError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('metric points', () => {
  it('accepts timestamp 0, negative steps, int64 as strings', () => {
    expect(metricPoint({ key: 'loss', value: 0.5, timestamp: 0, step: -3 })).toEqual({ key: 'loss', value: 0.5, timestampMs: 0, step: -3 });
    expect(metricPoint({ key: 'loss', value: '1.5', timestamp: '1700000000000', step: '-1' })).toEqual({ key: 'loss', value: 1.5, timestampMs: 1_700_000_000_000, step: -1 });
    expect(metricPoint({ key: 'loss', value: 1, timestamp: 4_102_444_800_000 }).timestampMs).toBe(4_102_444_800_000);
  });

  it('refuses a negative timestamp with MLflow message', () => {
    expect(refusal(() => metricPoint({ key: 'loss', value: 1, timestamp: -1 }, 'metrics[2].'))).toMatch(/^Invalid value -1 for parameter 'metrics\[2\]\.timestamp' supplied: metric 'loss' .*nonnegative long/);
  });

  it('reads doubles as protobuf and Python do', () => {
    expect(double('NaN', 'value')).toBeNaN();
    expect(double('-nan', 'value')).toBeNaN();
    expect(double('Infinity', 'value')).toBe(Infinity);
    expect(double('-Infinity', 'value')).toBe(-Infinity);
    expect(double('inf', 'value')).toBe(Infinity);
    expect(double('-INF', 'value')).toBe(-Infinity);
    expect(double(' 1e3 ', 'value')).toBe(1000);
    expect(double('.5', 'value')).toBe(0.5);
    expect(double('1e999', 'value')).toBe(Infinity);
    expect(double(true, 'value')).toBe(1);
    expect(refusal(() => double('nan', 'value'))).toMatch(/valid double/);
    expect(refusal(() => double('banana', 'metrics[0].value'))).toBe(`Invalid value "banana" for parameter 'metrics[0].value' supplied: Please specify value as a valid double (64-bit floating point)`);
    expect(refusal(() => double(undefined, 'metrics[0].value'))).toBe("Missing value for required parameter 'metrics[0].value'.");
    expect(refusal(() => double(null, 'value'))).toBe("Missing value for required parameter 'value'.");
  });

  it('keys: MLflow characters (colon included), normalized paths, 250 characters', () => {
    for (const ok of ['loss', 'eval/acc', 'val:loss', 'a b', 'métrica', '.x', 'a..b']) expect(metricKey(ok)).toBe(ok);
    expect(refusal(() => metricKey('bad!', 'metrics[1].name'))).toMatch(/^Invalid value "bad!" for parameter 'metrics\[1\]\.name' supplied: Names may only contain .*colon\(:\)/);
    for (const bad of ['/a', 'a/', 'a//b', 'a/./b', 'a/../b', '..', '..a', '.']) expect(refusal(() => metricKey(bad)), bad).toMatch(/must not resolve to other names/);
    expect(refusal(() => metricKey('a'.repeat(251)))).toBe("'Metric name' exceeds the maximum length of 250 characters");
    expect(refusal(() => metricKey(undefined, 'metrics[0].name'))).toBe("Missing value for required parameter 'metrics[0].key'.");
    expect(refusal(() => metricKey(''))).toBe("Missing value for required parameter 'key'.");
  });

  it('a batch keeps identical points once, as MLflow stores them', () => {
    const points = batchMetrics([
      { key: 'loss', value: 1, timestamp: 5, step: 1 },
      { key: 'loss', value: 1, timestamp: 5, step: 1 },
      { key: 'loss', value: 'NaN', timestamp: 5, step: 1 },
      { key: 'loss', value: 'NaN', timestamp: 5, step: 1 },
      { key: 'loss', value: 2, timestamp: 5, step: 1 },
    ]);
    expect(points.map((p) => p.value)).toEqual([1, NaN, 2]);
  });

  it("names MLflow's batch limits as MLflow does", () => {
    expect(batchLimitMessage('metrics', 1000, 1001)).toBe('A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.');
  });
});

describe('params and tags', () => {
  it('stores long values truncated, as the server does by default: params at 6000, run tags at 8000 characters', () => {
    expect(entryValue('p'.repeat(7000), 'param', 'k')).toHaveLength(6000);
    expect(entryValue('t'.repeat(9000), 'tag', 'k')).toHaveLength(8000);
    expect(entryValue('t'.repeat(7999), 'tag', 'k')).toHaveLength(7999);
    // Characters are code points: 8000 emoji are 16000 UTF-16 units and fit.
    expect(entryValue('😀'.repeat(8000), 'tag', 'k')).toBe('😀'.repeat(8000));
    expect(entryValue('😀'.repeat(6001), 'param', 'k')).toBe('😀'.repeat(6000));
    expect(entryValue(undefined, 'param', 'k')).toBe('');
    expect(entryValue(32, 'param', 'k')).toBe('32');
  });

  it('refuses experiment tag values over 20,000 characters', () => {
    expect(entryValue('e'.repeat(20_000), 'experiment-tag', 'k')).toHaveLength(20_000);
    expect(refusal(() => entryValue('e'.repeat(20_001), 'experiment-tag', 'k'))).toBe("'value' exceeds the maximum length of 20000 characters");
  });

  it('keys follow the name rule', () => {
    expect(entryKey('mlflow.runName', 'tag')).toBe('mlflow.runName');
    expect(entryKey('optimizer:lr', 'param')).toBe('optimizer:lr');
    expect(refusal(() => entryKey('a'.repeat(251), 'param'))).toBe("'Param key' exceeds the maximum length of 250 characters");
    expect(refusal(() => entryKey('x?', 'tag'))).toMatch(/^Invalid value "x\?" for parameter 'key' supplied: Names may only contain/);
    expect(refusal(() => entryKey(null, 'param'))).toBe("Missing value for required parameter 'key'.");
  });

  it('refuses a batch naming a param twice, even with the same value', () => {
    expect(duplicateParamsProblem(['a', 'b'])).toBeUndefined();
    expect(duplicateParamsProblem(['a', 'b', 'a'])).toBe("Duplicate parameter keys have been submitted: ['a']. Please ensure the request contains only one param value per param key.");
  });
});

it('run times: any integer, now when absent', () => {
  expect(timestampMs(0, 'start_time')).toBe(0);
  expect(Math.abs(timestampMs(undefined, 'start_time') - Date.now())).toBeLessThan(1000);
});
