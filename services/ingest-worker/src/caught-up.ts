// Whether a fetched batch reached the end of its partition, i.e. nothing more was waiting in Kafka when it was
// fetched. The batch writer lingers only for partitions that are behind: waiting cannot fill a batch otherwise.
import type { IncomingBatch } from '@runstream/kafka';

export function isCaughtUp(batch: IncomingBatch): boolean {
  const last = batch.messages[batch.messages.length - 1];
  // Unknown high watermark: assume more is coming (the linger then bounds the wait, as before).
  if (!last || batch.highWatermark === undefined || !Number.isFinite(batch.highWatermark)) return false;
  // Control records (transactions) can sit after the last message: then this says "behind" and the linger decides.
  return last.offset + 1 >= batch.highWatermark;
}
