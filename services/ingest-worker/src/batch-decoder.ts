// Turns one partition's fetched messages into rows to store and dead letters. Pure: no I/O, unit-tested.
import { batchProblem, decodeMetricBatch } from '@runstream/codec';
import type { IncomingBatch, OutgoingMessage } from '@runstream/kafka';
import type { MetricPointUnit } from '@runstream/clickhouse';

export type DeadLetterReason = 'malformed' | 'unknown_schema' | 'invalid_entity' | 'empty_batch' | 'too_many_points' | 'invalid_point' | 'invalid_event' | 'invalid_rows';

export interface DeadLetter {
  reason: DeadLetterReason;
  detail: string;
  offset: number;
  key: Buffer | null;
  value: Buffer;
}

export interface DecodedBatch {
  /** One unit per accepted message; a message's points are stored together or not at all. */
  units: MetricPointUnit[];
  deadLetters: DeadLetter[];
  /** Messages at or below the stored offset: already in ClickHouse from before a crash or rebalance. */
  skipped: number;
  points: number;
}

export function decodeBatch(batch: IncomingBatch, opts: { storedUpTo: number; nowMs: number }): DecodedBatch {
  const out: DecodedBatch = { units: [], deadLetters: [], skipped: 0, points: 0 };
  for (const msg of batch.messages) {
    if (msg.offset <= opts.storedUpTo) {
      out.skipped++;
      continue;
    }
    const value = msg.value ?? Buffer.alloc(0);
    const decoded = decodeMetricBatch(value);
    if (!decoded.ok) {
      out.deadLetters.push({ reason: decoded.reason, detail: decoded.detail, offset: msg.offset, key: msg.key, value });
      continue;
    }
    const problem = batchProblem(decoded.batch, opts.nowMs);
    if (problem) {
      out.deadLetters.push({ reason: problem.reason, detail: problem.detail, offset: msg.offset, key: msg.key, value });
      continue;
    }
    const { entityKind, entityId, points } = decoded.batch;
    out.units.push({
      entityKind,
      entityId,
      producer: decoded.batch.producer ?? '',
      srcTopic: batch.topic,
      srcPartition: batch.partition,
      srcOffset: msg.offset,
      points,
    });
    out.points += points.length;
  }
  return out;
}

export const DLQ_HEADERS = {
  reason: 'runstream-dlq-reason',
  detail: 'runstream-dlq-detail',
  topic: 'runstream-source-topic',
  partition: 'runstream-source-partition',
  offset: 'runstream-source-offset',
  at: 'runstream-dlq-at',
} as const;

/** The dead-letter record: the original bytes untouched, the reason and the source position in headers. */
export function deadLetterMessage(topic: string, partition: number, d: DeadLetter, nowMs: number): OutgoingMessage {
  return {
    key: d.key,
    value: d.value,
    headers: {
      [DLQ_HEADERS.reason]: d.reason,
      [DLQ_HEADERS.detail]: d.detail.slice(0, 2000),
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: String(partition),
      [DLQ_HEADERS.offset]: String(d.offset),
      [DLQ_HEADERS.at]: new Date(nowMs).toISOString(),
    },
  };
}

/**
 * Kafka refuses a produce request whose record batch for one partition exceeds the broker's message.max.bytes
 * (1 MiB by default). One fetched batch can carry megabytes of undecodable messages, so dead letters go out in
 * groups of at most `maxBytes` (value, key and headers counted; a single larger record goes alone).
 */
export const DEAD_LETTER_SEND_BYTES = 512 * 1024;

export function chunkBySize(messages: OutgoingMessage[], maxBytes: number = DEAD_LETTER_SEND_BYTES): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    let size = m.value.length + (m.key?.length ?? 0) + 64; // + record overhead
    for (const [k, v] of Object.entries(m.headers ?? {})) size += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
