// The ingest worker is SIGKILLed again and again while points stream in — at random moments and, through
// failpoints, exactly between a durable insert and its offset commit. Afterwards every point must be stored
// exactly once: same count, same sum, no duplicate (entity, key, step, timestamp).
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClickHouse } from '@runstream/clickhouse';
import { createMetricsProducer } from '@runstream/sdk';
import { clickhouseFor, ensureTopics, isolatedEnv, log, spawnWorker, stopWorker, storedTotals, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';

const RUNS = 8;
const ROUNDS = 6;
const STEPS = 25_000; // points per run → 200,000 points
const prefix = `crash-${randomUUID().slice(0, 8)}-`;
// A killed worker holds its partitions for the session timeout: the minimum keeps the rounds short.
const env = isolatedEnv({ INGEST_BATCH_MAX_ROWS: '20000', INGEST_BATCH_LINGER_MS: '50', INGEST_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'info' });

let ch: ClickHouse;
beforeAll(async () => {
  ch = clickhouseFor('admin');
  await ensureTopics(env);
});
afterAll(async () => ch?.close());

it('loses nothing and counts nothing twice across repeated SIGKILLs of the worker', async () => {
  const sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, maxPointsPerMessage: 500, logger: log });
  const t0 = Date.now();
  let expectedSum = 0;
  const produce = (async () => {
    for (let step = 0; step < STEPS; step += 250) {
      for (let r = 0; r < RUNS; r++) {
        const points = [];
        for (let s = step; s < step + 250; s++) {
          const value = (r + 1) * 1000 + (s % 97);
          expectedSum += value;
          points.push({ key: 'loss', value, step: s, timestampMs: t0 + s });
        }
        await sdk.logPoints({ run: `${prefix}${r}` }, points);
      }
      // Paced so points keep arriving through every kill round (~40 s of traffic).
      await new Promise((res) => setTimeout(res, 400));
    }
    await sdk.flush();
  })();

  const outputs: string[] = [];
  let kills = 0;
  // Rounds alternate: random SIGKILL from outside, and the after-insert failpoint killing from inside.
  for (let round = 0; round < ROUNDS; round++) {
    const failpointRound = round % 2 === 1;
    const w: WorkerProcess = spawnWorker({ ...env, ...(failpointRound ? { RUNSTREAM_FAILPOINTS: 'after-insert:0.5' } : {}) });
    if (failpointRound) {
      // The worker kills itself between an insert and its commit; give it time to get there.
      await Promise.race([w.exited, new Promise((r) => setTimeout(r, 20_000))]);
    } else {
      // Kill once the worker has started writing, at a random moment.
      await Promise.race([waitFor('first insert', async () => /first batch stored/.test(w.output()), 20_000, 50).catch(() => undefined), w.exited]);
      await Promise.race([new Promise((r) => setTimeout(r, Math.random() * 800)), w.exited]);
    }
    await stopWorker(w, 'SIGKILL');
    outputs.push(w.output());
    kills++;
  }
  await produce;
  await sdk.close();

  const final = spawnWorker(env);
  const expectedCount = RUNS * STEPS;
  try {
    await waitFor('all points stored', async () => (await storedTotals(ch, prefix)).count >= expectedCount, 120_000, 500);
    // Give a late duplicate the chance to show up before judging.
    await new Promise((r) => setTimeout(r, 1500));
    const totals = await storedTotals(ch, prefix);
    expect(totals.count).toBe(expectedCount);
    expect(totals.distinct).toBe(expectedCount);
    expect(totals.sum).toBe(expectedSum);
  } finally {
    await stopWorker(final);
    outputs.push(final.output());
  }
  const all = outputs.join('\n');
  mkdirSync('test-artifacts', { recursive: true });
  writeFileSync('test-artifacts/crash-recovery-workers.log', all);
  // The scenario really happened: processes died between insert and commit, and replays were skipped.
  expect(kills).toBe(ROUNDS);
  expect(all).toMatch(/failpoint after-insert: killing process/);
  expect(all).toMatch(/resuming partition after stored offset/);
  expect(all).toMatch(/skipped messages already stored/);
}, 300_000);
