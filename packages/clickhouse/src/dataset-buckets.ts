// Reads for drift of numerical columns by buckets (packages/drift/src/bucket-scan.ts does the maths), and the
// per-category counts of categorical columns. A selection of whole versions (or a whole dataset) reads what migration
// 0011 keeps up to date: bucket summaries, then the compact copy of the values for the few buckets the summaries
// leave undecided. A time window or a segment reads the rows and summarizes them the same way, with the very same
// expressions.
import { queryRowBinary, queryRows, type ClickHouse } from './clickhouse-client.ts';
import { floatFromBits } from './float-bits.ts';
import { CLEAN, columnFilter, selectionFilter, type ColumnTypeName, type RowSelection } from './dataset-selection.ts';
import type { ValueBucket } from '@runstream/drift';
import { joinSql, quoteFloat, sql, SqlFragment } from './sql-literal.ts';

// The bucket grid, as migration 0011 spells it (test/dataset-summaries.test.ts checks the migration uses these).
/** A clean value, -0 counted as 0. */
export const VALUE_EXPR = 'num_value + 0';
const BITS = `reinterpretAsUInt64(reinterpretAsString(${VALUE_EXPR}))`;
/** Top 24 bits of the value's order-preserving bit pattern: 4096 equal slices of every power-of-two range. */
export const BUCKET_EXPR = `toUInt32(bitShiftRight(if(${BITS} >= 9223372036854775808, bitNot(${BITS}), bitOr(${BITS}, 9223372036854775808)), 40))`;
/** The bucket's point: the value's top 24 bits with the low bits cleared (offsets from it stay small). */
export const POINT_EXPR = `reinterpretAsFloat64(reinterpretAsString(bitAnd(${BITS}, 18446742974197923840)))`;
/** Whole versions or a whole dataset: what the summaries can answer. */
export function summarized(s: RowSelection): boolean {
  return s.fromMs === undefined && s.toMs === undefined && s.segment === undefined;
}

function summaryFilter(s: RowSelection): SqlFragment {
  return s.version === undefined ? sql`dataset = ${s.dataset}` : sql`dataset = ${s.dataset} AND version = ${s.version}`;
}

const numericRows = (s: RowSelection, column: string, extra?: SqlFragment) =>
  sql`dataset_rows_v2 WHERE ${selectionFilter(s)} AND column = ${column} AND column_type = 'numerical' AND ${CLEAN}${extra ? sql` AND ${extra}` : sql``}`;

function sideBuckets(side: 1 | 2, s: RowSelection, column: string): SqlFragment {
  const tag = new SqlFragment(`toUInt8(${side}) AS side`);
  if (summarized(s)) {
    // Bounds and point follow from the bucket number (gridBounds); the extents come as one more row, side + 2.
    const extentsTag = new SqlFragment(`toUInt8(${side + 2}) AS side`);
    // Rows as stored: parts not merged yet repeat a bucket, and the parse adds those up (cheaper than GROUP BY here).
    return sql`SELECT ${tag}, bucket, value_count AS c, offset_sum AS s, offset_sq_sum AS q, nan AS lo, nan AS hi, nan AS point
        FROM dataset_numeric_buckets_v1 WHERE ${summaryFilter(s)} AND column = ${column}
      UNION ALL
      SELECT ${extentsTag}, toUInt32(0) AS bucket, countMerge(value_count) AS c, toFloat64(0) AS s, toFloat64(0) AS q, minMerge(min_value) AS lo, maxMerge(max_value) AS hi, nan AS point
        FROM dataset_numeric_extents_v1 WHERE ${summaryFilter(s)} AND column = ${column}`;
  }
  return sql`SELECT ${tag}, bucket, count() AS c, sum(v - p) AS s, sum(pow(v - p, 2)) AS q, min(v) AS lo, max(v) AS hi, any(p) AS point
    FROM (SELECT ${new SqlFragment(BUCKET_EXPR)} AS bucket, ${new SqlFragment(VALUE_EXPR)} AS v, ${new SqlFragment(POINT_EXPR)} AS p FROM ${numericRows(s, column)})
    GROUP BY bucket`;
}

const BUCKET_COLUMNS = new SqlFragment('side, bucket, c, s, q, lo, hi, point');

/**
 * Both sides' buckets of one numerical column (RowBinary: UInt8, UInt32, UInt64, 5 × Float64; in no particular
 * order). Side 1 = reference, 2 = current; sides 3 and 4 carry a summarized side's extremes.
 */
