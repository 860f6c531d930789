// Read queries of the query service over metric_summary_v2 and metric_points_v2.
import { queryRows, type ClickHouse } from './clickhouse-client.ts';
// Values are read as hex(reinterpretAsString(x)): see float-bits.ts.
import { floatFromBits } from './float-bits.ts';
import { ENTITY_KIND_NAME } from './metric-points-table.ts';
import { sql, type SqlFragment } from './sql-literal.ts';

export type EntityKindName = keyof typeof ENTITY_KIND_NAME;

export interface EntitySummary {
  entityId: string;
  metricKeys: number;
  points: number;
  firstTimestampMs: number;
  lastTimestampMs: number;
}

export function listEntitiesSql(kind: EntityKindName, limit: number, after: string | undefined): SqlFragment {
  const afterFilter = after === undefined ? sql`` : sql` AND entity_id > ${after}`;
  return sql`SELECT entity_id, count() AS metric_keys, sum(points) AS points, min(first_ts) AS first_ts, max(last_ts) AS last_ts
        FROM (
          SELECT entity_id, key, sumMerge(points) AS points,
                 minMerge(first_timestamp_ms) AS first_ts, maxMerge(last_timestamp_ms) AS last_ts
          FROM metric_summary_v2
          WHERE entity_kind = ${ENTITY_KIND_NAME[kind]}${afterFilter}
          GROUP BY entity_id, key
        )
        GROUP BY entity_id
        ORDER BY entity_id
        LIMIT ${limit}`;
}

/** Entities that have metric points, ordered by id; `after` is the last id of the previous page. */
export async function listEntities(ch: ClickHouse, kind: EntityKindName, limit: number, after: string | undefined): Promise<EntitySummary[]> {
  const rows = await queryRows<{ entity_id: string; metric_keys: string; points: string; first_ts: string; last_ts: string }>(ch, listEntitiesSql(kind, limit, after));
  return rows.map((r) => ({
    entityId: r.entity_id,
    metricKeys: Number(r.metric_keys),
    points: Number(r.points),
    firstTimestampMs: Number(r.first_ts),
    lastTimestampMs: Number(r.last_ts),
  }));
}

export interface MetricKeySummary {
  key: string;
  points: number;
  /** Smallest value that is not NaN (NaN only when every value is). */
  minValue: number;
  maxValue: number;
  firstStep: number;
  lastStep: number;
  lastValue: number;
  lastTimestampMs: number;
}

/** Summaries of the keys of many entities (all keys, or only `keys`), ordered by entity and key. */
export function metricSummariesSql(kind: EntityKindName, entityIds: readonly string[], keys?: readonly string[]): SqlFragment {
  const keyFilter = keys === undefined ? sql`` : sql` AND key IN ${keys}`;
  return sql`SELECT entity_id, key, sumMerge(points) AS points, sumMerge(nan_points) AS nan_points,
               hex(reinterpretAsString(minIfMerge(min_value))) AS min_bits, hex(reinterpretAsString(maxIfMerge(max_value))) AS max_bits,
               minMerge(first_step) AS first_step, maxMerge(last_step) AS last_step,
               hex(reinterpretAsString(argMaxMerge(last_value))) AS last_bits, maxMerge(last_timestamp_ms) AS last_ts
        FROM metric_summary_v2
        WHERE entity_kind = ${ENTITY_KIND_NAME[kind]} AND entity_id IN ${entityIds}${keyFilter}
        GROUP BY entity_id, key
        ORDER BY entity_id, key`;
}

export function listMetricKeysSql(kind: EntityKindName, entityId: string): SqlFragment {
  return metricSummariesSql(kind, [entityId]);
}

function toKeySummary(r: Record<string, string>): MetricKeySummary {
  // min/max skip NaN; a key with nothing but NaN has NaN as both.
  const allNaN = Number(r.nan_points) === Number(r.points);
  return {
    key: r.key!,
    points: Number(r.points),
    minValue: allNaN ? NaN : floatFromBits(r.min_bits!),
    maxValue: allNaN ? NaN : floatFromBits(r.max_bits!),
    firstStep: Number(r.first_step),
    lastStep: Number(r.last_step),
    lastValue: floatFromBits(r.last_bits!),
    lastTimestampMs: Number(r.last_ts),
  };
}

export async function listMetricKeys(ch: ClickHouse, kind: EntityKindName, entityId: string): Promise<MetricKeySummary[]> {
  return (await queryRows<Record<string, string>>(ch, listMetricKeysSql(kind, entityId))).map(toKeySummary);
}

/** Key summaries of many entities at once, by entity id. */
export async function metricSummaries(ch: ClickHouse, kind: EntityKindName, entityIds: readonly string[], keys?: readonly string[]): Promise<Map<string, MetricKeySummary[]>> {
  const out = new Map<string, MetricKeySummary[]>();
  if (entityIds.length === 0 || keys?.length === 0) return out;
  for (const r of await queryRows<Record<string, string>>(ch, metricSummariesSql(kind, entityIds, keys))) {
    const list = out.get(r.entity_id!) ?? [];
    list.push(toKeySummary(r));
    out.set(r.entity_id!, list);
  }
  return out;
}

export interface HistoryPoint {
  step: number;
  timestampMs: number;
  value: number;
}

/** Keyset position of a point in a history: unique per stored point, so pages never skip or repeat one. */
export interface HistoryCursor {
  step: number;
  timestampMs: number;
  partition: number;
  offset: number;
  index: number;
}

export interface HistoryPage {
  points: HistoryPoint[];
  next: HistoryCursor | undefined;
}

export interface HistoryQuery {
  kind: EntityKindName;
  entityId: string;
  key: string;
  after?: HistoryCursor;
  limit: number;
  startStep?: number;
  endStep?: number;
}

export function metricHistorySql(q: HistoryQuery): SqlFragment {
  const a = q.after;
  const afterFilter = a
    ? sql` AND (step, timestamp_ms, src_partition, src_offset, point_index) > (${a.step}, ${a.timestampMs}, ${a.partition}, ${a.offset}, ${a.index})`
    : sql``;
  const startFilter = q.startStep === undefined ? sql`` : sql` AND step >= ${q.startStep}`;
  const endFilter = q.endStep === undefined ? sql`` : sql` AND step <= ${q.endStep}`;
  // One row more than asked tells whether another page exists.
  return sql`SELECT step, timestamp_ms, hex(reinterpretAsString(value)) AS bits, src_partition, src_offset, point_index
        FROM metric_points_v2
        WHERE entity_kind = ${ENTITY_KIND_NAME[q.kind]} AND entity_id = ${q.entityId} AND key = ${q.key}${startFilter}${endFilter}${afterFilter}
        ORDER BY step, timestamp_ms, src_partition, src_offset, point_index
        LIMIT ${q.limit + 1}`;
}

export async function metricHistory(ch: ClickHouse, q: HistoryQuery): Promise<HistoryPage> {
  const rows = await queryRows<{ step: string; timestamp_ms: string; bits: string; src_partition: number; src_offset: string; point_index: number }>(ch, metricHistorySql(q));
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    points: page.map((r) => ({ step: Number(r.step), timestampMs: Number(r.timestamp_ms), value: floatFromBits(r.bits) })),
    next:
      rows.length > q.limit && last
        ? { step: Number(last.step), timestampMs: Number(last.timestamp_ms), partition: Number(last.src_partition), offset: Number(last.src_offset), index: Number(last.point_index) }
        : undefined,
  };
}
