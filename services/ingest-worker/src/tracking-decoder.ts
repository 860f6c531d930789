// Tracking events of one partition → units to store and dead letters. Pure.
import { decodeTrackingEvent, trackingEventProblem } from '@runstream/codec';
import type { TrackingEventUnit } from '@runstream/clickhouse';
import type { IncomingBatch } from '@runstream/kafka';
import type { Decoded } from './topic-pipeline.ts';

export function decodeTrackingBatch(batch: IncomingBatch, opts: { storedUpTo: number }): Decoded<TrackingEventUnit> {
  const out: Decoded<TrackingEventUnit> = { units: [], deadLetters: [], skipped: 0 };
  for (const msg of batch.messages) {
    if (msg.offset <= opts.storedUpTo) {
      out.skipped++;
      continue;
    }
    const value = msg.value ?? Buffer.alloc(0);
    const decoded = decodeTrackingEvent(value);
    if (!decoded.ok) {
      out.deadLetters.push({ reason: decoded.reason, detail: decoded.detail, offset: msg.offset, key: msg.key, value });
      continue;
    }
    const problem = trackingEventProblem(decoded.value);
    if (problem) {
      out.deadLetters.push({ reason: 'invalid_event', detail: problem, offset: msg.offset, key: msg.key, value });
      continue;
    }
    out.units.push({ event: decoded.value, srcTopic: batch.topic, srcPartition: batch.partition, srcOffset: msg.offset });
  }
  return out;
}