export function numericBucketsSql(ref: RowSelection, cur: RowSelection, column: string): SqlFragment {
  return sql`SELECT ${BUCKET_COLUMNS} FROM (${sideBuckets(1, ref, column)} UNION ALL ${sideBuckets(2, cur, column)})`;
}

export interface BucketPart {
  bucket: number;
  /** A range inside the bucket; the whole bucket without one. */
  lo?: number;
  hi?: number;
}

/**
 * One side's clean values of one column as (bucket, value): for whole versions the compact copy of migration 0011
 * (hashed names, bucket in the primary key), otherwise the rows themselves with the bucket computed.
 */
function sideValues(side: 1 | 2, s: RowSelection, column: string, parts: readonly BucketPart[] | undefined): SqlFragment {
  const wanted = parts ? partsFilter(parts) : sql`1`;
  const tag = new SqlFragment(`toUInt8(${side}) AS side`);
  if (summarized(s)) {
    const version = s.version === undefined ? sql`` : sql` AND version_key = sipHash64(${s.version})`;
    return sql`SELECT ${tag}, bucket, value FROM dataset_numeric_values_v1 WHERE dataset_key = sipHash64(${s.dataset}) AND column_key = sipHash64(${column})${version} AND (${wanted})`;
  }
  return sql`SELECT ${tag}, bucket, value FROM (SELECT ${new SqlFragment(BUCKET_EXPR)} AS bucket, ${new SqlFragment(VALUE_EXPR)} AS value FROM ${numericRows(s, column)}) WHERE ${wanted}`;
}

/** Ranges inside one bucket beyond this many are read as one range covering them (the caller picks its values). */
const RANGES_PER_BUCKET = 16;

/**
 * The filter for bucket parts: whole buckets in one IN list (a set lookup per row read), ranges inside a bucket per
 * bucket (few: every term is evaluated for every row read). Callers bound the number of parts per query.
 */
function partsFilter(parts: readonly BucketPart[]): SqlFragment {
  const whole = [...new Set(parts.filter((p) => p.lo === undefined).map((p) => p.bucket))];
  const terms: SqlFragment[] = whole.length > 0 ? [sql`bucket IN ${whole}`] : [];
  const ranges = new Map<number, { lo: number; hi: number }[]>();
  for (const p of parts) {
    if (p.lo === undefined) continue;
    let list = ranges.get(p.bucket);
    if (!list) ranges.set(p.bucket, (list = []));
    list.push({ lo: p.lo, hi: p.hi! });
  }
  for (const [bucket, list] of ranges) {
    const merged = list.length > RANGES_PER_BUCKET ? [{ lo: Math.min(...list.map((r) => r.lo)), hi: Math.max(...list.map((r) => r.hi)) }] : list;
    terms.push(sql`(bucket = ${bucket} AND (${joinSql(merged.map((r) => sql`(value >= ${r.lo} AND value <= ${r.hi})`), ' OR ')}))`);
  }
  return terms.length > 0 ? joinSql(terms, ' OR ') : sql`0`;
}

const bothSidesValues = (ref: RowSelection, cur: RowSelection, column: string, parts: readonly BucketPart[] | undefined) =>
  sql`(${sideValues(1, ref, column, parts)} UNION ALL ${sideValues(2, cur, column, parts)})`;

/** One bucket's values (or a range of them) cut into `cells` equal cells (same columns as numericBucketsSql). */
export function subBucketsSql(ref: RowSelection, cur: RowSelection, column: string, part: Required<BucketPart>, cells: number): SqlFragment {
  // A range too narrow for the cells (a scale that overflows, a width that underflows) is one cell.
  const scale = part.hi > part.lo ? cells / (part.hi - part.lo) : 0;
  const width = (part.hi - part.lo) / cells;
  const split = Number.isFinite(scale) && width > 0;
  const f = (x: number) => new SqlFragment(`toFloat64(${quoteFloat(x)})`);
  return sql`SELECT side, cell AS bucket, count() AS c, sum(value - p) AS s, sum(pow(value - p, 2)) AS q, min(value) AS lo, max(value) AS hi, any(p) AS point
    FROM (SELECT side, value, least(toUInt32(floor((value - ${f(part.lo)}) * ${f(split ? scale : 0)})), toUInt32(${cells - 1})) AS cell, ${f(part.lo)} + cell * ${f(split ? width : 0)} AS p FROM ${bothSidesValues(ref, cur, column, [part])})
    GROUP BY side, cell
    ORDER BY bucket, side`;
}

