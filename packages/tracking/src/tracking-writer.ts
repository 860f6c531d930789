// Writes of the API travel through Kafka like every other event (the topic is the audit trail). A write is
// acknowledged once Kafka has it — idempotent producer, acks=all — never once ClickHouse has it: logging must not
// slow a training loop. Read-your-writes is paid at read time (read-fence.ts), only when the worker is behind.
import { randomUUID } from 'node:crypto';
import { encodeDatasetRows, encodeMetricBatch, encodeTrackingEvent, type DatasetRowsBatch, type EntityKind, type MetricPoint, type TrackingEvent } from '@runstream/codec';
import type { OutgoingMessage, Producer, Topics } from '@runstream/kafka';
import type { ReadFence } from './read-fence.ts';

type Optional = 'experimentId' | 'runId' | 'key' | 'value' | 'experiment' | 'run' | 'dataset' | 'registeredModel' | 'modelVersion' | 'loggedModel';
export type NewEvent = Omit<TrackingEvent, 'eventId' | 'timestampMs' | 'actor' | Optional> & Partial<Pick<TrackingEvent, Optional>>;

/** Where an acknowledged write landed: one partition, consecutive offsets. */
export interface WriteReceipt {
  topic: string;
  partition: number;
  firstOffset: number;
  lastOffset: number;
}

export interface TrackingWriterDeps {
  producer: Producer;
  topics: Topics;
  /**
   * When given, every write also waits until it is stored (for batch tools such as the MLflow importer, which read
   * their own writes back at once); the API leaves it out and fences its reads instead.
   */
  waitStored?: ReadFence;
}

export class TrackingWriter {
  private readonly deps: TrackingWriterDeps;

  constructor(deps: TrackingWriterDeps) {
    this.deps = deps;
  }

  get topics(): Topics {
    return this.deps.topics;
  }

  /** Publishes the events of one entity (same key: one partition, in order); resolves once Kafka acknowledged them. */
  async emit(entityKey: string, actor: string, events: NewEvent[]): Promise<WriteReceipt | undefined> {
    if (events.length === 0) return undefined;
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
    return this.send(this.deps.topics.tracking, messages);
  }

  /** Publishes metric points of a run (or a model version, '<name>/<version>') as one batch. */
  async emitMetrics(entityId: string, points: MetricPoint[], producer: string, entityKind: EntityKind = 'RUN'): Promise<WriteReceipt | undefined> {
    if (points.length === 0) return undefined;
    const value = encodeMetricBatch({ entityKind, entityId, points, producer });
    return this.send(this.deps.topics.metrics, [{ key: `${entityKind}:${entityId}`, value }]);
  }

  /** Publishes rows of a dataset as one batch (keyed by dataset, so one dataset stays in order). */
  async emitDatasetRows(batch: DatasetRowsBatch): Promise<WriteReceipt | undefined> {
    if (batch.rows.length === 0) return undefined;
    return this.send(this.deps.topics.datasets, [{ key: `dataset:${batch.dataset}`, value: encodeDatasetRows(batch) }]);
  }

  private async send(topic: string, messages: OutgoingMessage[]): Promise<WriteReceipt> {
    const receipts = await this.deps.producer.send(topic, messages);
    // One key per send, so one partition: its messages sit at firstOffset … firstOffset + count - 1.
    const [receipt] = receipts;
    if (!receipt || receipts.length !== 1) throw new Error(`expected one partition for one key, got ${receipts.length}`);
    const written: WriteReceipt = { topic, partition: receipt.partition, firstOffset: receipt.firstOffset, lastOffset: receipt.firstOffset + messages.length - 1 };
    if (this.deps.waitStored) await this.deps.waitStored.waitFor([{ topic, partition: written.partition, offset: written.lastOffset }]);
    return written;
  }
}
