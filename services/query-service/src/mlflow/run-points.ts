// Reads of one run's raw metric points (metric_points_v2) that MLflow's write semantics need.
import { floatFromBits, queryRows, sql, type ClickHouse, type HistoryCursor } from '@runstream/clickhouse';
import { pointIdentity } from './model-metrics.ts';

/** Identities (pointIdentity) of the run's stored points with one of the keys at one of the steps. */
export async function storedPointIdentities(ch: ClickHouse, runId: string, keys: string[], steps: number[]): Promise<Set<string>> {
  if (keys.length === 0 || steps.length === 0) return new Set();
  const rows = await queryRows<{ key: string; step: string; timestamp_ms: string; bits: string }>(
    ch,
    sql`SELECT DISTINCT key, step, timestamp_ms, hex(reinterpretAsString(value)) AS bits FROM metric_points_v2
        WHERE entity_kind = 'run' AND entity_id = ${runId} AND key IN ${keys} AND step IN ${steps}`,
  );
  return new Set(rows.map((r) => pointIdentity({ key: r.key, step: Number(r.step), timestampMs: Number(r.timestamp_ms), value: floatFromBits(r.bits) })));
}

/**
 * Identities of the run's points of `key` stored at the cursor's step and timestamp, at or before the cursor: the
 * only earlier points an identical point after the cursor can repeat (a history is ordered by step, then time).
 */
export async function identitiesThrough(ch: ClickHouse, runId: string, key: string, c: HistoryCursor): Promise<Set<string>> {
  const rows = await queryRows<{ bits: string }>(
    ch,
    sql`SELECT hex(reinterpretAsString(value)) AS bits FROM metric_points_v2
        WHERE entity_kind = 'run' AND entity_id = ${runId} AND key = ${key} AND step = ${c.step} AND timestamp_ms = ${c.timestampMs}
          AND (src_partition, src_offset, point_index) <= (${c.partition}, ${c.offset}, ${c.index})`,
  );
  return new Set(rows.map((r) => pointIdentity({ key, step: c.step, timestampMs: c.timestampMs, value: floatFromBits(r.bits) })));
}
