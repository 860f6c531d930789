// Dataset row batches of one partition → units to store and dead letters. Pure.
import { datasetRowsProblem, decodeDatasetRows } from '@runstream/codec';
import type { DatasetRowsUnit } from '@runstream/clickhouse';
import type { IncomingBatch } from '@runstream/kafka';
import type { Decoded } from './topic-pipeline.ts';

export function decodeDatasetRowsBatch(batch: IncomingBatch, opts: { storedUpTo: number; nowMs: number }): Decoded<DatasetRowsUnit> {
  const out: Decoded<DatasetRowsUnit> = { units: [], deadLetters: [], skipped: 0 };
  for (const msg of batch.messages) {
    if (msg.offset <= opts.storedUpTo) {
      out.skipped++;
      continue;
    }
    const value = msg.value ?? Buffer.alloc(0);
    const decoded = decodeDatasetRows(value);
    if (!decoded.ok) {
      out.deadLetters.push({ reason: decoded.reason, detail: decoded.detail, offset: msg.offset, key: msg.key, value });
      continue;
    }
    const problem = datasetRowsProblem(decoded.value, opts.nowMs);
    if (problem) {
      out.deadLetters.push({ reason: 'invalid_rows', detail: problem, offset: msg.offset, key: msg.key, value });
      continue;
    }
    out.units.push({ batch: decoded.value, srcTopic: batch.topic, srcPartition: batch.partition, srcOffset: msg.offset });
  }
  return out;
}
