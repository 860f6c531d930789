// A topic deleted and recreated under the same name starts again at offset 0, while the stored progress still says
// "everything up to offset N is stored": skipping by that progress would silently drop the new topic's messages.
// The worker must refuse — stop with the reason — instead of skipping them.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { createMetricsProducer } from '@runstream/sdk';
import { clickhouseFor, ensureTopics, isolatedEnv, log, spawnWorker, stopWorker, storedTotals, topicsFor, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ KAFKA_TOPIC_PARTITIONS: '1' });
const prefix = `recreated-${env.KAFKA_TOPIC_PREFIX!.split('.')[1]}-`;
const ch = clickhouseFor('query');
let worker: WorkerProcess | undefined;

async function logPoints(run: string, messages: number): Promise<void> {
  const sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, lingerMs: 0, producerId: 'recreated', logger: log });
  for (let m = 0; m < messages; m++) {
    await sdk.logPoints({ run }, [{ key: 'loss', value: m, step: m }]);
    await sdk.flush();
  }
  await sdk.close();
}

afterAll(async () => {
  if (worker) await stopWorker(worker);
  await ch.close();
});

it('stops with the reason instead of skipping the messages of a recreated topic', async () => {
  await ensureTopics(env);
  await logPoints(`${prefix}old`, 20);
  worker = spawnWorker(env);
  await waitFor('the first topic stored', async () => (await storedTotals(ch, `${prefix}old`)).count === 20, 60_000);
  await stopWorker(worker);

  const kafka = new Kafka({ brokers: env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = topicsFor(env).metrics;
    await admin.deleteTopics({ topics: [topic] });
    await waitFor('the topic to be gone', async () => !(await admin.listTopics()).includes(topic), 30_000);
    await waitFor('the topic to be created again', async () => {
      await ensureTopics(env);
      return (await admin.fetchTopicOffsets(topic)).length === 1;
    }, 30_000, 500);
  } finally {
    await admin.disconnect();
  }
  await logPoints(`${prefix}new`, 3);

  worker = spawnWorker(env);
  const code = await Promise.race([worker.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 60_000))]);
  expect(code).not.toBe('running');
  expect(code).not.toBe(0);
  expect(worker.output()).toMatch(/was deleted and recreated, or its offsets were reset/);
  // Nothing of the new topic was skipped as "already stored" and committed past: its messages are still there to be
  // ingested once the old progress is removed.
  expect(worker.output()).not.toMatch(/skipped messages already stored/);
  expect((await storedTotals(ch, `${prefix}new`)).count).toBe(0);
}, 180_000);
