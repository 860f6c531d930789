// Permanent deletion (mlflow gc's semantics) through the real query service process: a deleted run holding 5M
// points and a deleted experiment lose every row — points, summaries, rollups, tracking state and events — and
// their artifacts, while the service's resident memory stays under a stated bound; runs not deleted are untouched,
// their summaries, rollups and series identical. Runs and experiments are created and deleted through the MLflow
// API on the real pipeline; the 5M points are generated inside ClickHouse (the test is about deleting them).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import { command, connectClickHouse, ident, queryRows, sql, sqlArray, type ClickHouse } from '@runstream/clickhouse';
import { REPO_ROOT } from '../scripts/local-stack.ts';
import { isolatedEnv, startPipelineService, waitFor, type PipelineService } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '20' });
const ADMIN = 'ops-token-0123456789abcdef';
const READ = 'analyst-token-0123456789';
const BIG = 5_000_000;
/** The bound this test holds the query service to while it deletes 5M points: peak resident set size. */
const RSS_BOUND_MIB = 256;
/** And how much the resident set may grow during the job over what it was just before. */
const RSS_GROWTH_BOUND_MIB = 64;

const artifactRoot = mkdtempSync(join(tmpdir(), 'runstream-gc-'));
// Generating and aggregating 5M points on a busy 2-core machine can take longer than the default request timeout.
const admin: ClickHouse = connectClickHouse({ ...toClickHouseSettings(loadEnv(clickhouseEnv)), requestTimeoutMs: 600_000 }, 'admin');
let pipeline: PipelineService;
let service: { child: ChildProcess; base: string; output: () => string };

