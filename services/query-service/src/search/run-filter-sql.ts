// Parsed run filters and order_by terms as ClickHouse SQL, for a query of the form
//   SELECT … FROM runs_latest AS r <joins> WHERE <compileRunFilter> ORDER BY <orderItems>
// Values reach the SQL only through the `sql` tag (escaped literals); keys only as literals compared with a key
// column; attribute columns and operators only from the fixed maps below. The SQL runs on ClickHouse 18.16 and
// current versions: no correlated subqueries, no ilike(), and at most one JOIN per SELECT (18.16 rejects more).
import { ENTITY_KIND_NAME, ident, joinSql, PARAM_VALUE, sql, type SqlFragment, type SqlValue } from '@runstream/clickhouse';
import type { MetricAggregate } from './filter-lexer.ts';
import type { OrderTerm } from './order-by-parser.ts';
import type { Comparison, ComparisonOp, FilterExpr } from './run-filter-parser.ts';
import { isAttributeName, type AttributeName } from './run-fields.ts';

const ATTRIBUTE_COLUMNS: Record<AttributeName, SqlFragment> = {
  run_id: sql`r.run_id`,
  run_name: sql`r.run_name`,
  status: sql`r.status`,
  user_id: sql`r.user_id`,
  artifact_uri: sql`r.artifact_uri`,
  lifecycle_stage: sql`r.lifecycle_stage`,
  start_time: sql`r.start_time`,
  end_time: sql`r.end_time`,
};

const COMPARATORS: Record<Exclude<ComparisonOp, 'LIKE' | 'ILIKE'>, SqlFragment> = {
  '=': sql`=`,
  '!=': sql`!=`,
  '<': sql`<`,
  '<=': sql`<=`,
  '>': sql`>`,
  '>=': sql`>=`,
  IN: sql`IN`,
  'NOT IN': sql`NOT IN`,
};

/** The latest value of a metric (highest step, then timestamp), as stored in metric_summary_v2. */
const LATEST_METRIC = sql`argMaxMerge(last_value)`;
/** A metric's latest value, or its smallest / largest (NaN skipped; NaN when every value is NaN). */
function metricValue(aggregate: MetricAggregate | undefined): SqlFragment {
  if (aggregate === undefined) return LATEST_METRIC;
  const extreme = aggregate === 'min' ? sql`minIfMerge(min_value)` : sql`maxIfMerge(max_value)`;
  return sql`if(sumMerge(nan_points) = sumMerge(points), nan, ${extreme})`;
}
/** A tag's state at its highest version; a deletion is a newer version with deleted = 1. */
const LATEST_TAG = sql`argMax(value, version)`;
const TAG_PRESENT = sql`argMax(deleted, version) = 0`;
const RUN = ENTITY_KIND_NAME.RUN;

function column(key: string): SqlFragment {
  if (!isAttributeName(key)) throw new Error(`unknown run attribute ${JSON.stringify(key)}`);
  return ATTRIBUTE_COLUMNS[key];
}

/** `subject <op> value`; a list value (IN / NOT IN) becomes a literal tuple. */
function compare(subject: SqlFragment, op: ComparisonOp, value: SqlValue): SqlFragment {
  // ClickHouse 18.16 has no ilike(): lower() both sides (ASCII case folding, as MLflow's SQLite store does).
  if (op === 'ILIKE') return sql`like(lower(${subject}), lower(${value}))`;
  if (op === 'LIKE') return sql`like(${subject}, ${value})`;
  return sql`${subject} ${COMPARATORS[op]} ${value}`;
}

function compileComparison({ entity, key, op, value, aggregate }: Comparison): SqlFragment {
  switch (entity) {
    case 'metric': {
      // ClickHouse's NaN != x is true; a NaN value must match no comparison.
      const metric = metricValue(aggregate);
      const having = op === '!=' ? sql`NOT isNaN(${metric}) AND ${compare(metric, op, value)}` : compare(metric, op, value);
      return sql`r.run_id IN (SELECT entity_id FROM metric_summary_v2 WHERE entity_kind = ${RUN} AND key = ${key} GROUP BY entity_id HAVING ${having})`;
    }
    // Only runs that have the key can match, also for != and NOT IN (MLflow's semantics). Only the param's value
    // (the first in Kafka order) is compared, not a value that lost a race between two instances.
    case 'param':
      return sql`r.run_id IN (SELECT run_id FROM run_params_v2 WHERE key = ${key} GROUP BY run_id HAVING ${compare(PARAM_VALUE, op, value)})`;
    case 'tag':
      return sql`r.run_id IN (SELECT run_id FROM run_tags_v1 WHERE key = ${key} GROUP BY run_id HAVING ${TAG_PRESENT} AND ${compare(LATEST_TAG, op, value)})`;
    case 'attribute': {
      const condition = compare(column(key), op, value);
      // end_time 0 (or NULL) means the run has not ended: like MLflow's NULL, it matches no comparison.
      return key === 'end_time' ? sql`(r.end_time != 0 AND ${condition})` : condition;
    }
  }
}

