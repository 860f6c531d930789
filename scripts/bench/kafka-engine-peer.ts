// The peer on the same machine: ClickHouse's own Kafka table engine draining the same points (JSONEachRow, the
// format people use with it) into the same table, so the same materialized views run on every block. Works on
// ClickHouse 18.16 (positional engine arguments) and current versions.
import { Kafka, logLevel } from 'kafkajs';
import { command, ident, queryRows, sql, sqlArray, type ClickHouse, type SqlFragment } from '@runstream/clickhouse';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PeerPoint {
  entityId: string;
  key: string;
  value: number;
  step: number;
  timestampMs: number;
}

/**
 * Fills `topic` (created with `partitions`) with the points as JSONEachRow messages of `rowsPerMessage` rows, then
 * commits offset 0 of every partition for `group`: ClickHouse starts a new Kafka-engine group at the latest offset.
 */
export async function prefillPeerTopic(opts: {
  brokers: string[];
  topic: string;
  group: string;
  partitions: number;
  points: Iterable<PeerPoint>;
  rowsPerMessage: number;
}): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-peer', brokers: opts.brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: opts.topic, numPartitions: opts.partitions }] });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let rows: string[] = [];
  let message = 0;
  let pending: Promise<unknown>[] = [];
  let offset = 0;
  const sendMessage = async () => {
    const partition = message++ % opts.partitions;
    const value = rows.join('\n') + '\n';
    rows = [];
    pending.push(producer.send({ topic: opts.topic, acks: -1, messages: [{ value, partition }] }));
    if (pending.length >= 32) {
      await Promise.all(pending);
      pending = [];
    }
  };
  for (const p of opts.points) {
    rows.push(
      JSON.stringify({
        entity_kind: 'run',
        entity_id: p.entityId,
        key: p.key,
        value: p.value,
        step: p.step,
        timestamp_ms: p.timestampMs,
        producer: '',
        src_topic: opts.topic,
        src_partition: message % opts.partitions,
        src_offset: offset++,
        point_index: 0,
      }),
    );
    if (rows.length >= opts.rowsPerMessage) await sendMessage();
  }
  if (rows.length > 0) await sendMessage();
  await Promise.all(pending);
  await producer.disconnect();
  await admin.setOffsets({ groupId: opts.group, topic: opts.topic, partitions: Array.from({ length: opts.partitions }, (_, partition) => ({ partition, offset: '0' })) });
  await admin.disconnect();
}

/**
 * Attaches a Kafka engine table and materialized views from it into the tables the ingest worker fills — the raw
 * points, the summaries and both rollup axes (ClickHouse aggregating every point, the natural way with this engine;
 * an insert made by a view does not run the views of its target, so each table gets its own view of the source) —
 * waits until `expected` rows whose entity starts with `entityPrefix` are stored, detaches all. Returns the seconds
 * from attaching to the last row.
 */
export async function drainWithKafkaEngine(
  ch: ClickHouse,
  opts: { brokers: string[]; topic: string; group: string; consumers: number; entityPrefix: string; expected: number; name: string; timeoutMs?: number },
): Promise<number> {
  const source = ident(`${opts.name}_source`);
  const views = ['points', 'summary', 'rollup_step', 'rollup_time'].map((v) => ident(`${opts.name}_${v}_mv`));
  const [points, summary, rollupStep, rollupTime] = views as [SqlFragment, SqlFragment, SqlFragment, SqlFragment];
  await command(
    ch,
    sql`CREATE TABLE ${source} (entity_kind String, entity_id String, key String, value Float64, step Int64, timestamp_ms Int64, producer String, src_topic String, src_partition UInt32, src_offset UInt64, point_index UInt32)
        ENGINE = Kafka(${opts.brokers.join(',')}, ${opts.topic}, ${opts.group}, 'JSONEachRow', '\n', '', ${opts.consumers})`,
  );
  const started = performance.now();
  const kind = sql`CAST(entity_kind AS Enum8('run' = 1, 'model_version' = 2, 'marker' = 3))`;
  const states = sql`sumState(toUInt64(1)) AS points, sumState(toUInt64(isNaN(value))) AS nan_points,
                     minIfState(value, toUInt8(NOT isNaN(value))) AS min_value, maxIfState(value, toUInt8(NOT isNaN(value))) AS max_value`;
  const rollup = (axis: 'step' | 'time', levels: number[], x: 'step' | 'timestamp_ms') => {
    const xCol = x === 'step' ? sql`step` : sql`timestamp_ms`;
    return sql`SELECT CAST(${axis} AS Enum8('step' = 1, 'time' = 2)) AS axis, granularity, ${kind} AS entity_kind, key, entity_id,
                      intDiv(${xCol}, granularity) - (modulo(${xCol}, granularity) < 0) AS bucket, ${states},
                      sumState(if(isNaN(value), 0., value)) AS sum_value, argMaxState(value, tuple(step, timestamp_ms)) AS last_value,
                      minState(${xCol}) AS first_x, maxState(${xCol}) AS last_x, toStartOfMonth(now()) AS ingest_month
               FROM ${source} ARRAY JOIN CAST(${sqlArray(levels)} AS Array(Int64)) AS granularity
               GROUP BY axis, granularity, entity_kind, key, entity_id, bucket`;
  };
  try {
    // The aggregating views first: the raw points (what the wait below counts) come last.
    await command(
      ch,
      sql`CREATE MATERIALIZED VIEW ${summary} TO metric_summary_v2 AS
          SELECT ${kind} AS entity_kind, entity_id, key, ${states}, minState(step) AS first_step, maxState(step) AS last_step,
                 argMaxState(value, tuple(step, timestamp_ms)) AS last_value, minState(timestamp_ms) AS first_timestamp_ms, maxState(timestamp_ms) AS last_timestamp_ms
          FROM ${source} GROUP BY entity_kind, entity_id, key`,
    );
    await command(ch, sql`CREATE MATERIALIZED VIEW ${rollupStep} TO metric_rollup_v3 AS ${rollup('step', [64, 1024, 16384], 'step')}`);
    await command(ch, sql`CREATE MATERIALIZED VIEW ${rollupTime} TO metric_rollup_v3 AS ${rollup('time', [4000, 64000, 1024000], 'timestamp_ms')}`);
    await command(
      ch,
      sql`CREATE MATERIALIZED VIEW ${points} TO metric_points_v2 AS
          SELECT CAST(entity_kind AS Enum8('run' = 1, 'model_version' = 2)) AS entity_kind, entity_id, key, value, step, timestamp_ms, producer,
                 now() AS ingested_at, src_topic, src_partition, src_offset, point_index
          FROM ${source}`,
    );
    const deadline = started + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const [r] = await queryRows<{ c: string }>(ch, sql`SELECT count() AS c FROM metric_points_v2 WHERE startsWith(entity_id, ${opts.entityPrefix})`);
      if (Number(r!.c) >= opts.expected) return (performance.now() - started) / 1000;
      if (performance.now() > deadline) throw new Error(`Kafka engine stored ${r!.c} of ${opts.expected} rows in ${opts.timeoutMs ?? 600_000} ms`);
      await sleep(50);
    }
  } finally {
    for (const view of views) await command(ch, sql`DROP TABLE IF EXISTS ${view!}`);
    await command(ch, sql`DROP TABLE IF EXISTS ${source}`);
  }
}