async function mlflow(path: string, body?: unknown) {
  const res = await fetch(`${pipeline.base}/api/2.0/mlflow/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function gc(method: 'GET' | 'POST', path: string, body?: unknown, token: string | null = ADMIN) {
  const res = await fetch(`${service.base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** The query service as its own process (services/query-service/src/main.ts), so its memory is its own. */
async function startServiceProcess() {
  const child = spawn(process.execPath, [`${REPO_ROOT}/services/query-service/src/main.ts`], {
    env: { ...env, PORT: '0', LOG_LEVEL: 'info', RUNSTREAM_API_TOKENS: `ops:${ADMIN}:read+admin,analyst:${READ}:read`, RUNSTREAM_ARTIFACT_DIR: artifactRoot },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = await waitFor('the query service to listen', async () => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], 60_000);
  return { child, base, output: () => out };
}

function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Everything stored about some runs, per table. */
async function rowsOf(runIds: string[]) {
  const [r] = await queryRows<Record<string, string>>(
    admin,
    sql`SELECT
          (SELECT count() FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id IN ${runIds}) AS points,
          (SELECT count() FROM metric_summary_v2 WHERE entity_kind = 'run' AND entity_id IN ${runIds}) AS summary,
          (SELECT count() FROM metric_rollup_v3 WHERE entity_kind = 'run' AND entity_id IN ${runIds}) AS rollups,
          (SELECT count() FROM runs_v1 WHERE run_id IN ${runIds}) AS runs,
          (SELECT count() FROM run_params_v2 WHERE run_id IN ${runIds}) AS params,
          (SELECT count() FROM run_tags_v1 WHERE run_id IN ${runIds}) AS tags,
          (SELECT count() FROM tracking_events_v1 WHERE run_id IN ${runIds}) AS events`,
  );
  return r!;
}

/** What readers see of a run: its summaries and every rollup level, merged. */
async function tally(runId: string) {
  const summary = await queryRows(
    admin,
    sql`SELECT key, sumMerge(points) AS n, minIfMerge(min_value) AS mn, maxIfMerge(max_value) AS mx, argMaxMerge(last_value) AS last
        FROM metric_summary_v2 WHERE entity_kind = 'run' AND entity_id = ${runId} GROUP BY key ORDER BY key`,
  );
  const rollups = await queryRows(
    admin,
    sql`SELECT axis, granularity, key, bucket, sumMerge(points) AS n, sumMerge(sum_value) AS s FROM metric_rollup_v3
        WHERE entity_kind = 'run' AND entity_id = ${runId} GROUP BY axis, granularity, key, bucket ORDER BY axis, granularity, key, bucket`,
  );
  return { summary, rollups };
}

beforeAll(async () => {
  pipeline = await startPipelineService(env, { artifactRoot });
  service = await startServiceProcess();
}, 180_000);

afterAll(async () => {
  service?.child.kill('SIGTERM');
  await pipeline?.close();
  await admin.close();
  rmSync(artifactRoot, { recursive: true, force: true });
});

it('permanently deletes a deleted run of 5M points and a deleted experiment in bounded memory, leaving other runs as they were', async () => {
  const id = env.KAFKA_TOPIC_PREFIX!.split('.')[1]!;
  const keepExp = (await mlflow('experiments/create', { name: `gc-keep-${id}` })).body.experiment_id;
  const dropExp = (await mlflow('experiments/create', { name: `gc-drop-${id}` })).body.experiment_id;
  const newRun = async (experiment_id: string, name: string) => (await mlflow('runs/create', { experiment_id, run_name: name, start_time: Date.now() })).body.run.info;
  const [big, kept, inDropped] = [await newRun(keepExp, 'big'), await newRun(keepExp, 'kept'), await newRun(dropExp, 'in-dropped')];
  const t0 = Date.now();
  for (const run of [big, kept, inDropped]) {
    const metrics = Array.from({ length: 900 }, (_, i) => ({ key: i % 3 ? 'loss' : 'acc', value: Math.cos(i) + run.run_name.length, timestamp: t0 + i * 1000, step: i }));
    expect((await mlflow('runs/log-batch', { run_id: run.run_id, metrics, params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 'team', value: 'a' }] })).status).toBe(200);
  }
  // An artifact of the run to delete and of the run to keep.
  for (const run of [big, kept]) {
    const path = `${run.artifact_uri.slice('mlflow-artifacts:/'.length)}/model.txt`;
    const res = await fetch(`${pipeline.base}/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: 'PUT', body: `weights of ${run.run_name}` });
    expect(res.status).toBe(200);
  }
  const bigDir = join(artifactRoot, big.artifact_uri.slice('mlflow-artifacts:/'.length));
  const keptDir = join(artifactRoot, kept.artifact_uri.slice('mlflow-artifacts:/'.length));
  expect(existsSync(join(bigDir, 'model.txt'))).toBe(true);

  // 5M more points for the big run, with their summary and rollups, as the views would have built them.
  await command(
    admin,
    sql`INSERT INTO metric_points_v2 (entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index)
        SELECT 'run', ${big.run_id}, 'big', sin(number), number, ${t0} + number * 10, 'bulk', now(), 'bulk', 0, intDiv(number, 1000), number % 1000 FROM numbers(${BIG})`,
  );
  await command(
    admin,
    sql`INSERT INTO metric_summary_v2
        SELECT entity_kind, entity_id, key, sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))),
               minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
               minState(step), maxState(step), argMaxState(value, tuple(step, timestamp_ms)), minState(timestamp_ms), maxState(timestamp_ms)
        FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id = ${big.run_id} AND key = 'big' GROUP BY entity_kind, entity_id, key`,
  );
  for (const [axis, levels, x] of [['step', [64, 1024, 16384], 'step'], ['time', [4000, 64000, 1024000], 'timestamp_ms']] as const) {
    const xs = ident(x);
    await command(
      admin,
      sql`INSERT INTO metric_rollup_v3
          SELECT CAST(${axis} AS Enum8('step' = 1, 'time' = 2)), granularity, entity_kind, key, entity_id,
                 intDiv(${xs}, granularity) - (modulo(${xs}, granularity) < 0) AS bucket,
                 sumState(toUInt64(1)), sumState(toUInt64(isNaN(value))), minIfState(value, toUInt8(NOT isNaN(value))), maxIfState(value, toUInt8(NOT isNaN(value))),
                 sumState(if(isNaN(value), 0., value)), argMaxState(value, tuple(step, timestamp_ms)), minState(${xs}), maxState(${xs}), toStartOfMonth(today())
          FROM metric_points_v2 ARRAY JOIN CAST(${sqlArray(levels)} AS Array(Int64)) AS granularity
          WHERE entity_kind = 'run' AND entity_id = ${big.run_id} AND key = 'big'
          GROUP BY entity_kind, entity_id, key, granularity, bucket`,
    );
  }
  // The logged batches are stored (through Kafka and the worker) before anything is deleted.
  await waitFor('the logged points', async () => {
    const [r] = await queryRows<{ n: string }>(admin, sql`SELECT sumMerge(points) AS n FROM metric_summary_v2 WHERE entity_kind = 'run' AND entity_id IN ${[big.run_id, kept.run_id, inDropped.run_id]}`);
    return Number(r!.n) === BIG + 2700;
  });
  expect(Number((await rowsOf([big.run_id])).points)).toBe(BIG + 900);

  expect((await mlflow('runs/delete', { run_id: big.run_id })).status).toBe(200);
  expect((await mlflow('experiments/delete', { experiment_id: dropExp })).status).toBe(200);
  const keptBefore = { rows: await rowsOf([kept.run_id]), tally: await tally(kept.run_id) };
  const seriesOfKept = async () =>
    (await fetch(`${pipeline.base}/api/v1/series`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runs: [kept.run_id], keys: ['loss', 'acc'], buckets: 50 }) })).json();
  const keptSeries = await seriesOfKept();

  // Tokens: none → 401, read scope → 403. Refused as mlflow gc refuses, with nothing deleted: an active run, a
  // deletion younger than asked, an age it cannot parse.
  expect((await gc('POST', '/api/v1/gc', {}, null)).status).toBe(401);
  expect((await gc('POST', '/api/v1/gc', {}, READ)).status).toBe(403);
  const active = await gc('POST', '/api/v1/gc', { run_ids: [kept.run_id] });
  expect([active.status, active.body.error.message]).toEqual([400, expect.stringMatching(/not in `deleted` lifecycle stage/)]);
  const young = await gc('POST', '/api/v1/gc', { run_ids: [big.run_id], older_than: '1d' });
  expect([young.status, young.body.error.message]).toEqual([400, expect.stringMatching(/not older than the required age/)]);
  expect((await gc('POST', '/api/v1/gc', { older_than: 'soon' })).status).toBe(400);
  // Every deleted entity, but only those deleted over a day ago: not this test's (the database is shared with other
  // tests, which may have left older deletions, so only our own rows are checked).
  const none = await gc('POST', '/api/v1/gc', { older_than: '1d' });
  expect(none.status).toBe(202);
  await waitFor('the empty job', async () => (await gc('GET', `/api/v1/gc/${none.body.job_id}`)).body.state === 'done', 30_000);
  expect(Number((await rowsOf([big.run_id])).points)).toBe(BIG + 900);

  // The real job, with the service's memory sampled throughout.
  const pid = service.child.pid!;
  const before = memoryMiB(pid);
  // Named ids: the test database is shared with other tests, whose deleted runs are not this test's to remove.
  const job = await gc('POST', '/api/v1/gc', { run_ids: [big.run_id], experiment_ids: [dropExp] });
  expect(job.status).toBe(202);
  expect(job.body).toMatchObject({ state: 'deleting', runs: 2, experiments: 1, points: BIG + 1800, actor: 'ops' });
  // One job at a time.
  expect((await gc('POST', '/api/v1/gc', {})).status).toBe(409);
  let maxRss = before.rss;
  const states = new Set<string>();
  const end = await waitFor(
    'the gc job to finish',
    async () => {
      maxRss = Math.max(maxRss, memoryMiB(pid).rss);
      const s = (await gc('GET', `/api/v1/gc/${job.body.job_id}`)).body;
      states.add(s.state);
      return s.state === 'done' || s.state === 'failed' ? s : undefined;
    },
    300_000,
    100,
  );
  const after = memoryMiB(pid);
  console.log(
    `gc of ${BIG + 1800} points: ${end.tables.length} tables in ${Date.parse(end.finished_at) - Date.parse(end.started_at)} ms; service RSS before ${before.rss.toFixed(0)} MiB, max sampled ${maxRss.toFixed(0)} MiB, ` +
      `peak (VmHWM) ${after.peak.toFixed(0)} MiB; states seen ${[...states].join(' → ')}`,
  );
  expect(end.state).toBe('done');
  expect(end.tables.map((t: { table: string }) => t.table)).toContain('metric_points_v2');
  expect(end.tables.every((t: { done: boolean; parts_to_do: number }) => t.done && t.parts_to_do === 0)).toBe(true);
  expect(end.artifacts_removed).toBeGreaterThanOrEqual(1);
  expect(after.peak).toBeLessThan(RSS_BOUND_MIB);
  expect(maxRss - before.rss).toBeLessThan(RSS_GROWTH_BOUND_MIB);

  // Gone: every row of the deleted run and of the deleted experiment's run, the experiment, the artifacts.
  expect(await rowsOf([big.run_id, inDropped.run_id])).toEqual({ points: '0', summary: '0', rollups: '0', runs: '0', params: '0', tags: '0', events: '0' });
  const [exp] = await queryRows<{ e: string; ev: string }>(
    admin,
    sql`SELECT (SELECT count() FROM experiments_v1 WHERE experiment_id = ${dropExp}) AS e, (SELECT count() FROM tracking_events_v1 WHERE experiment_id = ${dropExp}) AS ev`,
  );
  expect(exp).toEqual({ e: '0', ev: '0' });
  expect(existsSync(bigDir)).toBe(false);
  expect(existsSync(join(keptDir, 'model.txt'))).toBe(true);
  expect((await mlflow(`experiments/get?experiment_id=${dropExp}`)).status).toBe(404);

  // Untouched: the kept run's rows, summaries, rollups and series; its experiment.
  expect(await rowsOf([kept.run_id])).toEqual(keptBefore.rows);
  expect(await tally(kept.run_id)).toEqual(keptBefore.tally);
  expect(await seriesOfKept()).toEqual(keptSeries);
  expect((await mlflow(`experiments/get?experiment_id=${keepExp}`)).status).toBe(200);

  // The audit trail: who, what was asked, what went.
  const audit = await queryRows<Record<string, string>>(admin, sql`SELECT event, actor, runs, experiments, points FROM gc_audit_v1 WHERE job_id = ${job.body.job_id} ORDER BY event`);
  expect(audit).toEqual([
    { event: 'started', actor: 'ops', runs: '2', experiments: '1', points: String(BIG + 1800) },
    { event: 'finished', actor: 'ops', runs: '2', experiments: '1', points: String(BIG + 1800) },
  ]);
}, 600_000);
