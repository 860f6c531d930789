// Read queries over dataset_rows_v1 for data quality and drift. ClickHouse does the heavy lifting — counts, distinct
// counts, extremes, sums, binned counts, and the merged ECDFs of two samples (sorted arrays, cumulative sums) — and
// returns a few numbers per column; @runstream/drift finishes the statistics. Doubles cross as IEEE bytes
// (float-bits.ts). Two sides (reference, current) are two filters over the same table, glued with UNION ALL, so
// they may overlap.
import { queryRows, type ClickHouse } from './clickhouse-client.ts';
import { floatFromBits } from './float-bits.ts';
import { joinSql, quoteFloat, quoteString, sql, SqlFragment } from './sql-literal.ts';

/** Rows of one dataset: optionally one version, a time window [fromMs, toMs) and one segment. */
export interface RowSelection {
  dataset: string;
  version?: string;
  fromMs?: number;
  toMs?: number;
  segment?: string;
}

export type ColumnTypeName = 'numerical' | 'categorical';

function selectionFilter(s: RowSelection): SqlFragment {
  const parts = [sql`dataset = ${s.dataset}`];
  if (s.version !== undefined) parts.push(sql`version = ${s.version}`);
  if (s.fromMs !== undefined) parts.push(sql`timestamp_ms >= ${s.fromMs}`);
  if (s.toMs !== undefined) parts.push(sql`timestamp_ms < ${s.toMs}`);
  if (s.segment !== undefined) parts.push(sql`segment = ${s.segment}`);
  return joinSql(parts, ' AND ');
}

function columnFilter(columns: readonly string[] | undefined): SqlFragment {
  return columns && columns.length > 0 ? sql` AND column IN ${columns}` : sql``;
}

/** Values that take part in drift: not missing, and for numbers finite (Evidently turns ±inf into NaN and drops it). */
const CLEAN = new SqlFragment("is_missing = 0 AND (column_type = 'categorical' OR isFinite(num_value))");

/** Both sides' clean values, tagged side 1 (reference) and 2 (current). */
function twoSides(ref: RowSelection, cur: RowSelection, columns: readonly string[] | undefined, extra?: SqlFragment): SqlFragment {
  const cols = extra ? sql`${columnFilter(columns)} AND ${extra}` : columnFilter(columns);
  return sql`(SELECT 1 AS side, column, column_type, num_value, cat_value FROM dataset_rows_v1 WHERE ${selectionFilter(ref)}${cols} AND ${CLEAN}
    UNION ALL
    SELECT 2 AS side, column, column_type, num_value, cat_value FROM dataset_rows_v1 WHERE ${selectionFilter(cur)}${cols} AND ${CLEAN})`;
}

const bits = (expr: string) => new SqlFragment(`hex(reinterpretAsString(${expr}))`);

// ---------------------------------------------------------------------------------------------------------------
// Datasets

export interface DatasetSummary {
  dataset: string;
  rows: number;
  versions: string[];
  columns: { name: string; type: ColumnTypeName; values: number }[];
  firstTimestampMs: number;
  lastTimestampMs: number;
}

export function listDatasetsSql(limit: number, after: string | undefined): SqlFragment {
  const afterFilter = after === undefined ? sql`` : sql`WHERE dataset > ${after}`;
  return sql`SELECT dataset, max(n) AS rows, arraySort(groupUniqArrayArray(vs)) AS versions, arraySort(groupArray(column)) AS names,
      arraySort((x, c) -> c, groupArray(t), groupArray(column)) AS types, arraySort((x, c) -> c, groupArray(n), groupArray(column)) AS counts,
      min(t0) AS first_ts, max(t1) AS last_ts
    FROM (
      SELECT dataset, column, toString(any(column_type)) AS t, count() AS n, groupUniqArray(version) AS vs, min(timestamp_ms) AS t0, max(timestamp_ms) AS t1
      FROM dataset_rows_v1 ${afterFilter}
      GROUP BY dataset, column
    )
    GROUP BY dataset
    ORDER BY dataset
    LIMIT ${limit}`;
}

