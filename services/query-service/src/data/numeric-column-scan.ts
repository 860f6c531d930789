// Exact KS, Wasserstein and histograms of one numerical column: the bucket summaries first (dataset-buckets.ts), then
// only the buckets the scan leaves undecided (packages/drift/src/bucket-scan.ts), read again finer — as sub-buckets
// when they hold many values, value by value otherwise — until nothing is undecided.
import { bucketValues, subBuckets, type BucketPart, type ClickHouse, type NumericBucket, type RowSelection } from '@runstream/clickhouse';
import { emptyTotals, scanBuckets, scanValues, type PendingBucket, type ScanGoals, type ScanTotals } from '@runstream/drift';
import { pool } from './task-pool.ts';

/** An undecided bucket holding more values than this is cut into sub-buckets rather than read value by value. */
const MAX_VALUES_PER_BUCKET = 20_000;
const SUB_BUCKETS = 1024;

/** Rows arrived between two reads of the same selection: the counts no longer add up (the caller reads again). */
export class SelectionChangedError extends Error {
  constructor(column: string) {
    super(`column ${JSON.stringify(column)} changed while it was being read`);
  }
}

export interface NumericColumnScan {
  ch: ClickHouse;
  reference: RowSelection;
  current: RowSelection;
  column: string;
  /** The column's bucket summaries, both sides, in value order. */
  buckets: NumericBucket[];
  goals: ScanGoals;
  /** Histogram edges (numpy's bins), one array per histogram the goals ask for. */
  edges: readonly (readonly number[])[];
}

export async function scanNumericColumn(s: NumericColumnScan): Promise<ScanTotals> {
  let n1 = 0;
  let n2 = 0;
  for (const b of s.buckets) {
    n1 += b.c1;
    n2 += b.c2;
  }
  const totals = emptyTotals(n1, n2, s.edges);
  const top = scanBuckets(s.buckets, 0, s.goals, s.edges, totals);
  // Undecided summary buckets are read whole (by bucket number: the primary key finds them); finer ones by range.
  const whole = new Set(top.map((p) => p.bucket));
  // Buckets whose sub-buckets did not split them (values too close together for the cells): read value by value.
  const byValue = new Set<NumericBucket>();
  let pending = top;
  while (pending.length > 0) {
    const next: PendingBucket<NumericBucket>[] = [];
    const small = pending.filter((p) => p.bucket.c1 + p.bucket.c2 <= MAX_VALUES_PER_BUCKET || byValue.has(p.bucket));
    const large = pending.filter((p) => !small.includes(p));
    for (const chunk of chunks(small)) await settleFromValues(s, chunk, whole, totals);
    await pool(large, SUB_BUCKET_QUERIES, async (p) => {
      const parent = p.bucket;
      const sub = await subBuckets(s.ch, s.reference, s.current, s.column, { bucket: parent.top, lo: parent.lo, hi: parent.hi }, SUB_BUCKETS);
      expectCounts(s.column, parent, sub.reduce((a, b) => a + b.c1, 0), sub.reduce((a, b) => a + b.c2, 0));
      if (sub.length === 1 && sub[0]!.lo === parent.lo && sub[0]!.hi === parent.hi) byValue.add(sub[0]!);
      // The sub-buckets span their values; D is constant from the parent's bound to the first and after the last.
      if (p.goals.wasserstein && sub.length > 0) {
        const dEnd = p.dStart + parent.c1 * n2 - parent.c2 * n1;
        const scale = 1 / (n1 * n2);
        totals.wasserstein += Math.abs(p.dStart) * scale * (sub[0]!.lo - parent.lo) + Math.abs(dEnd) * scale * (parent.hi - sub[sub.length - 1]!.hi);
      }
      next.push(...scanBuckets(sub, p.dStart, p.goals, s.edges, totals));
    });
    pending = next;
  }
  return totals;
}

/** Values read per query at most, and query terms: bounded memory and query size (ClickHouse accepts 256 KiB). */
const VALUES_PER_READ = 2_000_000;
const TERMS_PER_READ = 1_000;
/** Sub-bucket queries of one column at once. */
const SUB_BUCKET_QUERIES = 2;

/** Pending buckets in value order, cut into reads of bounded size. */
function chunks(pending: PendingBucket<NumericBucket>[]): PendingBucket<NumericBucket>[][] {
  const sorted = [...pending].sort((a, b) => a.bucket.lo - b.bucket.lo);
  const out: PendingBucket<NumericBucket>[][] = [];
  let current: PendingBucket<NumericBucket>[] = [];
  let values = 0;
  for (const p of sorted) {
    const n = p.bucket.c1 + p.bucket.c2;
    if (current.length > 0 && (values + n > VALUES_PER_READ || current.length >= TERMS_PER_READ)) {
      out.push(current);
      current = [];
      values = 0;
    }
    current.push(p);
    values += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function settleFromValues(s: NumericColumnScan, pending: PendingBucket<NumericBucket>[], whole: Set<NumericBucket>, totals: ScanTotals): Promise<void> {
  const parts: BucketPart[] = pending.map((p) => (whole.has(p.bucket) ? { bucket: p.bucket.top } : { bucket: p.bucket.top, lo: p.bucket.lo, hi: p.bucket.hi }));
  const { values, sides } = await bucketValues(s.ch, s.reference, s.current, s.column, parts);
  // Values arrive for whole buckets or covering ranges: each pending bucket takes those within its bounds.
  for (const p of pending) {
    const from = lowerBound(values, p.bucket.lo);
    const to = lowerBound(values, p.bucket.hi, true);
    const v = values.subarray(from, to);
    const side = sides.subarray(from, to);
    let c1 = 0;
    for (let i = 0; i < side.length; i++) if (side[i] === 1) c1++;
    expectCounts(s.column, p.bucket, c1, side.length - c1);
    scanValues(v, side, p, s.edges, totals);
  }
}

function expectCounts(column: string, b: NumericBucket, c1: number, c2: number): void {
  if (c1 !== b.c1 || c2 !== b.c2) throw new SelectionChangedError(column);
}

/** First index whose value is ≥ x (or > x with `after`). */
function lowerBound(values: Float64Array, x: number, after = false): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < x || (after && values[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
