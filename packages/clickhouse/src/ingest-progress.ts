// Reads ingest_progress_v1: the highest source offset per partition whose points are stored.
import { queryRows, type ClickHouse } from './clickhouse-client.ts';
import { sql, type SqlFragment } from './sql-literal.ts';

export function readIngestProgressSql(topic: string, partitions?: readonly number[]): SqlFragment {
  const filter = partitions && partitions.length > 0 ? sql` AND src_partition IN ${partitions}` : sql``;
  // max() over the raw rows: ReplacingMergeTree collapses duplicates only eventually.
  return sql`SELECT src_partition, max(max_offset) AS max_offset FROM ingest_progress_v1 WHERE src_topic = ${topic}${filter} GROUP BY src_partition`;
}

/** Highest stored offset per partition of `topic` (partitions with nothing stored are absent). */
export async function readIngestProgress(ch: ClickHouse, topic: string, partitions?: readonly number[]): Promise<Map<number, number>> {
  const rows = await queryRows<{ src_partition: number; max_offset: string }>(ch, readIngestProgressSql(topic, partitions));
  return new Map(rows.map((r) => [Number(r.src_partition), Number(r.max_offset)]));
}

/** Highest stored offset per topic and partition, keyed `progressKey(topic, partition)`, for several topics at once. */
export async function readIngestProgressOf(ch: ClickHouse, topics: readonly string[]): Promise<Map<string, number>> {
  if (topics.length === 0) return new Map();
  const rows = await queryRows<{ src_topic: string; src_partition: number; max_offset: string }>(
    ch,
    sql`SELECT src_topic, src_partition, max(max_offset) AS max_offset FROM ingest_progress_v1 WHERE src_topic IN ${topics} GROUP BY src_topic, src_partition`,
  );
  return new Map(rows.map((r) => [progressKey(r.src_topic, Number(r.src_partition)), Number(r.max_offset)]));
}

export const progressKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
