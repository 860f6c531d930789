// One run search over the latest run states: the filter DSL (run-filter-*.ts) as WHERE, order_by as ORDER BY,
// an offset page and, on request, the total number of matches. Shared by MLflow's runs/search and the native API;
// a bad filter or order_by throws FilterSyntaxError for the caller to turn into its 400.
import { joinSql, queryRows, sql, toRunRow, type ClickHouse, type RunRow, type SqlFragment } from '@runstream/clickhouse';
import { parseOrderBy } from './order-by-parser.ts';
import { parseRunFilter } from './run-filter-parser.ts';
import { compileRunFilter, orderByColumns } from './run-filter-sql.ts';

export interface RunQuery {
  /** Only runs of these experiments; every experiment when undefined. */
  experimentIds?: readonly string[];
  /** Lifecycle stages to include: active, deleted. */
  stages: readonly string[];
  filter?: string;
  orderBy: readonly string[];
  limit: number;
  offset: number;
  withTotal?: boolean;
}

export interface RunQueryResult {
  runs: RunRow[];
  hasMore: boolean;
  total?: number;
}

/** The page query (one row more than the limit tells whether another page exists) and the total count query. */
export function runQuerySql(q: RunQuery): { page: SqlFragment; total: SqlFragment } {
  const where = compileRunFilter(parseRunFilter(q.filter));
  const order = orderByColumns(parseOrderBy(q.orderBy));
  const experiments = q.experimentIds === undefined ? sql`1` : sql`experiment_id IN ${q.experimentIds}`;
  const latest = sql`SELECT run_id, experiment_id, run_name, user_id, status, start_time_ms AS start_time, end_time_ms, ifNull(end_time_ms, 0) AS end_time,
                            artifact_uri, lifecycle_stage
                     FROM runs_v1 FINAL
                     WHERE ${experiments} AND lifecycle_stage IN ${q.stages}`;
  return {
    page: sql`SELECT r.run_id AS run_id, r.experiment_id AS experiment_id, r.run_name AS run_name, r.user_id AS user_id, r.status AS status,
               r.start_time AS start_time, r.end_time_ms AS end_time, r.artifact_uri AS artifact_uri, r.lifecycle_stage AS lifecycle_stage
        FROM (${latest}) AS r
        ${joinSql(order.joins, ' ')}
        WHERE ${where}
        ORDER BY ${joinSql(order.orderItems, ', ')}
        LIMIT ${q.offset}, ${q.limit + 1}`,
    total: sql`SELECT count() AS total FROM (${latest}) AS r WHERE ${where}`,
  };
}

export async function queryRuns(ch: ClickHouse, q: RunQuery): Promise<RunQueryResult> {
  const sqls = runQuerySql(q);
  const page = queryRows<Record<string, string | number | null>>(ch, sqls.page);
  const total = q.withTotal ? queryRows<{ total: string }>(ch, sqls.total) : undefined;
  const rows = await page;
  return {
    runs: rows.slice(0, q.limit).map(toRunRow),
    hasMore: rows.length > q.limit,
    ...(total ? { total: Number((await total)[0]?.total ?? 0) } : {}),
  };
}
