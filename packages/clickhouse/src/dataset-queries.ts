// Read queries over dataset_rows_v2 for the dataset list, data quality and the per-value parts of drift. ClickHouse
// does the heavy lifting — counts, distinct counts, extremes, sums, sorted values around the quartiles — and returns
// a few numbers per column; @runstream/drift finishes the statistics. Doubles cross as IEEE bytes (float-bits.ts).
// Two sides (reference, current) are two filters over the same table, glued with UNION ALL, so they may overlap.
// Numerical drift by buckets lives in dataset-buckets.ts.
import { queryRows, type ClickHouse } from './clickhouse-client.ts';
import { floatFromBits } from './float-bits.ts';
import { sql, SqlFragment } from './sql-literal.ts';
import { CLEAN, columnFilter, selectionFilter, type ColumnTypeName, type RowSelection } from './dataset-selection.ts';

export type { ColumnTypeName, RowSelection } from './dataset-selection.ts';

/** Both sides' clean values, tagged side 1 (reference) and 2 (current). */
function twoSides(ref: RowSelection, cur: RowSelection, columns: readonly string[] | undefined, extra?: SqlFragment): SqlFragment {
  const cols = extra ? sql`${columnFilter(columns)} AND ${extra}` : columnFilter(columns);
  return sql`(SELECT 1 AS side, column, column_type, num_value, cat_value FROM dataset_rows_v2 WHERE ${selectionFilter(ref)}${cols} AND ${CLEAN}
    UNION ALL
    SELECT 2 AS side, column, column_type, num_value, cat_value FROM dataset_rows_v2 WHERE ${selectionFilter(cur)}${cols} AND ${CLEAN})`;
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
      SELECT dataset, column, toString(any(column_type)) AS t, sum(n) AS n, groupUniqArray(version) AS vs, min(t0) AS t0, max(t1) AS t1
      FROM (
        SELECT dataset, column, version, column_type, countMerge(value_count) AS n, minMerge(first_timestamp_ms) AS t0, maxMerge(last_timestamp_ms) AS t1
        FROM dataset_columns_v1 ${afterFilter}
        GROUP BY dataset, column, version, column_type
      )
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
  // The inner query holds plain aggregates only; everything computed from them is in the outer one, which runs where
  // the rows were gathered. Over a Distributed table, ClickHouse 18.16 cannot send a grouped sumKahan state between
  // servers (the connection breaks and the server crashes) nor mix aggregates with aliases of others ("Empty query"),
  // so the Kahan sum runs over the gathered values (arrayReduce) and the variance's second pass over them too.
  return sql`SELECT column, t, rows, missing, if(t = 'numerical', distinct_num, distinct_cat) AS distinct_values,
      ${bits('s_min')} AS min_v, ${bits('s_max')} AS max_v, ${bits('s_sum')} AS sum_v,
      -- Two passes over the values: deviations from the mean (one pass over sums of squares cancels when values are
      -- large and close together). Squares beyond 1e154 overflow and ±inf has no variance: NaN, as numpy gives.
      ${bits('if(n_num > 1 AND max_abs < 1e154, arraySum(arrayMap(x -> (x - s_sum / n_num) * (x - s_sum / n_num), sorted)) / (n_num - 1), nan)')} AS var_v,
      ${new SqlFragment(picks)}
    FROM (
      SELECT column, t, rows, missing, distinct_num, distinct_cat, n_num, s_min, s_max, max_abs,
        arrayReduce('sumKahan', nums) AS s_sum, arraySort(nums) AS sorted
      FROM (
        SELECT column, toString(any(column_type)) AS t, count() AS rows, sum(is_missing) AS missing,
          uniqExactIf(num_value, is_missing = 0) AS distinct_num, uniqExactIf(cat_value, is_missing = 0) AS distinct_cat,
          countIf(is_missing = 0 AND column_type = 'numerical') AS n_num,
          minIf(num_value, is_missing = 0) AS s_min, maxIf(num_value, is_missing = 0) AS s_max,
          maxIf(abs(num_value), is_missing = 0) AS max_abs,
          groupArrayIf(num_value, is_missing = 0 AND column_type = 'numerical') AS nums
        FROM dataset_rows_v2
        WHERE ${selectionFilter(s)}${columnFilter(columns)}
        GROUP BY column
      )
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
    FROM dataset_rows_v2
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

export function distinctValuesSql(ref: RowSelection, cur: RowSelection, columns: readonly string[]): SqlFragment {
  return sql`SELECT column, uniqExact(num_value + 0) AS d, uniqExactIf(num_value + 0, side = 1) AS d_ref FROM ${twoSides(ref, cur, columns)} GROUP BY column ORDER BY column`;
}

/** Exact distinct clean values per numerical column: of reference ∪ current, and of the reference. */
export async function distinctValues(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns: readonly string[]): Promise<Map<string, { all: number; ref: number }>> {
  if (columns.length === 0) return new Map();
  const rows = await queryRows<{ column: string; d: string; d_ref: string }>(ch, distinctValuesSql(ref, cur, columns));
  return new Map(rows.map((r) => [r.column, { all: Number(r.d), ref: Number(r.d_ref) }]));
}

export interface SideValueCount {
  column: string;
  value: string | number;
  reference: number;
  current: number;
}

export function sideValueCountsSql(ref: RowSelection, cur: RowSelection, columns: readonly string[], limitPerColumn: number): SqlFragment {
  // num_value + 0: -0 and 0 are one value, as in numpy.
  return sql`SELECT column, toString(any(column_type)) AS t, cat_value, ${bits('num_value + 0')} AS num_bits, countIf(side = 1) AS c1, countIf(side = 2) AS c2
    FROM ${twoSides(ref, cur, columns)}
    GROUP BY column, num_value + 0, cat_value
    ORDER BY column, num_value + 0, cat_value
    LIMIT ${limitPerColumn} BY column`;
}

/** Counts of every clean value on each side, per column (categorical columns and numerical ones with few values). */
export async function sideValueCounts(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns: readonly string[], limitPerColumn: number): Promise<SideValueCount[]> {
  if (columns.length === 0) return [];
  const rows = await queryRows<{ column: string; t: string; cat_value: string; num_bits: string; c1: string; c2: string }>(ch, sideValueCountsSql(ref, cur, columns, limitPerColumn));
  return rows.map((r) => ({ column: r.column, value: r.t === 'numerical' ? floatFromBits(r.num_bits) : r.cat_value, reference: Number(r.c1), current: Number(r.c2) }));
}
