import { describe, expect, it } from 'vitest';
import { encodeDatasetRows, type DatasetRowsBatch } from '@runstream/codec';
import { decodeDatasetRowsBatch } from './dataset-rows-decoder.ts';

const NOW = Date.UTC(2026, 10, 27, 12);
const msg = (offset: number, value: Buffer | null) => ({ offset, key: Buffer.from('dataset:d'), value, headers: {}, timestampMs: NOW });

const batch = (over: Partial<DatasetRowsBatch> = {}): DatasetRowsBatch => ({
  dataset: 'churn-train',
  version: 'v1',
  producer: null,
  columns: [
    { name: 'age', type: 'NUMERICAL' },
    { name: 'plan', type: 'CATEGORICAL' },
  ],
  rows: [
    { timestampMs: NOW, segment: null, values: [41, 'pro'] },
    { timestampMs: NOW, segment: 'eu', values: [NaN, null] },
    { timestampMs: NOW, segment: 'eu', values: [-Infinity, 'free'] },
  ],
  ...over,
});

describe('decodeDatasetRowsBatch', () => {
  it('keeps missing values and non-finite numbers as data, and dead-letters what is not a valid batch', () => {
    const out = decodeDatasetRowsBatch(
      {
        topic: 't',
        partition: 1,
        messages: [
          msg(5, encodeDatasetRows(batch())),
          msg(6, Buffer.from('not avro')),
          msg(7, encodeDatasetRows(batch({ rows: [{ timestampMs: NOW, segment: null, values: [1] }] }))),
          msg(8, encodeDatasetRows(batch({ rows: [{ timestampMs: NOW, segment: null, values: ['x', 'y'] }] }))),
          msg(9, encodeDatasetRows(batch({ columns: [{ name: 'a', type: 'NUMERICAL' }, { name: 'a', type: 'NUMERICAL' }], rows: [{ timestampMs: NOW, segment: null, values: [1, 2] }] }))),
          msg(10, encodeDatasetRows(batch({ dataset: '' }))),
          msg(11, null),
        ],
      },
      { storedUpTo: 4, nowMs: NOW },
    );
    expect(out.units).toHaveLength(1);
    expect(out.units[0]!.batch.rows[1]!.values[0]).toBeNaN();
    expect(out.units[0]!.batch.rows[2]!.values[0]).toBe(-Infinity);
    expect(out.deadLetters.map((d) => [d.offset, d.reason])).toEqual([
      [6, 'malformed'],
      [7, 'invalid_rows'],
      [8, 'invalid_rows'],
      [9, 'invalid_rows'],
      [10, 'invalid_rows'],
      [11, 'malformed'],
    ]);
    expect(out.deadLetters.find((d) => d.offset === 8)!.detail).toMatch(/numerical column needs a number/);
  });

  it('skips messages already stored', () => {
    const out = decodeDatasetRowsBatch({ topic: 't', partition: 0, messages: [msg(3, encodeDatasetRows(batch())), msg(4, encodeDatasetRows(batch()))] }, { storedUpTo: 3, nowMs: NOW });
    expect(out.skipped).toBe(1);
    expect(out.units.map((u) => u.srcOffset)).toEqual([4]);
  });
});
