// Writes in flight at the same moment, through two query-service instances that share nothing but Kafka and
// ClickHouse (and through one). Each instance checks a param against its own copy of the run's state, so two values
// for one key sent through two instances at once can both be accepted; both events then sit in the run's partition
// and the resolution is Kafka's order: a param is the FIRST value in that order (params are immutable; the other
// stays in the audit trail, tracking_events_v1), a tag the LAST. Every reader — runs/get through either instance,
// run search — must agree on it, before and after ClickHouse merges the parts (OPTIMIZE … FINAL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, ident, queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import { clickhouseFor, ensureTopics, isolatedEnv, log, spawnWorker, startQueryInstance, stopWorker, type QueryInstance, type WorkerProcess } from './support/pipeline-fixture.ts';

/** The storage behind params and tags (migration 0013: params first-wins by Kafka order; tags last-wins). */
const PARAMS_TABLE = 'run_params_v2';
const TAGS_TABLE = 'run_tags_v1';
const ROUNDS = 20;

const env = isolatedEnv();
let worker: WorkerProcess;
let instances: QueryInstance[] = [];
let a: string;
let b: string;
let ch: ClickHouse;
let admin: ClickHouse;
let experimentId: string;

beforeAll(async () => {
  await ensureTopics(env);
  worker = spawnWorker(env);
  instances = await Promise.all([startQueryInstance(env, 30_000), startQueryInstance(env, 30_000)]);
  [a, b] = instances.map((i) => i.base) as [string, string];
  ch = clickhouseFor('query');
  admin = clickhouseFor('admin');
  const created = await call(a, 'experiments/create', { name: `write-races-${env.KAFKA_TOPIC_PREFIX}` });
  expect(created.status).toBe(200);
  experimentId = created.body.experiment_id;
}, 120_000);

afterAll(async () => {
  if (worker) await stopWorker(worker);
  for (const i of instances) await i.close();
  await ch?.close();
  await admin?.close();
});

interface Answer {
  status: number;
  body: any;
}

