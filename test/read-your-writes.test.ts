// Writes are acknowledged at Kafka; reads pay for read-your-writes, and only while the ingest worker is behind.
// Proven with the real MLflow client through two query-service instances that share nothing but Kafka and
// ClickHouse: with the worker running, and with the worker stopped (writes stay fast, reads wait for it, or answer
// 503 + Retry-After past their budget). Everything logged arrives exactly once.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, sql } from '@runstream/clickhouse';
import { clickhouseFor, ensureTopics, isolatedEnv, log, spawnWorker, startQueryInstance, stopWorker, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';
import { ensurePythonPackages, PYTHON } from './support/python-deps.ts';

const env = isolatedEnv();
const ch = clickhouseFor('query');
let worker: WorkerProcess;
const closers: (() => Promise<unknown>)[] = [];

/** One query-service instance with its own producer, admin connection, fence and caches. */
async function instance(budgetMs: number): Promise<string> {
  const started = await startQueryInstance(env, budgetMs);
  closers.push(() => started.close());
  return started.base;
}

let a: string;
let b: string;
let impatient: string;

beforeAll(async () => {
  await ensureTopics(env);
  worker = spawnWorker(env);
  [a, b, impatient] = await Promise.all([instance(30_000), instance(30_000), instance(700), ensurePythonPackages([{ spec: 'mlflow==3.17.2', module: 'mlflow' }])]) as [string, string, string, void];
}, 600_000);

afterAll(async () => {
  if (worker) await stopWorker(worker);
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

/** Runs read_your_writes.py; `onLine` sees its stdout lines as they come. Resolves with its JSON summary. */
function client(mode: 'running' | 'stopped', extra: Record<string, string> = {}, onLine: (line: string) => void = () => undefined): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['test/mlflow/read_your_writes.py', mode], {
      env: { ...process.env, WRITE_URI: a, READ_URI: b, GIT_PYTHON_REFRESH: 'quiet', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', ...extra },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) onLine(line.trim());
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`read_your_writes.py ${mode} exited ${code}: ${err.split('\n').slice(-20).join('\n')}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

async function pointsOf(runId: string) {
  return queryRows<{ key: string; n: string; distinct: string }>(
    ch,
    sql`SELECT key, count() AS n, uniqExact(step, timestamp_ms, value) AS distinct FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id = ${runId} GROUP BY key ORDER BY key`,
  );
}

let first: any;

describe('read-your-writes with acknowledgement at Kafka', () => {
  it('every kind of MLflow write through one instance is read back at once through another, with the worker running', async () => {
    first = await client('running');
    expect(first.changed_param_via_other_instance).toBe('INVALID_PARAMETER_VALUE');
    expect(first.delete_missing_tag_via_other_instance).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(first.log_to_deleted_via_other_instance).toBe('INVALID_PARAMETER_VALUE');
    // Exactly once: 3 loss points (the one refused on the deleted run is not stored), 1 acc point.
    expect(await pointsOf(first.run_id)).toEqual([
      { key: 'acc', n: '1', distinct: '1' },
      { key: 'loss', n: '3', distinct: '3' },
    ]);
  }, 300_000);

  it('with the worker stopped, writes are still acknowledged quickly and reads wait until it is back', async () => {
    expect(first, 'needs the run above').toBeDefined();
    await stopWorker(worker);
    let resumedAt = 0;
    const summary = await client('stopped', { EXPERIMENT_ID: first.experiment_id, RUN_ID: first.run_id }, (line) => {
      if (line !== 'WRITES_DONE') return;
      // The client is now reading through B, which must wait: bring the worker back after a while.
      setTimeout(() => {
        resumedAt = Date.now();
        worker = spawnWorker(env);
      }, 3_000);
    });
    // Nothing waited for ClickHouse: every write (24 of them) was acknowledged by Kafka alone.
    expect(summary.writes).toBe(24);
    log.warn({ summary }, 'worker stopped: write and read timings');
    expect(summary.max_write_ms).toBeLessThan(1_000);
    expect(resumedAt).toBeGreaterThan(0);
    expect(summary.read_waited_ms).toBeGreaterThanOrEqual(2_500);
    expect(await pointsOf(summary.run_id)).toEqual([
      { key: 'acc', n: '50', distinct: '50' },
      { key: 'loss', n: '20', distinct: '20' },
    ]);
  }, 300_000);

  it('a read that cannot be satisfied within its budget answers 503 with Retry-After, never stale data', async () => {
    await stopWorker(worker);
    try {
      const created = await fetch(`${a}/api/2.0/mlflow/runs/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ experiment_id: first.experiment_id }) });
      expect(created.status).toBe(200);
      const runId = ((await created.json()) as any).run.info.run_id;
      const started = Date.now();
      const res = await fetch(`${impatient}/api/2.0/mlflow/runs/get?run_id=${runId}`);
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await res.json()) as any).error_code).toBe('TEMPORARILY_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(5_000);
      // The native API answers the same way.
      const native = await fetch(`${impatient}/api/v1/runs/${runId}`);
      expect(native.status).toBe(503);
      expect(native.headers.get('retry-after')).toBeTruthy();
    } finally {
      worker = spawnWorker(env);
    }
    // Once the worker is back the same read succeeds through the impatient instance too.
    await waitFor('the run readable through the impatient instance', async () => (await fetch(`${impatient}/api/2.0/mlflow/experiments/get?experiment_id=${first.experiment_id}`)).status === 200, 60_000);
  }, 120_000);
});