/**
 * One side's count, Σ(v − shift) and Σ(v − shift)² (Kahan sums; as IEEE bits): with a shift near the values, a
 * variance without the cancellation of sums far from them.
 */
export function shiftedMomentsSql(s: RowSelection, column: string, shift: number): SqlFragment {
  return sql`SELECT count() AS n, hex(reinterpretAsString(sumKahan(value - ${shift}))) AS s, hex(reinterpretAsString(sumKahan(pow(value - ${shift}, 2)))) AS q
    FROM (${sideValues(1, s, column, undefined)})`;
}

export async function shiftedMoments(ch: ClickHouse, s: RowSelection, column: string, shift: number): Promise<{ n: number; sum: number; sumSq: number }> {
  const [row] = await queryRows<{ n: string; s: string; q: string }>(ch, shiftedMomentsSql(s, column, shift));
  return { n: Number(row!.n), sum: floatFromBits(row!.s), sumSq: floatFromBits(row!.q) };
}

/**
 * Each side's distinct values with their counts, the smallest `perSide` of each (RowBinary: UInt8 side, Float64
 * value, UInt64 count): for columns whose buckets are too few to tell their distinct counts.
 */
export function fewValuesSql(ref: RowSelection, cur: RowSelection, column: string, perSide: number): SqlFragment {
  return sql`SELECT side, value, count() AS c FROM ${bothSidesValues(ref, cur, column, undefined)} GROUP BY side, value ORDER BY side, value LIMIT ${perSide} BY side`;
}

export async function fewValues(ch: ClickHouse, ref: RowSelection, cur: RowSelection, column: string, perSide: number): Promise<{ side: number; value: number; count: number }[]> {
  const data = await queryRowBinary(ch, fewValuesSql(ref, cur, column, perSide));
  const out: { side: number; value: number; count: number }[] = [];
  for (let at = 0; at < data.length; at += 17) out.push({ side: data.readUInt8(at), value: data.readDoubleLE(at + 1), count: data.readUInt32LE(at + 9) + data.readUInt32LE(at + 13) * 2 ** 32 });
  return out;
}

/** One bucket of both sides, as packages/drift's scanBuckets takes it. */
export interface NumericBucket extends ValueBucket {
  /** The grid bucket (of BUCKET_EXPR) the values lie in; sub-buckets keep their bucket's. */
  top: number;
}

export interface NumericColumnBuckets {
  /** In value order. The first bucket's lo and the last one's hi are the column's extremes. */
  buckets: NumericBucket[];
  /** The reference's extremes (NaN without reference values). */
  refMin: number;
  refMax: number;
  /**
   * False when a summarized side's extents count other values than its buckets: rows arrived between the views of one
   * insert (they run one after the other); read again.
   */
  consistent: boolean;
}

const BUCKET_ROW_BYTES = 1 + 4 + 8 + 5 * 8;
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
const floatScratch = new DataView(new ArrayBuffer(8));

/** The double whose order-preserving key has these high and low 32-bit words. */
function keyToFloat(high: number, low: number): number {
  if (high >= 0x80000000) floatScratch.setUint32(0, (high ^ 0x80000000) >>> 0);
  else floatScratch.setUint32(0, ~high >>> 0);
  floatScratch.setUint32(4, high >= 0x80000000 ? low : ~low >>> 0);
  return floatScratch.getFloat64(0);
}

/** The grid bucket of a finite value, as BUCKET_EXPR computes it (-0 counted as 0). */
export function gridBucket(value: number): number {
  floatScratch.setFloat64(0, value + 0);
  const high = floatScratch.getUint32(0);
  // Order-preserving key: flip every bit of a negative number, only the sign bit of a positive one; keep the top 24.
  return (high >= 0x80000000 ? ~high >>> 0 : (high | 0x80000000) >>> 0) >>> 8;
}

/** A summary bucket's slice of the grid, [smallest, largest double in it], and its point (BUCKET_EXPR, POINT_EXPR). */
export function gridBounds(bucket: number): { lo: number; hi: number; point: number } {
  const lo = gridLow(bucket);
  const hi = gridHigh(bucket);
  return { lo, hi, point: gridPoint(bucket, lo, hi) };
}