async function call(base: string, path: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function newRun(): Promise<string> {
  const res = await call(a, 'runs/create', { experiment_id: experimentId, start_time: Date.now() });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.run.info.run_id;
}

/** The run as runs/get through `base` shows it (a fenced read: every acknowledged write is in). */
async function runData(base: string, runId: string): Promise<{ params: Record<string, string>; tags: Record<string, string> }> {
  const res = await fetch(`${base}/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}`);
  const body = (await res.json()) as any;
  expect(res.status, JSON.stringify(body)).toBe(200);
  const map = (list: { key: string; value: string }[] | undefined) => Object.fromEntries((list ?? []).map((e) => [e.key, e.value]));
  return { params: map(body.run.data.params), tags: map(body.run.data.tags) };
}

/** The run's events of one kind and key in Kafka order (the run's partition), from the audit trail. */
async function eventsInKafkaOrder(runId: string, eventType: 'PARAM_LOGGED' | 'RUN_TAG_SET', key: string): Promise<string[]> {
  const rows = await queryRows<{ value: string }>(
    ch,
    sql`SELECT value FROM tracking_events_v1 WHERE run_id = ${runId} AND event_type = ${eventType} AND key = ${key} ORDER BY src_partition, src_offset`,
  );
  return rows.map((r) => r.value);
}

/** Run ids of the experiment that a runs/search filter matches, among `runIds`. */
async function searchMatches(base: string, filter: string): Promise<string[]> {
  const res = await call(base, 'runs/search', { experiment_ids: [experimentId], filter, max_results: 1000 });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return ((res.body.runs ?? []) as any[]).map((r) => r.info.run_id as string);
}

async function optimizeFinal(table: string): Promise<void> {
  await command(admin, sql`OPTIMIZE TABLE ${ident(table)} FINAL`);
}

/** Makes the run's state current in both instances' caches, so the next writes through them are checked at once. */
async function warmBoth(runId: string): Promise<void> {
  // A appends (its cache follows its own write); B then reads the state at that watermark and appends nothing (the
  // same value again is accepted without a new event), so neither sees the partition moved when the race starts.
  expect((await call(a, 'runs/log-parameter', { run_id: runId, key: 'warm', value: '1' })).status).toBe(200);
  expect((await call(b, 'runs/log-parameter', { run_id: runId, key: 'warm', value: '1' })).status).toBe(200);
}

const expectRefusedParam = (r: Answer) => {
  expect(r.status, JSON.stringify(r.body)).toBe(400);
  expect(r.body.error_code).toBe('INVALID_PARAMETER_VALUE');
};

describe('racing writes resolve by Kafka order, the same for every reader', () => {
  it(`log-parameter with two values through two instances at once: the first in Kafka order is kept, also after a merge (${ROUNDS} runs)`, async () => {
    const outcomes: string[] = [];
    const finished: { runId: string; kept: string; lost?: string }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runId = await newRun();
      await warmBoth(runId);
      const [viaA, viaB] = await Promise.all([
        call(a, 'runs/log-parameter', { run_id: runId, key: 'k', value: 'v1' }),
        call(b, 'runs/log-parameter', { run_id: runId, key: 'k', value: 'v2' }),
      ]);
      const accepted = [viaA, viaB].filter((r) => r.status === 200);
      expect(accepted.length, `round ${round}: ${JSON.stringify([viaA, viaB])}`).toBeGreaterThanOrEqual(1);
      for (const r of [viaA, viaB]) if (r.status !== 200) expectRefusedParam(r);
      outcomes.push(accepted.length === 2 ? 'both' : viaA.status === 200 ? 'A' : 'B');

      const [fromA, fromB] = await Promise.all([runData(a, runId), runData(b, runId)]);
      expect(fromA.params.k, `round ${round}`).toBeDefined();
      expect(fromB.params.k, `round ${round}: A and B agree`).toBe(fromA.params.k);
      const order = await eventsInKafkaOrder(runId, 'PARAM_LOGGED', 'k');
      expect(order.length, `round ${round}: one event per accepted write`).toBe(accepted.length);
      // Accepted once: that value. Accepted twice: the first in Kafka order.
      expect(fromA.params.k, `round ${round}: Kafka order ${JSON.stringify(order)}`).toBe(order[0]);
      finished.push({ runId, kept: order[0]!, lost: order[1] });
    }
    log.warn({ outcomes }, 'cross-instance param races: who was accepted');
    // The race must really have happened (both checks passed before either event was appended) at least once.
    expect(outcomes.filter((o) => o === 'both').length, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(1);

    const check = async (when: string) => {
      for (const { runId, kept, lost } of finished) {
        const [fromA, fromB] = await Promise.all([runData(a, runId), runData(b, runId)]);
        // Soft: report every run that disagrees, before and after the merge.
        expect.soft([fromA.params.k, fromB.params.k], `${when}: run ${runId}`).toEqual([kept, kept]);
        // Search matches the kept value only, never the value that lost.
        const idFilter = `attributes.run_id = '${runId}'`;
        expect.soft(await searchMatches(a, `params.k = '${kept}' AND ${idFilter}`), `${when}: search for the kept value, run ${runId}`).toEqual([runId]);
        if (lost !== undefined) expect.soft(await searchMatches(b, `params.k = '${lost}' AND ${idFilter}`), `${when}: search for the lost value, run ${runId}`).toEqual([]);
      }
    };
    await check('before the merge');
    await optimizeFinal(PARAMS_TABLE);
    await check(`after OPTIMIZE TABLE ${PARAMS_TABLE} FINAL`);
  }, 300_000);

  it(`log-parameter with two values through one instance at once: exactly one is accepted (${ROUNDS} runs)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const runId = await newRun();
      const answers = await Promise.all([
        call(a, 'runs/log-parameter', { run_id: runId, key: 'k', value: 'v1' }),
        call(a, 'runs/log-parameter', { run_id: runId, key: 'k', value: 'v2' }),
      ]);
      const accepted = answers.filter((r) => r.status === 200);
      expect(accepted.length, `round ${round}: ${JSON.stringify(answers)}`).toBe(1);
      expectRefusedParam(answers.find((r) => r.status !== 200)!);
      const kept = answers[0]!.status === 200 ? 'v1' : 'v2';
      expect((await runData(b, runId)).params.k).toBe(kept);
      expect(await eventsInKafkaOrder(runId, 'PARAM_LOGGED', 'k')).toEqual([kept]);
    }
  }, 300_000);

  it(`set-tag with two values through two instances at once: the last in Kafka order is kept, also after a merge (${ROUNDS} runs)`, async () => {
    const finished: { runId: string; kept: string }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const runId = await newRun();
      await warmBoth(runId);
      const answers = await Promise.all([
        call(a, 'runs/set-tag', { run_id: runId, key: 't', value: 'v1' }),
        call(b, 'runs/set-tag', { run_id: runId, key: 't', value: 'v2' }),
      ]);
      for (const r of answers) expect(r.status, `round ${round}: ${JSON.stringify(r.body)}`).toBe(200);
      const order = await (async () => {
        // runs/get first: it waits until both events are stored.
        await runData(a, runId);
        return eventsInKafkaOrder(runId, 'RUN_TAG_SET', 't');
      })();
      expect([...order].sort(), `round ${round}`).toEqual(['v1', 'v2']);
      const [fromA, fromB] = await Promise.all([runData(a, runId), runData(b, runId)]);
      expect([fromA.tags.t, fromB.tags.t], `round ${round}: Kafka order ${JSON.stringify(order)}`).toEqual([order[1], order[1]]);
      finished.push({ runId, kept: order[1]! });
    }
    await optimizeFinal(TAGS_TABLE);
    for (const { runId, kept } of finished) {
      const [fromA, fromB] = await Promise.all([runData(a, runId), runData(b, runId)]);
      expect([fromA.tags.t, fromB.tags.t], `after OPTIMIZE FINAL: run ${runId}`).toEqual([kept, kept]);
      expect(await searchMatches(a, `tags.t = '${kept}' AND attributes.run_id = '${runId}'`)).toEqual([runId]);
    }
  }, 300_000);

  it('model versions created through two instances at once get distinct numbers, each pointing at its own source (10 models)', async () => {
    for (let round = 0; round < 10; round++) {
      const name = `race-model-${env.KAFKA_TOPIC_PREFIX}${round}`;
      expect((await call(a, 'registered-models/create', { name })).status).toBe(200);
      const sources = Array.from({ length: 6 }, (_, i) => `s3://bucket/${round}/${i}`);
      const answers = await Promise.all(sources.map((source, i) => call(i % 2 === 0 ? a : b, 'model-versions/create', { name, source })));
      for (const r of answers) expect(r.status, JSON.stringify(r.body)).toBe(200);
      const numbers = answers.map((r) => r.body.model_version.version as string);
      expect(new Set(numbers).size, `round ${round}: ${numbers.join(',')}`).toBe(6);
      expect(numbers.map(Number).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
      // Every reader sees each number pointing at the source of the call that was told that number.
      for (const base of [a, b]) {
        for (let i = 0; i < 6; i++) {
          const res = await fetch(`${base}/api/2.0/mlflow/model-versions/get?name=${encodeURIComponent(name)}&version=${numbers[i]}`);
          expect(((await res.json()) as any).model_version.source).toBe(sources[i]);
        }
      }
    }
  }, 180_000);
});
