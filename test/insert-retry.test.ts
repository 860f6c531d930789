// A retry while the first attempt still runs on the server: the worker's request to ClickHouse times out, ClickHouse
// finishes the insert anyway, and the retry must not store the batch a second time — neither the raw points nor
// any view fed by the same insert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '@runstream/clickhouse';
import { createMetricsProducer } from '@runstream/sdk';
import { clickhouseFor, ensureTopics, isolatedEnv, log, spawnWorker, stopWorker, storedTotals, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';

// Every request of the worker to ClickHouse gives up after 150 ms; a batch of this size takes longer than that to
// insert with its views, so the first attempt of every large batch times out on the client while the server goes on.
const env = isolatedEnv({ CLICKHOUSE_REQUEST_TIMEOUT_MS: '150', INGEST_BATCH_MAX_ROWS: '1000000', INGEST_BATCH_LINGER_MS: '300' });
const prefix = `retry-${env.KAFKA_TOPIC_PREFIX!.split('.')[1]}-`;
const RUNS = 20;
const STEPS = 15_000;
const ch = clickhouseFor('query');
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  await ensureTopics(env);
  const sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, lingerMs: 20, producerId: 'retry-test', logger: log });
  for (let r = 0; r < RUNS; r++) {
    for (let from = 0; from < STEPS; from += 5_000) {
      await sdk.logPoints({ run: `${prefix}${r}` }, Array.from({ length: 5_000 }, (_, i) => ({ key: 'loss', value: (from + i) / STEPS, step: from + i })));
    }
  }
  await sdk.close();
}, 180_000);

afterAll(async () => {
  if (worker) await stopWorker(worker);
});

describe('an insert that outlives its request', () => {
  it('is stored once although the client timed out and retried while the server was still inserting', async () => {
    worker = spawnWorker(env);
    const want = RUNS * STEPS;
    await waitFor('every point stored', async () => (await storedTotals(ch, prefix)).distinct >= want, 120_000, 500);
    // Let any insert still running on the server finish before counting.
    await new Promise((r) => setTimeout(r, 3_000));
    const totals = await storedTotals(ch, prefix);
    expect(worker.output()).toMatch(/insert failed, retrying/);
    expect(totals).toMatchObject({ count: want, distinct: want });
    // The summaries, fed by the same insert, count every point once too.
    const [summary] = await queryRows<{ n: string }>(ch, sql`SELECT sum(n) AS n FROM (SELECT sumMerge(points) AS n FROM metric_summary_v2 WHERE startsWith(entity_id, ${prefix}) GROUP BY entity_id, key)`);
    expect(Number(summary!.n)).toBe(want);
  }, 240_000);
});