/** The smallest and largest double of a bucket (its key's low 40 bits all clear, all set). */
const gridLow = (bucket: number) => keyToFloat((bucket << 8) >>> 0, 0);
const gridHigh = (bucket: number) => keyToFloat(((bucket << 8) | 0xff) >>> 0, 0xffffffff);
/** The point clears the value's low 40 bits: the bound nearer zero. */
const gridPoint = (bucket: number, lo: number, hi: number) => (bucket >= 0x800000 ? lo : hi);

/** One side's rows, column-wise (parsing tens of thousands of rows per column must not allocate per row). */
interface SideRows {
  n: number;
  bucket: Uint32Array;
  c: Float64Array;
  s: Float64Array;
  q: Float64Array;
  lo: Float64Array;
  hi: Float64Array;
  point: Float64Array;
}

function sideRows(capacity: number): SideRows {
  const f = () => new Float64Array(capacity);
  return { n: 0, bucket: new Uint32Array(capacity), c: f(), s: f(), q: f(), lo: f(), hi: f(), point: f() };
}

/** Row order by bucket: the rows arrive in no particular order. */
function orderByBucket(rows: SideRows): Uint32Array {
  let sorted = true;
  for (let i = 1; i < rows.n && sorted; i++) sorted = rows.bucket[i - 1]! <= rows.bucket[i]!;
  const order = new Uint32Array(rows.n);
  if (sorted) {
    for (let i = 0; i < rows.n; i++) order[i] = i;
    return order;
  }
  // bucket · 2^24 + row is exact in a double (both below 2^24) and sorts natively.
  const keys = new Float64Array(rows.n);
  for (let i = 0; i < rows.n; i++) keys[i] = rows.bucket[i]! * 16777216 + i;
  keys.sort();
  for (let i = 0; i < rows.n; i++) order[i] = keys[i]! % 16777216;
  return order;
}

/** One side's rows of `bucket` from position `from` of its order, added up; `next` is the position after them. */
function addUp(rows: SideRows, order: Uint32Array, from: number, bucket: number) {
  const out = { next: from, n: 0, s: 0, q: 0, lo: Infinity, hi: -Infinity, point: 0 };
  for (; out.next < rows.n && rows.bucket[order[out.next]!] === bucket; out.next++) {
    const x = order[out.next]!;
    out.point = rows.point[x]!;
    out.lo = Math.min(out.lo, rows.lo[x]!);
    out.hi = Math.max(out.hi, rows.hi[x]!);
    out.n += rows.c[x]!;
    out.s += rows.s[x]!;
    out.q += rows.q[x]!;
  }
  return out;
}

