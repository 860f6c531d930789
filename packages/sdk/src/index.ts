// Public API of the Runstream producer SDK.
import { createLogger, type Logger } from '@runstream/config';
import { createKafkaBus, topicNames } from '@runstream/kafka';
import { MetricsProducer } from './metrics-producer.ts';
import type { MetricsProducerOptions } from './producer-config.ts';

export { MetricsProducer, BufferFullError, InvalidMetricError, ProducerClosedError, type EntityRef, type PointOptions } from './metrics-producer.ts';
export type { MetricsProducerOptions } from './producer-config.ts';

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