/**
 * A boolean SQL expression over the runs_latest row `r`: `1` without a filter. It is self-delimited (an atom or in
 * parentheses), so it can be combined with other conditions as is.
 */
export function compileRunFilter(expr: FilterExpr | undefined): SqlFragment {
  if (expr === undefined) return sql`1`;
  if (expr.kind === 'cmp') return compileComparison(expr);
  if (expr.items.length === 0) throw new Error(`empty ${expr.kind} in a run filter`);
  return sql`(${joinSql(expr.items.map(compileRunFilter), expr.kind === 'and' ? ' AND ' : ' OR ')})`;
}

export interface OrderByColumns {
  /** JOIN clauses to append after `FROM runs_latest AS r`: none, or exactly one (ClickHouse 18.16's limit). The
   * joined subquery is named (sort_keys) because current ClickHouse requires it (joined_subquery_requires_alias). */
  joins: SqlFragment[];
  /** ORDER BY items, ending with MLflow's tie-breakers (start_time DESC, run_id). */
  orderItems: SqlFragment[];
}

/**
 * One row per run and sort term with the term's value: `num` for metrics, `str` for params and tags. Every branch
 * has the same column types, as UNION ALL on 18.16 needs.
 */
function sortSource({ entity, key, aggregate }: OrderTerm, term: number): SqlFragment {
  switch (entity) {
    case 'metric':
      return sql`SELECT entity_id AS run_id, toUInt8(${term}) AS term, ${metricValue(aggregate)} AS num, '' AS str FROM metric_summary_v2 WHERE entity_kind = ${RUN} AND key = ${key} GROUP BY entity_id`;
    case 'param':
      return sql`SELECT run_id, toUInt8(${term}) AS term, toFloat64(0) AS num, ${PARAM_VALUE} AS str FROM run_params_v2 WHERE key = ${key} GROUP BY run_id`;
    case 'tag':
      return sql`SELECT run_id, toUInt8(${term}) AS term, toFloat64(0) AS num, ${LATEST_TAG} AS str FROM run_tags_v1 WHERE key = ${key} GROUP BY run_id HAVING ${TAG_PRESENT}`;
    case 'attribute':
      throw new Error('attributes are columns of runs_latest, not joined');
  }
}

/**
 * ORDER BY for terms: attributes sort by their column; metric, param and tag values come from one LEFT JOIN of all
 * their sort keys (sort_<i>, with has_<i> = 1 where the run has the key). Runs without the key sort last in either
 * direction, as in MLflow; so do NaN metric values and runs that have not ended for end_time. has_<i> is explicit
 * because a LEFT JOIN fills missing rows with 0 / '' unless join_use_nulls is set.
 */
export function orderByColumns(terms: readonly OrderTerm[]): OrderByColumns {
  const sources: SqlFragment[] = [];
  const sortColumns: SqlFragment[] = [];
  const orderItems: SqlFragment[] = [];
  terms.forEach((term, i) => {
    const direction = term.descending ? sql`DESC` : sql`ASC`;
    if (term.entity === 'attribute') {
      const col = column(term.key);
      if (term.key === 'end_time') orderItems.push(sql`${col} = 0`);
      orderItems.push(sql`${col} ${direction}`);
      return;
    }
    const sortKey = ident(`sort_${i}`);
    const present = ident(`has_${i}`);
    sources.push(sortSource(term, i));
    sortColumns.push(sql`anyIf(${term.entity === 'metric' ? sql`num` : sql`str`}, term = ${i}) AS ${sortKey}, max(term = ${i}) AS ${present}`);
    orderItems.push(sql`${present} DESC`);
    if (term.entity === 'metric') orderItems.push(sql`isNaN(${sortKey})`);
    orderItems.push(sql`${sortKey} ${direction}`);
  });
  const ordersBy = (key: AttributeName): boolean => terms.some((t) => t.entity === 'attribute' && t.key === key);
  if (!ordersBy('start_time')) orderItems.push(sql`r.start_time DESC`);
  if (!ordersBy('run_id')) orderItems.push(sql`r.run_id`);
  const joins =
    sources.length === 0
      ? []
      : [sql`LEFT JOIN (SELECT run_id, ${joinSql(sortColumns, ', ')} FROM (${joinSql(sources, ' UNION ALL ')}) GROUP BY run_id) AS sort_keys USING run_id`];
  return { joins, orderItems };
}
