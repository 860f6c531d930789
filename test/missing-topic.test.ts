// Producing to a topic that does not exist fails at once with the topic's name and the fix, on the real local
// Kafka (a fresh prefix nobody created topics for) — not after the transport's metadata retries.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { kafkaEnv, loadEnv } from '@runstream/config';
import { MissingTopicError } from '@runstream/kafka';
import { createMetricsProducer, MetricsProducer } from '@runstream/sdk';
import { busFor, isolatedEnv, log } from './support/pipeline-fixture.ts';

const brokers = loadEnv(kafkaEnv).brokers;

it('createMetricsProducer rejects at once when <prefix>metrics.v1 does not exist, naming the topic and the fix', async () => {
  const prefix = `test.missing.${randomUUID().slice(0, 8)}.`;
  const started = Date.now();
  const err = await createMetricsProducer({ brokers, topicPrefix: prefix, logger: log }).catch((e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(3_000);
  expect(err).toBeInstanceOf(MissingTopicError);
  expect((err as Error).message).toContain(`"${prefix}metrics.v1" does not exist`);
  expect((err as Error).message).toMatch(/start the ingest worker.*KAFKA_TOPIC_PREFIX/);
}, 20_000);

it('a producer sending to a missing topic fails its flush and its blocked callers at once', async () => {
  const env = isolatedEnv();
  const topic = `${env.KAFKA_TOPIC_PREFIX}metrics.v1`;
  const producer = await busFor(env).producer({ idempotent: true });
  const metrics = new MetricsProducer({ producer, topic, maxBufferedPoints: 4, maxPointsPerMessage: 2 });
  const started = Date.now();
  for (let step = 0; step < 4; step++) await metrics.logMetric({ run: 'r' }, 'loss', 1 / (step + 1), { step });
  // The buffer is full: this call waits for room, which a missing topic never makes.
  const blocked = await metrics.logMetric({ run: 'r' }, 'loss', 0.1, { step: 4 }).catch((e: unknown) => e);
  expect(blocked).toBeInstanceOf(MissingTopicError);
  await expect(metrics.flush()).rejects.toThrow(`"${topic}" does not exist`);
  expect(Date.now() - started).toBeLessThan(3_000);
  await producer.disconnect();
}, 20_000);
