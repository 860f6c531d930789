import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUCKET_EXPR, gridBounds, gridBucket, parseNumericBuckets, POINT_EXPR, VALUE_EXPR } from './dataset-buckets.ts';

const migration = readFileSync(new URL('../migrations/0011_dataset_summaries.sql', import.meta.url), 'utf8');

describe('the bucket grid', () => {
  it('is spelled in migration 0011 exactly as the queries spell it', () => {
    // The views and the backfill of the summaries and of the compact values.
    expect(migration.split(`${BUCKET_EXPR} AS bucket`).length - 1).toBe(4);
    expect(migration.split(`sum(${VALUE_EXPR} - ${POINT_EXPR}) AS offset_sum`).length - 1).toBe(2);
    expect(migration.split(`sum(pow(${VALUE_EXPR} - ${POINT_EXPR}, 2)) AS offset_sq_sum`).length - 1).toBe(2);
  });

  it('orders buckets as values, bounds every value by its slice and clears 40 low bits for the point', () => {
    const view = new DataView(new ArrayBuffer(8));
    const samples = [0, -0, 5e-324, -5e-324, 1, -1, 1.5, 10, -2.5, 1e-300, 1e300, -1e300, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1, 1234.5678];
    let seed = 3;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      samples.push((seed / 2 ** 31 - 0.5) * 10 ** ((seed % 600) - 300));
    }
    const sorted = [...samples].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(gridBucket(sorted[i]!)).toBeGreaterThanOrEqual(gridBucket(sorted[i - 1]!));
    for (const v of samples) {
      const b = gridBucket(v);
      const { lo, hi, point } = gridBounds(b);
      expect(lo <= v && v <= hi).toBe(true);
      // (The slice of the smallest negative numbers ends at -0, which counts as 0.)
      expect([gridBucket(lo), hi === 0 ? b : gridBucket(hi)]).toEqual([b, b]);
      view.setFloat64(0, v + 0);
      view.setUint32(0, view.getUint32(0) & 0xffffff00);
      view.setUint32(4, 0);
      expect(point).toBe(view.getFloat64(0));
    }
    expect(gridBucket(-0)).toBe(gridBucket(0));
  });
});

describe('parseNumericBuckets', () => {
  const row = (side: number, bucket: number, c: number, s: number, q: number, lo: number, hi: number, point: number) => {
    const b = Buffer.alloc(53);
    b.writeUInt8(side, 0);
    b.writeUInt32LE(bucket, 1);
    b.writeBigUInt64LE(BigInt(c), 5);
    [s, q, lo, hi, point].forEach((x, i) => b.writeDoubleLE(x, 13 + 8 * i));
    return b;
  };

  it('merges both sides per bucket in value order, with grid bounds for summaries and extents for the ends', () => {
    const b1 = gridBucket(1.25);
    const b2 = gridBucket(2.5);
    const b3 = gridBucket(7);
    const data = Buffer.concat([
      row(2, b3, 4, 0.5, 0, NaN, NaN, NaN),
      row(1, b2, 2, 0.25, 0.1, NaN, NaN, NaN),
      row(1, b1, 3, 0.75, 0.2, NaN, NaN, NaN),
      row(2, b2, 1, 0, 0, NaN, NaN, NaN),
      row(3, 0, 5, 0, 0, 1.25, 2.5, NaN),
      row(4, 0, 5, 0, 0, 2.5, 7.5, NaN),
    ]);
    const { buckets, refMin, refMax, consistent } = parseNumericBuckets(data);
    expect([refMin, refMax, consistent]).toEqual([1.25, 2.5, true]);
    // Extents that count another number of values than the buckets: rows arrived between two views.
    expect(parseNumericBuckets(Buffer.concat([data, row(3, 0, 6, 0, 0, 1.25, 2.5, NaN)])).consistent).toBe(false);
    expect(buckets.map((b) => [b.top, b.c1, b.c2, b.s1, b.s2, b.q1])).toEqual([
      [b1, 3, 0, 0.75, 0, 0.2],
      [b2, 2, 1, 0.25, 0, 0.1],
      [b3, 0, 4, 0, 0.5, 0],
    ]);
    // The ends are the extremes; inner bounds are grid slices.
    expect(buckets[0]!.lo).toBe(1.25);
    expect(buckets[2]!.hi).toBe(7.5);
    expect(buckets[1]!.lo).toBe(gridBounds(b2).lo);
    expect(buckets[0]!.hi).toBe(gridBounds(b1).hi);
  });
});
