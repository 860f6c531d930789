// The peer on the same machine: ClickHouse's own Kafka table engine draining the same points (JSONEachRow, the
// format people use with it) into the same table, so the same materialized views run on every block. Works on
// ClickHouse 18.16 (positional engine arguments) and current versions.
import { Kafka, logLevel } from 'kafkajs';
import { command, ident, queryRows, sql, type ClickHouse } from '@runstream/clickhouse';

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
 * Attaches a Kafka engine table and a materialized view into metric_points_v1, waits until `expected` rows whose
 * entity starts with `entityPrefix` are stored, detaches both. Returns the seconds from attaching to the last row.
 */
export async function drainWithKafkaEngine(
  ch: ClickHouse,
  opts: { brokers: string[]; topic: string; group: string; consumers: number; entityPrefix: string; expected: number; name: string; timeoutMs?: number },
): Promise<number> {
  const source = ident(`${opts.name}_source`);
  const view = ident(`${opts.name}_mv`);
  await command(
    ch,
    sql`CREATE TABLE ${source} (entity_kind String, entity_id String, key String, value Float64, step Int64, timestamp_ms Int64, producer String, src_topic String, src_partition UInt32, src_offset UInt64, point_index UInt32)
        ENGINE = Kafka(${opts.brokers.join(',')}, ${opts.topic}, ${opts.group}, 'JSONEachRow', '\n', '', ${opts.consumers})`,
  );
  const started = performance.now();
  try {
    await command(
      ch,
      sql`CREATE MATERIALIZED VIEW ${view} TO metric_points_v1 AS
          SELECT CAST(entity_kind AS Enum8('run' = 1, 'model_version' = 2)) AS entity_kind, entity_id, key, value, step, timestamp_ms, producer,
                 now() AS ingested_at, src_topic, src_partition, src_offset, point_index
          FROM ${source}`,
    );
    const deadline = started + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const [r] = await queryRows<{ c: string }>(ch, sql`SELECT count() AS c FROM metric_points_v1 WHERE startsWith(entity_id, ${opts.entityPrefix})`);
      if (Number(r!.c) >= opts.expected) return (performance.now() - started) / 1000;
      if (performance.now() > deadline) throw new Error(`Kafka engine stored ${r!.c} of ${opts.expected} rows in ${opts.timeoutMs ?? 600_000} ms`);
      await sleep(50);
    }
  } finally {
    await command(ch, sql`DROP TABLE IF EXISTS ${view}`);
    await command(ch, sql`DROP TABLE IF EXISTS ${source}`);
  }
}
