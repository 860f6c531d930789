// A zombie: a worker frozen right after its own membership check passed, for longer than the session timeout. The
// group hands its partitions to another worker, which stores the batch; when the zombie wakes it must not store the
// same batch again. The local clock cannot see a pause that happened after it was read: the broker can.
import { afterAll, describe, expect, it } from 'vitest';
import { createMetricsProducer } from '@runstream/sdk';
import { clickhouseFor, ensureTopics, isolatedEnv, log, spawnWorker, stopWorker, storedTotals, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ INGEST_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'info' });
const prefix = `zombie-${env.KAFKA_TOPIC_PREFIX!.split('.')[1]}-`;
const ch = clickhouseFor('query');
const workers: WorkerProcess[] = [];

afterAll(async () => {
  for (const w of workers) await stopWorker(w, 'SIGKILL');
});

describe('a worker frozen between its membership check and its insert', () => {
  it('does not store a batch that its replacement stored meanwhile', async () => {
    await ensureTopics(env);
    const survivor = spawnWorker(env);
    workers.push(survivor);
    await waitFor('the first worker to own partitions', async () => /partitions assigned/.test(survivor.output()), 60_000);
    const zombie = spawnWorker({ ...env, RUNSTREAM_FAILPOINTS: 'pause-after-member-check:1', RUNSTREAM_FAILPOINT_PAUSE_MS: '15000' });
    workers.push(zombie);
    // Both members own some of the 4 partitions once the group has rebalanced.
    await waitFor('the second worker to own partitions', async () => /"partitions":\{"[^"]+":\[\d/.test(zombie.output()), 60_000);
    const sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, lingerMs: 5, producerId: 'zombie-test', logger: log });
    const RUNS = 16;
    for (let r = 0; r < RUNS; r++) await sdk.logPoints({ run: `${prefix}${r}` }, Array.from({ length: 100 }, (_, i) => ({ key: 'loss', value: i, step: i })));
    await sdk.close();
    await waitFor('the zombie to freeze', async () => /freezing process/.test(zombie.output()), 30_000);
    await waitFor('the zombie to wake up', async () => /resumes/.test(zombie.output()), 30_000);
    const want = RUNS * 100;
    await waitFor('every point stored', async () => (await storedTotals(ch, prefix)).distinct >= want, 60_000);
    // Give the zombie time to do whatever it would do after waking.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await storedTotals(ch, prefix)).toMatchObject({ count: want, distinct: want });
    expect(zombie.output()).toMatch(/no longer counts this worker as a member|no heartbeat for/);
  }, 180_000);
});