/** Datasets with their row counts (the most values any column has), versions, columns and time range. */
export async function listDatasets(ch: ClickHouse, limit: number, after?: string): Promise<DatasetSummary[]> {
  const rows = await queryRows<{ dataset: string; rows: string; versions: string[]; names: string[]; types: string[]; counts: string[]; first_ts: string; last_ts: string }>(ch, listDatasetsSql(limit, after));
  return rows.map((r) => ({
    dataset: r.dataset,
    rows: Number(r.rows),
    versions: [...r.versions].sort(),
    columns: r.names.map((name, i) => ({ name, type: r.types[i] as ColumnTypeName, values: Number(r.counts[i]) })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    firstTimestampMs: Number(r.first_ts),
    lastTimestampMs: Number(r.last_ts),
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Data quality

export interface ColumnQualityRow {
  column: string;
  type: ColumnTypeName;
  rows: number;
  missing: number;
  distinct: number;
  /** Numerical columns, over non-missing values (±inf included, as pandas does). */
  min: number;
  max: number;
  sum: number;
  varSamp: number;
  /** The order statistics at zero-based positions lo/hi of the quartiles (p25, p50, p75), for interpolation. */
  quartileBounds: [number, number][];
}

const QUARTILES = [0.25, 0.5, 0.75];

/** numpy's linear-quantile position n·q + (1 − q) − 1, written with the same operations so SQL and TS agree. */
function positionExpr(q: number): string {
  return `greatest(least(toInt64(floor(n_num * ${q} + ${1 - q} - 1)), toInt64(n_num) - 1), 0)`;
}

export function columnQualitySql(s: RowSelection, columns?: readonly string[]): SqlFragment {
  const picks = QUARTILES.map((q, i) => {
    const p = positionExpr(q);
    return `${bits(`sorted[${p} + 1]`).text} AS q${i}_lo, ${bits(`sorted[least(${p} + 2, toInt64(n_num))]`).text} AS q${i}_hi`;
  }).join(', ');
  return sql`SELECT column, t, rows, missing, distinct_values, ${bits('min_v')} AS min_v, ${bits('max_v')} AS max_v, ${bits('sum_v')} AS sum_v, ${bits('var_v')} AS var_v, ${new SqlFragment(picks)}
    FROM (
      SELECT column, toString(any(column_type)) AS t, count() AS rows, sum(is_missing) AS missing,
        if(t = 'numerical', uniqExactIf(num_value, is_missing = 0), uniqExactIf(cat_value, is_missing = 0)) AS distinct_values,
        countIf(is_missing = 0 AND column_type = 'numerical') AS n_num,
        minIf(num_value, is_missing = 0) AS min_v, maxIf(num_value, is_missing = 0) AS max_v,
        sumKahanIf(num_value, is_missing = 0) AS sum_v,
        -- Squares of values beyond 1e154 overflow (and ±inf has no variance): NaN, as numpy gives, on every version.
        if(n_num > 1 AND maxIf(abs(num_value), is_missing = 0) < 1e154, varSampIf(num_value, is_missing = 0), nan) AS var_v,
        arraySort(groupArrayIf(num_value, is_missing = 0 AND column_type = 'numerical')) AS sorted
      FROM dataset_rows_v1
      WHERE ${selectionFilter(s)}${columnFilter(columns)}
      GROUP BY column
    )
    ORDER BY column`;
}

/** Per column of a selection: counts, extremes, sum, sample variance and the order statistics around the quartiles. */
export async function columnQuality(ch: ClickHouse, s: RowSelection, columns?: readonly string[]): Promise<ColumnQualityRow[]> {
  type Raw = Record<string, string>;
  const rows = await queryRows<Raw>(ch, columnQualitySql(s, columns));
  return rows.map((r) => ({
    column: r.column!,
    type: r.t as ColumnTypeName,
    rows: Number(r.rows),
    missing: Number(r.missing),
    distinct: Number(r.distinct_values),
    min: floatFromBits(r.min_v!),
    max: floatFromBits(r.max_v!),
    sum: floatFromBits(r.sum_v!),
    varSamp: floatFromBits(r.var_v!),
    quartileBounds: QUARTILES.map((_, i) => [floatFromBits(r[`q${i}_lo`]!), floatFromBits(r[`q${i}_hi`]!)] as [number, number]),
  }));
}

export interface ValueCountRow {
  column: string;
  /** A category, or a number (numerical columns). */
  value: string | number;
  count: number;
}

export function topValuesSql(s: RowSelection, columns: readonly string[] | undefined, perColumn: number): SqlFragment {
  return sql`SELECT column, toString(any(column_type)) AS t, cat_value, ${bits('num_value')} AS num_bits, count() AS c
    FROM dataset_rows_v1
    WHERE ${selectionFilter(s)}${columnFilter(columns)} AND is_missing = 0
    GROUP BY column, num_value, cat_value
    ORDER BY column, c DESC, cat_value, num_value
    LIMIT ${perColumn} BY column`;
}

/** The most common non-missing values of each column (ties by value), at most `perColumn` each. */
export async function topValues(ch: ClickHouse, s: RowSelection, columns: readonly string[] | undefined, perColumn: number): Promise<ValueCountRow[]> {
  const rows = await queryRows<{ column: string; t: string; cat_value: string; num_bits: string; c: string }>(ch, topValuesSql(s, columns, perColumn));
  return rows.map((r) => ({ column: r.column, value: r.t === 'numerical' ? floatFromBits(r.num_bits) : r.cat_value, count: Number(r.c) }));
}

export function categorySetsSql(ref: RowSelection, cur: RowSelection, columns: readonly string[] | undefined, limit: number): SqlFragment {
  return sql`SELECT column, arraySlice(arraySort(groupArrayIf(cat_value, in_ref AND NOT in_cur)), 1, ${limit}) AS vanished, arraySlice(arraySort(groupArrayIf(cat_value, in_cur AND NOT in_ref)), 1, ${limit}) AS new_values
    FROM (
      SELECT column, cat_value, max(side = 1) AS in_ref, max(side = 2) AS in_cur
      FROM ${twoSides(ref, cur, columns)}
      WHERE column_type = 'categorical'
      GROUP BY column, cat_value
    )
    GROUP BY column
    ORDER BY column`;
}

/** Categories only in the current selection (new) and only in the reference (vanished), per categorical column. */
export async function categoryChanges(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns: readonly string[] | undefined, limit: number): Promise<{ column: string; vanished: string[]; newValues: string[] }[]> {
  const rows = await queryRows<{ column: string; vanished: string[]; new_values: string[] }>(ch, categorySetsSql(ref, cur, columns, limit));
  return rows.map((r) => ({ column: r.column, vanished: [...r.vanished].sort(), newValues: [...r.new_values].sort() }));
}

// ---------------------------------------------------------------------------------------------------------------
// Drift

/**
 * Distinct numerical values are counted exactly up to this many (what Evidently's choices depend on: more than 5
 * values, more than 20 reference values); beyond it the count reads DISTINCT_CAP + 1. Exact counts of millions of
 * distinct doubles would cost more than the rest of a drift report.
 */
export const DISTINCT_CAP = 64;

export interface DriftProfileRow {
  column: string;
  type: ColumnTypeName;
  /** Clean values per side (after dropping missing values and ±inf). */
  n1: number;
  n2: number;
  /** Exact for categorical columns; for numerical ones exact up to DISTINCT_CAP, else DISTINCT_CAP + 1. */
  distinctAll: number;
  distinctRef: number;
  min: number;
  max: number;
  refStdPop: number;
}

export function driftProfileSql(ref: RowSelection, cur: RowSelection, columns?: readonly string[]): SqlFragment {
  return sql`SELECT column, t, n1, n2, d_all, d_ref, ${bits('min_v')} AS min_v, ${bits('max_v')} AS max_v, ${bits('std_ref')} AS std_ref
    FROM (
      SELECT column, toString(any(column_type)) AS t, countIf(side = 1) AS n1, countIf(side = 2) AS n2,
        if(t = 'numerical', uniqUpTo(${DISTINCT_CAP})(num_value), uniqExact(cat_value)) AS d_all,
        if(t = 'numerical', uniqUpToIf(${DISTINCT_CAP})(num_value, side = 1), uniqExactIf(cat_value, side = 1)) AS d_ref,
        min(num_value) AS min_v, max(num_value) AS max_v, if(t = 'numerical' AND n1 > 0 AND maxIf(abs(num_value), side = 1) < 1e154, stddevPopIf(num_value, side = 1), nan) AS std_ref
      FROM ${twoSides(ref, cur, columns)}
      GROUP BY column
    )
    ORDER BY column`;
}

export async function driftProfile(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns?: readonly string[]): Promise<DriftProfileRow[]> {
  const rows = await queryRows<Record<string, string>>(ch, driftProfileSql(ref, cur, columns));
  return rows.map((r) => ({
    column: r.column!,
    type: r.t as ColumnTypeName,
    n1: Number(r.n1),
    n2: Number(r.n2),
    distinctAll: Number(r.d_all),
    distinctRef: Number(r.d_ref),
    min: floatFromBits(r.min_v!),
    max: floatFromBits(r.max_v!),
    refStdPop: floatFromBits(r.std_ref!),
  }));
}

export function distinctValuesSql(ref: RowSelection, cur: RowSelection, columns: readonly string[]): SqlFragment {
  return sql`SELECT column, uniqExact(num_value) AS d FROM ${twoSides(ref, cur, columns)} GROUP BY column ORDER BY column`;
}

/** Exact distinct clean values of reference ∪ current per numerical column (Hellinger's bins need them). */
export async function distinctValues(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns: readonly string[]): Promise<Map<string, number>> {
  if (columns.length === 0) return new Map();
  const rows = await queryRows<{ column: string; d: string }>(ch, distinctValuesSql(ref, cur, columns));
  return new Map(rows.map((r) => [r.column, Number(r.d)]));
}

export interface EcdfRow {
  column: string;
  n1: number;
  n2: number;
  /** max |F1 − F2| · n1 · n2 over distinct values (the two-sample KS statistic, exactly). */
  dNumerator: number;
  /** ∫ |F1 − F2| dx · n1 · n2 (the Wasserstein-1 distance of the raw samples, scaled). */
  wNumerator: number;
}

/**
 * The merged ECDF of both sides for one numerical column: (value, side) pairs sorted, cumulative reference count a_i
 * at each position i, so F1 − F2 = (a_i·n2 − (i − a_i)·n1) / (n1·n2). KS takes the largest gap at the end of each
 * run of equal values; Wasserstein sums the gaps times the distance to the next value. One column per query: the
 * sorted array of one column is what must fit in memory, and columns run side by side.
 */
export function ecdfSql(ref: RowSelection, cur: RowSelection, column: string): SqlFragment {
  return sql`SELECT column, n1, n2,
      arrayReduce('max', arrayMap((a, i, d) -> if(d > 0, abs(a * n2 - (i - a) * n1), 0), heads, positions, gaps)) AS d_num,
      ${bits('arraySum(arrayMap((a, i, d) -> abs(a * n2 - (i - a) * n1) * d, heads, positions, gaps))')} AS w_num
    FROM (
      SELECT column, n1, n2, arrayPopBack(arrayCumSum(arrayMap(t -> t.2, pairs))) AS heads, arrayPopBack(arrayEnumerate(pairs)) AS positions,
        arrayPopFront(arrayDifference(arrayMap(t -> t.1, pairs))) AS gaps
      FROM (
        SELECT column, toInt64(countIf(side = 1)) AS n1, toInt64(countIf(side = 2)) AS n2, arraySort(groupArray((num_value, toInt64(side = 1)))) AS pairs
        FROM ${twoSides(ref, cur, [column])}
        WHERE column_type = 'numerical'
        GROUP BY column
      )
    )`;
}

/** KS and Wasserstein numerators per column; `concurrency` column queries run at once. */
export async function ecdfStatistics(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns: readonly string[], concurrency = 4): Promise<EcdfRow[]> {
  const out: EcdfRow[] = [];
  let next = 0;
  const worker = async () => {
    while (next < columns.length) {
      const column = columns[next++]!;
      const rows = await queryRows<{ column: string; n1: string; n2: string; d_num: string; w_num: string }>(ch, ecdfSql(ref, cur, column));
      for (const r of rows) out.push({ column: r.column, n1: Number(r.n1), n2: Number(r.n2), dNumerator: Number(r.d_num), wNumerator: floatFromBits(r.w_num) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, columns.length) }, worker));
  return out;
}

/**
 * A numerical column's clean values cut into equal-width buckets between its min and max (both sides together).
 * With `histogram` (one column per query), the same read also counts that histogram (numpy's bins): buckets inside
 * one bin add up per bin, and the few buckets that hold values on both sides of an edge are listed, to be counted
 * value by value.
 */
export interface BucketGrid {
  column: string;
  min: number;
  max: number;
  buckets: number;
  /** Histogram edges (ascending, at least two). */
  histogram?: readonly number[];
}

const floats = (xs: readonly number[]) => new SqlFragment(`[${xs.map(quoteFloat).join(', ')}]`);
const strings = (xs: readonly string[]) => new SqlFragment(`[${xs.map(quoteString).join(', ')}]`);
const float = (x: number) => new SqlFragment(quoteFloat(x));

/** numpy's histogram bin of a value (Int64): arithmetic from the first edge, corrected against the edges themselves. */
function histogramBin(edges: readonly number[], value: SqlFragment): SqlFragment {
  const bins = edges.length - 1;
  const first = edges[0]!;
  const last = edges[bins]!;
  const scale = last > first ? bins / (last - first) : 0;
  const list = floats(edges);
  const k0 = sql`least(greatest(toInt64(floor((${value} - ${float(first)}) * ${float(scale)})), 0), ${bins - 1})`;
  return sql`(${k0} - (${value} < arrayElement(${list}, ${k0} + 1)) + (${k0} < ${bins - 1} AND ${value} >= arrayElement(${list}, ${k0} + 2)))`;
}

/**
 * Bucket number of num_value in its column's grid (computed the same way in every query). A single grid is written
 * with its numbers as constants, several pick theirs by column.
 */
function bucketOf(grids: readonly BucketGrid[]): SqlFragment {
  const scale = (g: BucketGrid) => (g.max > g.min ? g.buckets / (g.max - g.min) : 0);
  if (grids.length === 1) {
    const g = grids[0]!;
    return sql`least(toUInt32(greatest(floor((num_value - ${float(g.min)}) * ${float(scale(g))}), 0)), toUInt32(${float(g.buckets - 1)}))`;
  }
  const cols = strings(grids.map((g) => g.column));
  return sql`least(toUInt32(greatest(floor((num_value - transform(column, ${cols}, ${floats(grids.map((g) => g.min))}, nan)) * transform(column, ${cols}, ${floats(grids.map(scale))}, toFloat64(0))), 0)), toUInt32(transform(column, ${cols}, ${floats(grids.map((g) => g.buckets - 1))}, toFloat64(0))))`;
}

/** Left edge of a bucket: min + bucket / scale (min when the column is constant). */
function bucketEdge(grids: readonly BucketGrid[]): SqlFragment {
  const width = (g: BucketGrid) => (g.max > g.min ? (g.max - g.min) / g.buckets : 0);
  if (grids.length === 1) return sql`${float(grids[0]!.min)} + b * ${float(width(grids[0]!))}`;
  const cols = strings(grids.map((g) => g.column));
  return sql`transform(column, ${cols}, ${floats(grids.map((g) => g.min))}, nan) + b * transform(column, ${cols}, ${floats(grids.map(width))}, toFloat64(0))`;
}

/**
 * W1 numerator per column from bucket aggregates, integrated in ClickHouse over the (small) per-column arrays of
 * buckets: D before each bucket is a cumulative sum; gaps between buckets and buckets where D keeps its sign are
 * integrated exactly (packages/drift/src/wasserstein-buckets.ts explains the formula); the other buckets are
 * returned with D at their start, to be read value by value.
 */
export function wassersteinBucketsSql(ref: RowSelection, cur: RowSelection, grids: readonly BucketGrid[]): SqlFragment {
  const sorted = (name: string) => new SqlFragment(`arraySort((x, k) -> k, groupArray(${name}), groupArray(b)) AS ${name}s`);
  // A histogram (one column): buckets whose lowest and highest values fall in the same bin count toward that bin.
  const h = grids.length === 1 ? grids[0]!.histogram : undefined;
  if (!h && grids.some((g) => g.histogram)) throw new Error('histograms are counted one column per query');
  const x = new SqlFragment('x');
  const perBin = (counts: string) => sql`arrayMap(k -> arraySum(arrayFilter((c, l, u) -> l = k AND u = k, ${new SqlFragment(counts)}, bin_lo, bin_hi)), range(${h!.length - 1}))`;
  const histOut = h ? sql`, hist1, hist2, split_b, arrayMap(x -> hex(reinterpretAsString(x)), split_lo) AS split_lo_bits, arrayMap(x -> hex(reinterpretAsString(x)), split_hi) AS split_hi_bits` : sql``;
  const histCols = h
    ? sql`arrayMap(x -> ${histogramBin(h, x)}, los) AS bin_lo, arrayMap(x -> ${histogramBin(h, x)}, his) AS bin_hi,
        ${perBin('c1s')} AS hist1, ${perBin('c2s')} AS hist2, arrayFilter((k, l, u) -> l != u, bs, bin_lo, bin_hi) AS split_b,
        arrayFilter((v, l, u) -> l != u, los, bin_lo, bin_hi) AS split_lo, arrayFilter((v, l, u) -> l != u, his, bin_lo, bin_hi) AS split_hi,`
    : sql``;
  return sql`SELECT column, n1, n2, ${bits('resolved')} AS resolved_bits, amb_b, amb_d, arrayMap(x -> hex(reinterpretAsString(x)), amb_lo) AS amb_lo_bits, arrayMap(x -> hex(reinterpretAsString(x)), amb_hi) AS amb_hi_bits${histOut}
    FROM (
      SELECT column, n1, n2, ${histCols}
        arrayMap((da, x, y) -> da - (x * n2 - y * n1), arrayCumSum(arrayMap((x, y) -> x * n2 - y * n1, c1s, c2s)), c1s, c2s) AS d0,
        arrayMap((d, x, y, l, h) -> h > l AND NOT (d - y * n1 >= 0 OR d + x * n2 <= 0), d0, c1s, c2s, los, his) AS amb,
        arraySum(arrayMap((d, x, y, s1, s2, f, l, h, a) -> if(a OR h <= l, 0, abs(d * (h - l) + n2 * (x * (h - f) - s1) - n1 * (y * (h - f) - s2))), d0, c1s, c2s, s1s, s2s, edges, los, his, amb))
          + arraySum(arrayMap((d, l, h) -> abs(d) * (l - h), arrayPopFront(d0), arrayPopFront(los), arrayPopBack(his))) AS resolved,
        arrayFilter((k, a) -> a, bs, amb) AS amb_b, arrayFilter((d, a) -> a, d0, amb) AS amb_d,
        arrayFilter((l, a) -> a, los, amb) AS amb_lo, arrayFilter((h, a) -> a, his, amb) AS amb_hi
      FROM (
        SELECT column, toInt64(sum(c1)) AS n1, toInt64(sum(c2)) AS n2, arraySort(groupArray(b)) AS bs,
          ${sorted('c1')}, ${sorted('c2')}, ${sorted('s1')}, ${sorted('s2')}, ${sorted('edge')}, ${sorted('lo')}, ${sorted('hi')}
        FROM (
          SELECT column, b, toInt64(countIf(side = 1)) AS c1, toInt64(countIf(side = 2)) AS c2, sumIf(num_value - e, side = 1) AS s1, sumIf(num_value - e, side = 2) AS s2,
            any(e) AS edge, min(num_value) AS lo, max(num_value) AS hi
          FROM (SELECT side, column, num_value, ${bucketOf(grids)} AS b, ${bucketEdge(grids)} AS e FROM ${twoSides(ref, cur, grids.map((g) => g.column))} WHERE column_type = 'numerical')
          GROUP BY column, b
        )
        GROUP BY column
      )
    )
    ORDER BY column`;
}

export interface WassersteinBuckets {
  column: string;
  n1: number;
  n2: number;
  /** ∫|D| over gaps and sign-stable buckets, D = a·n2 − b·n1 (so W1 · n1 · n2). */
  resolved: number;
  /** Buckets where D may change sign: number, D before it, value range. */
  ambiguous: { bucket: number; dStart: number; lo: number; hi: number }[];
  /**
   * With a histogram: values per bin on each side from the buckets inside one bin, and the buckets that straddle an
   * edge (their values are still to be counted).
   */
  histogram?: { reference: number[]; current: number[]; split: { bucket: number; lo: number; hi: number }[] };
}

export async function wassersteinBuckets(ch: ClickHouse, ref: RowSelection, cur: RowSelection, grids: readonly BucketGrid[]): Promise<WassersteinBuckets[]> {
  if (grids.length === 0) return [];
  const rows = await queryRows<{ column: string; n1: string; n2: string; resolved_bits: string; amb_b: number[]; amb_d: string[]; amb_lo_bits: string[]; amb_hi_bits: string[]; hist1?: string[]; hist2?: string[]; split_b?: number[]; split_lo_bits?: string[]; split_hi_bits?: string[] }>(ch, wassersteinBucketsSql(ref, cur, grids));
  return rows.map((r) => ({
    column: r.column,
    n1: Number(r.n1),
    n2: Number(r.n2),
    resolved: floatFromBits(r.resolved_bits),
    ambiguous: r.amb_b.map((bucket, i) => ({ bucket: Number(bucket), dStart: Number(r.amb_d[i]), lo: floatFromBits(r.amb_lo_bits[i]!), hi: floatFromBits(r.amb_hi_bits[i]!) })),
    ...(r.hist1 && r.hist2 && r.split_b
      ? { histogram: { reference: r.hist1.map(Number), current: r.hist2.map(Number), split: r.split_b.map((bucket, i) => ({ bucket: Number(bucket), lo: floatFromBits(r.split_lo_bits![i]!), hi: floatFromBits(r.split_hi_bits![i]!) })) } }
      : {}),
  }));
}

export function bucketValuesSql(ref: RowSelection, cur: RowSelection, grids: readonly BucketGrid[], wanted: readonly { column: string; bucket: number; lo: number; hi: number }[]): SqlFragment {
  // The value ranges let the primary key (…, column, version, type, value) skip everything else; the bucket list is exact.
  const ranges = joinSql([...new Set(wanted.map((w) => sql`(column = ${w.column} AND num_value >= ${w.lo} AND num_value <= ${w.hi})`.text))].map((t) => new SqlFragment(t)), ' OR ');
  const keys = joinSql(wanted.map((w) => sql`(${w.column}, ${w.bucket})`), ', ');
  return sql`SELECT column, b, arrayMap(t -> hex(reinterpretAsString(t.1)), pairs) AS vals, arrayMap(t -> t.2, pairs) AS sides
    FROM (
      SELECT column, b, arraySort(groupArray((num_value, side))) AS pairs
      FROM (SELECT side, column, num_value, ${bucketOf(grids)} AS b FROM ${twoSides(ref, cur, grids.map((g) => g.column), sql`column_type = 'numerical' AND (${ranges})`)})
      WHERE (column, b) IN (${keys})
      GROUP BY column, b
    )`;
}

/** The sorted (value, side) pairs of the given buckets. */
export async function bucketValues(ch: ClickHouse, ref: RowSelection, cur: RowSelection, grids: readonly BucketGrid[], wanted: readonly { column: string; bucket: number; lo: number; hi: number }[]): Promise<Map<string, { values: number[]; sides: number[] }>> {
  const out = new Map<string, { values: number[]; sides: number[] }>();
  if (wanted.length === 0) return out;
  const rows = await queryRows<{ column: string; b: number; vals: string[]; sides: number[] }>(ch, bucketValuesSql(ref, cur, grids, wanted));
  for (const r of rows) out.set(`${r.column}\u0000${r.b}`, { values: r.vals.map(floatFromBits), sides: r.sides.map(Number) });
  return out;
}

export interface SideValueCount {
  column: string;
  value: string | number;
  reference: number;
  current: number;
}

export function sideValueCountsSql(ref: RowSelection, cur: RowSelection, columns: readonly string[], limitPerColumn: number): SqlFragment {
  return sql`SELECT column, toString(any(column_type)) AS t, cat_value, ${bits('num_value')} AS num_bits, countIf(side = 1) AS c1, countIf(side = 2) AS c2
    FROM ${twoSides(ref, cur, columns)}
    GROUP BY column, num_value, cat_value
    ORDER BY column, num_value, cat_value
    LIMIT ${limitPerColumn} BY column`;
}

/** Counts of every clean value on each side, per column (categorical columns and numerical ones with few values). */
export async function sideValueCounts(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns: readonly string[], limitPerColumn: number): Promise<SideValueCount[]> {
  if (columns.length === 0) return [];
  const rows = await queryRows<{ column: string; t: string; cat_value: string; num_bits: string; c1: string; c2: string }>(ch, sideValueCountsSql(ref, cur, columns, limitPerColumn));
  return rows.map((r) => ({ column: r.column, value: r.t === 'numerical' ? floatFromBits(r.num_bits) : r.cat_value, reference: Number(r.c1), current: Number(r.c2) }));
}

export interface BinRequest {
  /** Identifies the request in the answer (a column may be binned twice with different edges). */
  id: string;
  column: string;
  edges: readonly number[];
}

export interface BinCounts {
  id: string;
  reference: number[];
  current: number[];
}

/**
 * One SELECT per request. A value's bin is found as numpy's histogram finds it: arithmetically from the first edge and
 * the width, then moved by one where that disagrees with the edges themselves — so bins are exactly [e_i, e_i+1),
 * the last one closed, whatever the rounding.
 */
export function binnedCountsSql(ref: RowSelection, cur: RowSelection, requests: readonly BinRequest[]): SqlFragment {
  const selects = requests.map((r) => {
    const bins = r.edges.length - 1;
    const first = r.edges[0]!;
    const last = r.edges[bins]!;
    const scale = last > first ? bins / (last - first) : 0;
    const edges = floats(r.edges);
    return sql`SELECT ${r.id} AS id, side, toUInt32(k0 - (num_value < arrayElement(${edges}, k0 + 1)) + (k0 < ${bins - 1} AND num_value >= arrayElement(${edges}, k0 + 2))) AS bin, count() AS c
      FROM (SELECT side, num_value, least(greatest(toInt64(floor((num_value - ${new SqlFragment(quoteFloat(first))}) * ${new SqlFragment(quoteFloat(scale))})), 0), ${bins - 1}) AS k0
            FROM ${twoSides(ref, cur, [r.column])} WHERE column_type = 'numerical')
      GROUP BY side, bin`;
  });
  return joinSql(selects, ' UNION ALL ');
}

export async function binnedCounts(ch: ClickHouse, ref: RowSelection, cur: RowSelection, requests: readonly BinRequest[]): Promise<BinCounts[]> {
  if (requests.length === 0) return [];
  const rows = await queryRows<{ id: string; side: number; bin: number; c: string }>(ch, binnedCountsSql(ref, cur, requests));
  const out = new Map<string, BinCounts>();
  for (const r of requests) out.set(r.id, { id: r.id, reference: new Array<number>(r.edges.length - 1).fill(0), current: new Array<number>(r.edges.length - 1).fill(0) });
  for (const row of rows) {
    const entry = out.get(row.id)!;
    (Number(row.side) === 1 ? entry.reference : entry.current)[Number(row.bin)] = Number(row.c);
  }
  return [...out.values()];
}