/** Both sides' rows merged per bucket, in value order. */
export function parseNumericBuckets(data: Buffer): NumericColumnBuckets {
  if (data.length % BUCKET_ROW_BYTES !== 0) throw new Error(`bucket rows: ${data.length} bytes is not a whole number of rows`);
  const total = data.length / BUCKET_ROW_BYTES;
  if (total >= 16777216) throw new Error(`bucket rows: ${total} rows are more than one read handles`);
  const sides = [sideRows(total), sideRows(total)] as const;
  const extents: ([number, number] | undefined)[] = [undefined, undefined];
  const extentCounts: (number | undefined)[] = [undefined, undefined];
  for (let at = 0; at < data.length; at += BUCKET_ROW_BYTES) {
    const side = data[at]!;
    const c = data.readUInt32LE(at + 5) + data.readUInt32LE(at + 9) * 2 ** 32;
    if (side > 2) {
      extents[side - 3] = c > 0 ? [data.readDoubleLE(at + 29), data.readDoubleLE(at + 37)] : [NaN, NaN];
      extentCounts[side - 3] = c;
      continue;
    }
    if (c === 0) continue;
    const r = sides[side - 1]!;
    const i = r.n++;
    const bucket = data.readUInt32LE(at + 1);
    r.bucket[i] = bucket;
    r.c[i] = c;
    r.s[i] = data.readDoubleLE(at + 13);
    r.q[i] = data.readDoubleLE(at + 21);
    const point = data.readDoubleLE(at + 45);
    if (Number.isNaN(point)) {
      // A summary bucket: its slice of the grid (gridBounds, without an object per row).
      r.lo[i] = gridLow(bucket);
      r.hi[i] = gridHigh(bucket);
      r.point[i] = gridPoint(bucket, r.lo[i]!, r.hi[i]!);
    } else {
      r.lo[i] = data.readDoubleLE(at + 29);
      r.hi[i] = data.readDoubleLE(at + 37);
      r.point[i] = point;
    }
  }
  const [ref, cur] = sides;
  const refOrder = orderByBucket(ref);
  const curOrder = orderByBucket(cur);
  const buckets: NumericBucket[] = [];
  let i = 0;
  let j = 0;
  while (i < ref.n || j < cur.n) {
    const rb = i < ref.n ? ref.bucket[refOrder[i]!]! : Infinity;
    const cb = j < cur.n ? cur.bucket[curOrder[j]!]! : Infinity;
    const bucket = Math.min(rb, cb);
    // Several rows of one bucket and side (summary parts not merged yet) add up.
    const r = addUp(ref, refOrder, i, bucket);
    const c = addUp(cur, curOrder, j, bucket);
    i = r.next;
    j = c.next;
    buckets.push({ top: bucket, point: r.n > 0 ? r.point : c.point, lo: Math.min(r.lo, c.lo), hi: Math.max(r.hi, c.hi), c1: r.n, c2: c.n, s1: r.s, s2: c.s, q1: r.q });
  }
  // A summarized side's extremes come from its extents; a side read from rows has them in its buckets.
  const extremes = (k: 0 | 1): [number, number] => {
    const e = extents[k];
    if (e) return e;
    const r = sides[k];
    if (r.n === 0) return [NaN, NaN];
    let lo = Infinity;
    let hi = -Infinity;
    for (let x = 0; x < r.n; x++) {
      lo = Math.min(lo, r.lo[x]!);
      hi = Math.max(hi, r.hi[x]!);
    }
    return [lo, hi];
  };
  const [refMin, refMax] = extremes(0);
  const [curMin, curMax] = extremes(1);
  const known = (xs: number[]) => xs.filter((x) => !Number.isNaN(x));
  if (buckets.length > 0) {
    buckets[0]!.lo = Math.min(...known([refMin, curMin]));
    buckets[buckets.length - 1]!.hi = Math.max(...known([refMax, curMax]));
  }
  const consistent = [0, 1].every((k) => {
    if (extentCounts[k] === undefined) return true;
    let n = 0;
    for (let x = 0; x < sides[k]!.n; x++) n += sides[k]!.c[x]!;
    return n === extentCounts[k];
  });
  return { buckets, refMin, refMax, consistent };
}

export async function numericBuckets(ch: ClickHouse, ref: RowSelection, cur: RowSelection, column: string): Promise<NumericColumnBuckets> {
  return parseNumericBuckets(await queryRowBinary(ch, numericBucketsSql(ref, cur, column)));
}

export async function subBuckets(ch: ClickHouse, ref: RowSelection, cur: RowSelection, column: string, part: Required<BucketPart>, cells: number): Promise<NumericBucket[]> {
  return parseNumericBuckets(await queryRowBinary(ch, subBucketsSql(ref, cur, column, part, cells))).buckets.map((b) => ({ ...b, top: part.bucket }));
}

/** One side's clean values of the given bucket parts of one column (RowBinary: Float64). */
export function bucketValuesSql(side: RowSelection, column: string, parts: readonly BucketPart[]): SqlFragment {
  return sql`SELECT value FROM (${sideValues(1, side, column, parts)})`;
}

/** One side's values as doubles, ascending. */
async function sideValuesSorted(ch: ClickHouse, s: RowSelection, column: string, parts: readonly BucketPart[]): Promise<Float64Array> {
  // One thread reads a part in key order, so the values of one part come sorted (and the check below is all it costs).
  const data = await queryRowBinary(ch, bucketValuesSql(s, column, parts), { settings: { max_threads: 1 } });
  const values = new Float64Array(data.length / 8);
  // On a little-endian machine the bytes copied into an aligned buffer are the doubles.
  if (LITTLE_ENDIAN) new Uint8Array(values.buffer).set(data);
  else for (let i = 0; i < values.length; i++) values[i] = data.readDoubleLE(i * 8);
  for (let i = 1; i < values.length; i++) {
    if (values[i - 1]! > values[i]!) return values.sort();
  }
  return values;
}

