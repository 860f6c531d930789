// Public API of the Runstream producer SDK.
import { createLogger, type Logger } from '@runstream/config';
import { createKafkaBus, MissingTopicError, topicNames, type MessageBus } from '@runstream/kafka';
import { MetricsProducer } from './metrics-producer.ts';
import { DatasetProducer } from './dataset-producer.ts';
import type { MetricsProducerOptions } from './producer-config.ts';

export { MetricsProducer, BufferFullError, InvalidMetricError, ProducerClosedError, type EntityRef, type PointOptions } from './metrics-producer.ts';
export type { MetricsProducerOptions } from './producer-config.ts';
export { MissingTopicError } from '@runstream/kafka';
export { DatasetProducer, InvalidDatasetRowsError, type DatasetRowInput, type LogRowsOptions } from './dataset-producer.ts';

export interface ConnectOptions extends Omit<MetricsProducerOptions, 'producer' | 'topic'> {
  brokers: string[];
  /** Topic prefix shared with the ingest worker (KAFKA_TOPIC_PREFIX). Default 'runstream.'. */
  topicPrefix?: string;
  clientId?: string;
  logger?: Logger;
}

/**
 * A producer for a topic that does not exist would only find out at its first send; check while connecting, so a
 * wrong prefix or a worker that never ran is reported before the training loop starts.
 */
async function requireTopic(bus: MessageBus, topic: string, brokers: string[], topicPrefix: string): Promise<void> {
  const admin = await bus.admin();
  try {
    if ((await admin.missingTopics([topic])).length > 0) throw new MissingTopicError(topic, brokers, topicPrefix);
  } finally {
    await admin.disconnect();
  }
}

/** Connects an idempotent (acks=all) Kafka producer and wraps it in a MetricsProducer; rejects with MissingTopicError when the topic is missing. */
export async function createMetricsProducer(opts: ConnectOptions): Promise<MetricsProducer> {
  const { brokers, topicPrefix = 'runstream.', clientId = 'runstream-sdk', logger, ...rest } = opts;
  const log = logger ?? createLogger({ name: 'runstream-sdk', level: 'warn' });
  const bus = createKafkaBus({ brokers, clientId, topicPrefix, topicPartitions: 1, saslUsername: '', saslPassword: '' }, log);
  const topic = topicNames(topicPrefix).metrics;
  await requireTopic(bus, topic, brokers, topicPrefix);
  const producer = await bus.producer({ idempotent: true });
  return new MetricsProducer({ ...rest, producer, topic });
}

/** Connects an idempotent (acks=all) Kafka producer for dataset rows (topic <prefix>datasets.v1). */
export async function createDatasetProducer(opts: { brokers: string[]; topicPrefix?: string; clientId?: string; producerId?: string; logger?: Logger }): Promise<DatasetProducer> {
  const { brokers, topicPrefix = 'runstream.', clientId = 'runstream-sdk', logger } = opts;
  const log = logger ?? createLogger({ name: 'runstream-sdk', level: 'warn' });
  const bus = createKafkaBus({ brokers, clientId, topicPrefix, topicPartitions: 1, saslUsername: '', saslPassword: '' }, log);
  const topic = topicNames(topicPrefix).datasets;
  await requireTopic(bus, topic, brokers, topicPrefix);
  const producer = await bus.producer({ idempotent: true });
  return new DatasetProducer({ producer, topic, ...(opts.producerId ? { producerId: opts.producerId } : {}) });
}
