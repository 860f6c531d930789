// runs/search: MLflow's request → one ClickHouse query over the latest run states, filtered with the search DSL
// (search/run-filter-*.ts) and ordered by order_by; offset-based page tokens like MLflow's.
import { joinSql, queryRows, sql, toRunRow, type ClickHouse, type RunRow } from '@runstream/clickhouse';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { FilterSyntaxError, parseRunFilter } from '../search/run-filter-parser.ts';
import { parseOrderBy } from '../search/order-by-parser.ts';
import { compileRunFilter, orderByColumns } from '../search/run-filter-sql.ts';
import { invalid } from './mlflow-errors.ts';
import { int64 } from './mlflow-values.ts';

const VIEW_STAGES: Record<string, string[]> = { ACTIVE_ONLY: ['active'], DELETED_ONLY: ['deleted'], ALL: ['active', 'deleted'] };

export async function searchRuns(ch: ClickHouse, b: Record<string, unknown>): Promise<{ runs: RunRow[]; nextPageToken?: string }> {
  const experimentIds = Array.isArray(b.experiment_ids) ? b.experiment_ids.map(String) : [];
  if (experimentIds.length === 0) throw invalid('experiment_ids must contain at least one experiment id');
  const maxResults = int64(b.max_results, 'max_results', 1000);
  if (maxResults < 1 || maxResults > 50_000) throw invalid(`Invalid value ${maxResults} for parameter 'max_results' supplied: between 1 and 50000`);
  const stages = VIEW_STAGES[String(b.run_view_type ?? 'ACTIVE_ONLY')];
  if (!stages) throw invalid(`Invalid run_view_type ${JSON.stringify(b.run_view_type)}: ACTIVE_ONLY, DELETED_ONLY or ALL`);
  const orderBy = Array.isArray(b.order_by) ? b.order_by.map(String) : [];
  const offset = b.page_token ? decodePageToken(String(b.page_token), (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0) : 0;

  let where;
  let order;
  try {
    where = compileRunFilter(parseRunFilter(typeof b.filter === 'string' ? b.filter : undefined));
    order = orderByColumns(parseOrderBy(orderBy));
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw invalid(err.message);
    throw err;
  }

  const rows = await queryRows<Record<string, string | number | null>>(
    ch,
    sql`SELECT r.run_id AS run_id, r.experiment_id AS experiment_id, r.run_name AS run_name, r.user_id AS user_id, r.status AS status,
               r.start_time AS start_time, r.end_time_ms AS end_time, r.artifact_uri AS artifact_uri, r.lifecycle_stage AS lifecycle_stage
        FROM (
          SELECT run_id, experiment_id, run_name, user_id, status, start_time_ms AS start_time, end_time_ms, ifNull(end_time_ms, 0) AS end_time,
                 artifact_uri, lifecycle_stage
          FROM runs_v1 FINAL
          WHERE experiment_id IN ${experimentIds} AND lifecycle_stage IN ${stages}
        ) AS r
        ${joinSql(order.joins, ' ')}
        WHERE ${where}
        ORDER BY ${joinSql(order.orderItems, ', ')}
        LIMIT ${offset}, ${maxResults + 1}`,
  );
  const page = rows.slice(0, maxResults).map(toRunRow);
  return { runs: page, ...(rows.length > maxResults ? { nextPageToken: encodePageToken(offset + maxResults) } : {}) };
}