/** The values of the given bucket parts, both sides, in ascending order (equal values in either side's order). */
export async function bucketValues(ch: ClickHouse, ref: RowSelection, cur: RowSelection, column: string, parts: readonly BucketPart[]): Promise<{ values: Float64Array; sides: Uint8Array }> {
  const [a, b] = await Promise.all([sideValuesSorted(ch, ref, column, parts), sideValuesSorted(ch, cur, column, parts)]);
  return mergeSorted(a, b);
}

/** Two ascending lists merged, each value tagged with its side (1 = the first list). */
export function mergeSorted(ref: Float64Array, cur: Float64Array): { values: Float64Array; sides: Uint8Array } {
  const n = ref.length + cur.length;
  const values = new Float64Array(n);
  const sides = new Uint8Array(n);
  for (let k = 0, a = 0, b = 0; k < n; k++) {
    if (b >= cur.length || (a < ref.length && ref[a]! <= cur[b]!)) {
      values[k] = ref[a++]!;
      sides[k] = 1;
    } else {
      values[k] = cur[b++]!;
      sides[k] = 2;
    }
  }
  return { values, sides };
}

// ---------------------------------------------------------------------------------------------------------------
// Columns and categories

function sidesFilter(ref: RowSelection, cur: RowSelection): SqlFragment {
  // Summaries filter by version only; a window's columns are found among its dataset's (and dropped later if empty).
  const one = (s: RowSelection) => (summarized(s) ? summaryFilter(s) : sql`dataset = ${s.dataset}`);
  return sql`((${one(ref)}) OR (${one(cur)}))`;
}

export function driftColumnsSql(ref: RowSelection, cur: RowSelection, columns?: readonly string[]): SqlFragment {
  const where = sql`${sidesFilter(ref, cur)}${columnFilter(columns)}`;
  return sql`SELECT column, arraySort(groupUniqArray(t)) AS types FROM (
      SELECT column, 'numerical' AS t FROM dataset_numeric_buckets_v1 WHERE ${where} GROUP BY column
      UNION ALL
      SELECT column, 'categorical' AS t FROM dataset_category_counts_v1 WHERE ${where} GROUP BY column
    )
    GROUP BY column
    ORDER BY column`;
}

/** The columns with clean values in the selections' datasets (or versions), with the types they were stored as. */
export async function driftColumns(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns?: readonly string[]): Promise<{ column: string; types: ColumnTypeName[] }[]> {
  return queryRows<{ column: string; types: ColumnTypeName[] }>(ch, driftColumnsSql(ref, cur, columns));
}

function sideCategories(side: 1 | 2, s: RowSelection, columns: readonly string[]): SqlFragment {
  const counts = side === 1 ? new SqlFragment('n AS c1, toUInt64(0) AS c2') : new SqlFragment('toUInt64(0) AS c1, n AS c2');
  if (summarized(s)) {
    return sql`SELECT column, value, ${counts} FROM (SELECT column, value, sum(value_count) AS n FROM dataset_category_counts_v1 WHERE ${summaryFilter(s)}${columnFilter(columns)} GROUP BY column, value)`;
  }
  return sql`SELECT column, value, ${counts} FROM (SELECT column, cat_value AS value, count() AS n FROM dataset_rows_v2 WHERE ${selectionFilter(s)}${columnFilter(columns)} AND column_type = 'categorical' AND is_missing = 0 GROUP BY column, value)`;
}

export function categoryCountsSql(ref: RowSelection, cur: RowSelection, columns: readonly string[], limitPerColumn: number): SqlFragment {
  return sql`SELECT column, value, sum(c1) AS c1, sum(c2) AS c2 FROM (${sideCategories(1, ref, columns)} UNION ALL ${sideCategories(2, cur, columns)})
    GROUP BY column, value
    ORDER BY column, value
    LIMIT ${limitPerColumn} BY column`;
}

export interface CategoryCount {
  column: string;
  value: string;
  reference: number;
  current: number;
}

/** Each category's clean values per side, for categorical columns; at most `limitPerColumn` categories each. */
export async function categoryCounts(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns: readonly string[], limitPerColumn: number): Promise<CategoryCount[]> {
  if (columns.length === 0) return [];
  const rows = await queryRows<{ column: string; value: string; c1: string; c2: string }>(ch, categoryCountsSql(ref, cur, columns, limitPerColumn));
  return rows.map((r) => ({ column: r.column, value: r.value, reference: Number(r.c1), current: Number(r.c2) }));
}
