// What each table fed by metric_entry_v1 (migration 0014) already holds of some messages. Read after an insert
// failed part-way, or when a worker takes partitions over: the next insert then feeds each table only what it misses.
//   - summaries and rollups: their marker rows, written in the same part as their data (the highest offset held
//     per partition);
//   - raw points: the messages' own rows, found through the sort key by each message's first point.
import { queryRows, type ClickHouse } from './clickhouse-client.ts';
import { ENTITY_KIND_NAME, FEED, type MetricPointUnit } from './metric-points-table.ts';
import { joinSql, sql } from './sql-literal.ts';

export interface MetricTablesHeld {
  /** Highest offset held per partition, per aggregated table. */
  summary: Map<number, number>;
  rollupStep: Map<number, number>;
  rollupTime: Map<number, number>;
  /** Messages (`partition:offset`) whose points are in metric_points_v2. */
  points: Set<string>;
}

export const messageId = (partition: number, offset: number): string => `${partition}:${offset}`;

export async function readMetricTablesHeld(ch: ClickHouse, topic: string, units: readonly MetricPointUnit[]): Promise<MetricTablesHeld> {
  const partitions = [...new Set(units.map((u) => String(u.srcPartition)))];
  const held: MetricTablesHeld = { summary: new Map(), rollupStep: new Map(), rollupTime: new Map(), points: new Set() };
  if (partitions.length === 0) return held;
  const summary = await queryRows<{ p: string; o: string }>(
    ch,
    sql`SELECT key AS p, maxMerge(last_step) AS o FROM metric_summary_v2
        WHERE entity_kind = 'marker' AND entity_id = ${topic} AND key IN ${partitions} GROUP BY key`,
  );
  for (const r of summary) held.summary.set(Number(r.p), Number(r.o));
  const rollups = await queryRows<{ axis: string; p: string; o: string }>(
    ch,
    sql`SELECT axis, key AS p, maxMerge(last_x) AS o FROM metric_rollup_v3
        WHERE axis IN ('step', 'time') AND granularity = 0 AND entity_kind = 'marker' AND key IN ${partitions} AND entity_id = ${topic}
        GROUP BY axis, key`,
  );
  for (const r of rollups) (r.axis === 'step' ? held.rollupStep : held.rollupTime).set(Number(r.p), Number(r.o));
  const probes = units.filter((u) => u.points.length > 0);
  if (probes.length > 0) {
    const firstPoints = joinSql(
      probes.map((u) => sql`(${ENTITY_KIND_NAME[u.entityKind]}, ${u.entityId}, ${u.points[0]!.key}, ${u.points[0]!.step})`),
      ', ',
    );
    const messages = joinSql(
      probes.map((u) => sql`(${u.srcPartition}, ${u.srcOffset})`),
      ', ',
    );
    const rows = await queryRows<{ p: string; o: string }>(
      ch,
      sql`SELECT DISTINCT src_partition AS p, src_offset AS o FROM metric_points_v2
          WHERE (entity_kind, entity_id, key, step) IN (${firstPoints}) AND src_topic = ${topic} AND (src_partition, src_offset) IN (${messages})`,
    );
    for (const r of rows) held.points.add(messageId(Number(r.p), Number(r.o)));
  }
  return held;
}

/** The tables that still miss a message: a FEED bit per table. Pure. */
export function feedOf(held: MetricTablesHeld, partition: number, offset: number): number {
  const below = (m: Map<number, number>) => offset > (m.get(partition) ?? -1);
  return (
    (held.points.has(messageId(partition, offset)) ? 0 : FEED.points) |
    (below(held.summary) ? FEED.summary : 0) |
    (below(held.rollupStep) ? FEED.rollupStep : 0) |
    (below(held.rollupTime) ? FEED.rollupTime : 0)
  );
}
