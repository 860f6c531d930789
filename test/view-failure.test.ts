// A view that fails after others of the same insert have committed. ClickHouse writes an insert's views one after
// another, each its own part: when one fails (here a real TOO_MANY_PARTS from a table that refuses its second part),
// the tables before it hold the batch and the ones after it do not. The retry — in the same worker, or in the next
// one after a crash — must complete every table without writing any of them twice: exact counts in the raw points,
// the summaries, every rollup level on both axes, and the progress.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, ident, queryRows, readIngestProgress, sql, type ClickHouse } from '@runstream/clickhouse';
import { createMetricsProducer, type MetricsProducer } from '@runstream/sdk';
import { clickhouseFor, ensureTopics, isolatedEnv, log, spawnWorker, stopWorker, topicsFor, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '50', INGEST_FLUSH_STALL_BUDGET_MS: '120000' });
const id = env.KAFKA_TOPIC_PREFIX!.split('.')[1]!;
const topic = topicsFor(env).metrics;
const admin = clickhouseFor('admin');
const ch: ClickHouse = clickhouseFor('query');
const STEPS = 3000;
const KEYS = ['loss', 'acc'];
let sdk: MetricsProducer;
let worker: WorkerProcess | undefined;

/** A view named to run right after `position` (18.16 runs views in name order) that fails for this test's topic. */
async function injectFault(position: string): Promise<() => Promise<void>> {
  const sink = `fault_sink_${id}`;
  const view = `metric_entry_${position}_fault_${id}`;
  await command(admin, sql`DROP TABLE IF EXISTS ${ident(view)}`);
  await command(admin, sql`DROP TABLE IF EXISTS ${ident(sink)}`);
  // A table that already has one part and refuses a second: every insert into it fails with TOO_MANY_PARTS (252),
  // an error the worker treats as transient.
  await command(admin, sql`CREATE TABLE ${ident(sink)} (x UInt8) ENGINE = MergeTree ORDER BY x SETTINGS parts_to_throw_insert = 1, parts_to_delay_insert = 1`);
  await command(admin, sql`INSERT INTO ${ident(sink)} VALUES (0)`);
  await command(admin, sql`CREATE MATERIALIZED VIEW ${ident(view)} TO ${ident(sink)} AS SELECT toUInt8(1) AS x FROM metric_entry_v1 WHERE src_topic = ${topic}`);
  return async () => {
    await command(admin, sql`DROP TABLE IF EXISTS ${ident(view)}`);
    await command(admin, sql`DROP TABLE IF EXISTS ${ident(sink)}`);
  };
}

const value = (run: number, key: number, step: number) => Math.sin(run * 7 + key * 3 + step * 0.01) + (step % 97 === 0 ? Number.NaN : 0);

async function logRun(run: string, r: number): Promise<number> {
  let messages = 0;
  for (let from = 0; from < STEPS; from += 500) {
    await sdk.logPoints(
      { run },
      Array.from({ length: 500 }, (_, i) => KEYS.map((key, k) => ({ key, value: value(r, k, from + i), step: from + i, timestampMs: 1_767_225_600_000 + (from + i) * 250 }))).flat(),
    );
    messages++;
  }
  await sdk.flush();
  return messages;
}

/** Every table's count for one run, exactly. */
async function counts(run: string) {
  const [raw] = await queryRows<{ n: string; d: string }>(
    ch,
    sql`SELECT count() AS n, uniqExact(src_partition, src_offset, point_index) AS d FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id = ${run}`,
  );
  const summary = await queryRows<{ key: string; n: string; nans: string }>(
    ch,
    sql`SELECT key, sumMerge(points) AS n, sumMerge(nan_points) AS nans FROM metric_summary_v2 WHERE entity_kind = 'run' AND entity_id = ${run} GROUP BY key ORDER BY key`,
  );
  const rollups = await queryRows<{ axis: string; granularity: string; n: string }>(
    ch,
    sql`SELECT axis, granularity, sumMerge(points) AS n FROM metric_rollup_v3
        WHERE entity_kind = 'run' AND entity_id = ${run} AND granularity > 0 GROUP BY axis, granularity ORDER BY axis, granularity`,
  );
  return { raw: Number(raw!.n), distinct: Number(raw!.d), summary: summary.map((s) => [s.key, Number(s.n), Number(s.nans)]), rollups: rollups.map((r) => [r.axis, Number(r.granularity), Number(r.n)]) };
}

function expected() {
  const nans = Array.from({ length: STEPS }, (_, s) => s).filter((s) => s % 97 === 0).length;
  const perRun = STEPS * KEYS.length;
  return {
    raw: perRun,
    distinct: perRun,
    summary: [...KEYS].sort().map((k) => [k, STEPS, nans]),
    rollups: [
      ...[64, 1024, 16384].map((g) => ['step', g, perRun]),
      ...[4000, 64000, 1024000].map((g) => ['time', g, perRun]),
    ],
  };
}

async function progressOf(): Promise<number> {
  const p = await readIngestProgress(ch, topic);
  return Math.max(-1, ...p.values());
}

beforeAll(async () => {
  await ensureTopics(env);
  sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, lingerMs: 5, producerId: 'view-failure', logger: log });
}, 60_000);

afterAll(async () => {
  if (worker) await stopWorker(worker);
  await sdk?.close();
  await admin.close();
  await ch.close();
});

describe('a view failing after the tables before it committed the batch', () => {
  // Positions between the views of metric_entry_v1 (migration 0014): after the points, the summaries, the step
  // rollups, the time rollups (then only progress is missing).
  const positions = ['1a', '2a', '3a', '4a'];

  it.each(positions.map((p, i) => [p, i]))('is completed by the same worker without a duplicate (fault after view %s)', async (position, i) => {
    worker ??= spawnWorker(env);
    const clear = await injectFault(position as string);
    const run = `vf-${id}-${i}`;
    const before = worker.output().length;
    try {
      await logRun(run, i as number);
      await waitFor('the failing insert to be retried', async () => /insert failed, retrying/.test(worker!.output().slice(before)), 60_000, 100).catch((e) => { console.log('WORKER', worker!.output().slice(-4000)); throw e; });
    } finally {
      await clear();
    }
    await waitFor('every table to hold the run', async () => JSON.stringify(await counts(run)) === JSON.stringify(expected()), 60_000, 250);
    // Later inserts of the same partitions must not bring anything twice either.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await counts(run)).toEqual(expected());
    expect(worker.output().slice(before)).toMatch(/some tables already hold part of the batch/);
  }, 120_000);

  it('is completed by the next worker after a crash, without a duplicate', async () => {
    worker ??= spawnWorker(env);
    const clear = await injectFault('3a');
    const run = `vf-${id}-crash`;
    const before = worker.output().length;
    try {
      await logRun(run, 9);
      await waitFor('the failing insert', async () => /insert failed, retrying/.test(worker!.output().slice(before)), 60_000, 100);
      // The raw points, the summaries and the step rollups hold the batch, the time rollups and the progress do not;
      // the worker dies.
      await stopWorker(worker, 'SIGKILL');
      const partial = await counts(run);
      expect(partial.raw).toBeGreaterThan(0);
      expect(partial.summary.length).toBeGreaterThan(0);
      expect(partial.rollups.map((r) => r[0])).toEqual(['step', 'step', 'step']);
    } finally {
      await clear();
    }
    worker = spawnWorker(env);
    await waitFor('every table to hold the run', async () => JSON.stringify(await counts(run)) === JSON.stringify(expected()), 60_000, 250);
    expect(await counts(run)).toEqual(expected());
    expect(await progressOf()).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
