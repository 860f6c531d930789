// Writes of the API travel through Kafka like every other event (the topic is the audit trail). To give callers
// read-your-writes, a write returns only once the ingest worker has stored it: the send tells us the offset, and
// ingest_progress_v1 tells us when that offset is in ClickHouse.
import { randomUUID } from 'node:crypto';
import { encodeDatasetRows, encodeMetricBatch, encodeTrackingEvent, type DatasetRowsBatch, type EntityKind, type MetricPoint, type TrackingEvent } from '@runstream/codec';
import { readIngestProgress, type ClickHouse } from '@runstream/clickhouse';
import type { OutgoingMessage, Producer, SendReceipt, Topics } from '@runstream/kafka';

export class NotYetVisibleError extends Error {
  constructor(timeoutMs: number) {
    super(`the write is durable in Kafka but was not stored within ${timeoutMs} ms; the ingest worker may be down or behind`);
    this.name = 'NotYetVisibleError';
  }
}

type Optional = 'experimentId' | 'runId' | 'key' | 'value' | 'experiment' | 'run' | 'dataset' | 'registeredModel' | 'modelVersion' | 'loggedModel';
export type NewEvent = Omit<TrackingEvent, 'eventId' | 'timestampMs' | 'actor' | Optional> & Partial<Pick<TrackingEvent, Optional>>;

export class TrackingWriter {
  private readonly producer: Producer;
  private readonly ch: ClickHouse;
  private readonly topics: Topics;
  private readonly visibilityTimeoutMs: number;

  constructor(deps: { producer: Producer; ch: ClickHouse; topics: Topics; visibilityTimeoutMs: number }) {
    this.producer = deps.producer;
    this.ch = deps.ch;
    this.topics = deps.topics;
    this.visibilityTimeoutMs = deps.visibilityTimeoutMs;
  }

  /** Publishes the events of one entity (same key: one partition, in order) and waits until they are stored. */
  async emit(entityKey: string, actor: string, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = Date.now();
    const messages: OutgoingMessage[] = events.map((e) => ({
      key: entityKey,
      value: encodeTrackingEvent({
        eventId: randomUUID(),
        timestampMs: now,
        actor,
        experimentId: '',
        runId: '',
        key: '',
        value: '',
        experiment: null,
        run: null,
        dataset: null,
        registeredModel: null,
        modelVersion: null,
        loggedModel: null,
        ...e,
      }),
    }));
    await this.sendAndWait(this.topics.tracking, messages);
  }

  /** Publishes metric points of a run (or a model version, '<name>/<version>') as one batch; waits until stored. */
  async emitMetrics(entityId: string, points: MetricPoint[], producer: string, entityKind: EntityKind = 'RUN'): Promise<void> {
    if (points.length === 0) return;
    const value = encodeMetricBatch({ entityKind, entityId, points, producer });
    await this.sendAndWait(this.topics.metrics, [{ key: `${entityKind}:${entityId}`, value }]);
  }

  /** Publishes rows of a dataset as one batch (keyed by dataset, so one dataset stays in order); waits until stored. */
  async emitDatasetRows(batch: DatasetRowsBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    await this.sendAndWait(this.topics.datasets, [{ key: `dataset:${batch.dataset}`, value: encodeDatasetRows(batch) }]);
  }

  private async sendAndWait(topic: string, messages: OutgoingMessage[]): Promise<void> {
    const receipts = await this.producer.send(topic, messages);
    await this.waitVisible(topic, receipts, messages.length);
  }

  private async waitVisible(topic: string, receipts: SendReceipt[], count: number): Promise<void> {
    // One key per send, so one partition: its messages sit at firstOffset … firstOffset + count - 1.
    const [receipt] = receipts;
    if (!receipt || receipts.length !== 1) throw new Error(`expected one partition for one key, got ${receipts.length}`);
    const last = receipt.firstOffset + count - 1;
    const deadline = Date.now() + this.visibilityTimeoutMs;
    let delay = 3;
    for (;;) {
      const stored = (await readIngestProgress(this.ch, topic, [receipt.partition])).get(receipt.partition) ?? -1;
      if (stored >= last) return;
      if (Date.now() + delay > deadline) throw new NotYetVisibleError(this.visibilityTimeoutMs);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 50);
    }
  }
}
