// Which rows of dataset_rows_v2 a request means: a dataset, optionally one version, a time window and a segment.
import { joinSql, sql, SqlFragment } from './sql-literal.ts';

/** Rows of one dataset: optionally one version, a time window [fromMs, toMs) and one segment. */
export interface RowSelection {
  dataset: string;
  version?: string;
  fromMs?: number;
  toMs?: number;
  segment?: string;
}

export type ColumnTypeName = 'numerical' | 'categorical';

export function selectionFilter(s: RowSelection): SqlFragment {
  const parts = [sql`dataset = ${s.dataset}`];
  if (s.version !== undefined) parts.push(sql`version = ${s.version}`);
  if (s.fromMs !== undefined) parts.push(sql`timestamp_ms >= ${s.fromMs}`);
  if (s.toMs !== undefined) parts.push(sql`timestamp_ms < ${s.toMs}`);
  if (s.segment !== undefined) parts.push(sql`segment = ${s.segment}`);
  return joinSql(parts, ' AND ');
}

export function columnFilter(columns: readonly string[] | undefined): SqlFragment {
  return columns && columns.length > 0 ? sql` AND column IN ${columns}` : sql``;
}

/** Values that take part in drift: not missing, and for numbers finite (Evidently turns ±inf into NaN and drops it). */
export const CLEAN = new SqlFragment("is_missing = 0 AND (column_type = 'categorical' OR isFinite(num_value))");

