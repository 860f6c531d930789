// Public API of the Runstream producer SDK.
import { createLogger, type Logger } from '@runstream/config';
import { createKafkaBus, topicNames } from '@runstream/kafka';
import { MetricsProducer } from './metrics-producer.ts';
import { DatasetProducer } from './dataset-producer.ts';
import type { MetricsProducerOptions } from './producer-config.ts';

export { MetricsProducer, BufferFullError, InvalidMetricError, ProducerClosedError, type EntityRef, type PointOptions } from './metrics-producer.ts';
export type { MetricsProducerOptions } from './producer-config.ts';
export { DatasetProducer, InvalidDatasetRowsError, type DatasetRowInput, type LogRowsOptions } from './dataset-producer.ts';

export interface ConnectOptions extends Omit<MetricsProducerOptions, 'producer' | 'topic'> {
  brokers: string[];
  /** Topic prefix shared with the ingest worker (KAFKA_TOPIC_PREFIX). Default 'runstream.'. */
  topicPrefix?: string;
  clientId?: string;
  logger?: Logger;
}

/** Connects an idempotent (acks=all) Kafka producer and wraps it in a MetricsProducer. */
export async function createMetricsProducer(opts: ConnectOptions): Promise<MetricsProducer> {
  const { brokers, topicPrefix = 'runstream.', clientId = 'runstream-sdk', logger, ...rest } = opts;
  const log = logger ?? createLogger({ name: 'runstream-sdk', level: 'warn' });
  const bus = createKafkaBus({ brokers, clientId, topicPrefix, topicPartitions: 1, saslUsername: '', saslPassword: '' }, log);
  const producer = await bus.producer({ idempotent: true });
  return new MetricsProducer({ ...rest, producer, topic: topicNames(topicPrefix).metrics });
}

/** Connects an idempotent (acks=all) Kafka producer for dataset rows (topic <prefix>datasets.v1). */
export async function createDatasetProducer(opts: { brokers: string[]; topicPrefix?: string; clientId?: string; producerId?: string; logger?: Logger }): Promise<DatasetProducer> {
  const { brokers, topicPrefix = 'runstream.', clientId = 'runstream-sdk', logger } = opts;
  const log = logger ?? createLogger({ name: 'runstream-sdk', level: 'warn' });
  const bus = createKafkaBus({ brokers, clientId, topicPrefix, topicPartitions: 1, saslUsername: '', saslPassword: '' }, log);
  const producer = await bus.producer({ idempotent: true });
  return new DatasetProducer({ producer, topic: topicNames(topicPrefix).datasets, ...(opts.producerId ? { producerId: opts.producerId } : {}) });
}
