// The MLflow importer end to end: a real `mlflow server` (sqlite), filled by the real MLflow Python client, imported
// by the real CLI through Kafka and the real ingest worker into ClickHouse. Every point of every history is compared
// bit for bit with what MLflow returns; re-running writes nothing; a killed or partial import resumes exactly.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentById, experimentByName, floatFromBits, queryRows, runParams, runsByIds, runTags, sql, type ClickHouse } from '@runstream/clickhouse';
import { pointProblem, type MetricPoint } from '@runstream/codec';
import { comparePoints, type ImportSummary } from '@runstream/mlflow-importer';
import { REPO_ROOT } from '../scripts/local-stack.ts';
import { busFor, clickhouseFor, ensureTopics, isolatedEnv, spawnWorker, stopWorker, topicsFor, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';
import { ensurePythonPackages, PYTHON } from './support/python-deps.ts';

const run = promisify(execFile);
const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '20', IMPORT_PROGRESS_INTERVAL_MS: '2000' });
const SUFFIX = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const SOURCE_SCRIPT = join(REPO_ROOT, 'test/mlflow/import_source.py');

interface Seeded {
  experiments: { a: string; b: string; kill: string; inflight: string };
  runs: Record<'a1' | 'a2' | 'a3' | 'b1' | 'b2' | 'kill' | 'inflight', string>;
}
interface Dumped {
  info: { experiment_id: string; run_name: string; user_id: string; status: string; start_time: number; end_time: number | null; lifecycle_stage: string };
  params: Record<string, string>;
  tags: Record<string, string>;
  /** [step, timestamp, little-endian IEEE-754 hex] as the MLflow client read them back. */
  histories: Record<string, [number, number, string][]>;
}

let worker: WorkerProcess;
let mlflow: ChildProcess | undefined;
let mlflowLog = '';
let mlflowUrl: string;
let tmp: string;
let ch: ClickHouse;
let seeded: Seeded;
let source: Record<string, Dumped>;
const names = { a: `import-a-${SUFFIX}`, b: `import-b-${SUFFIX}`, kill: `import-kill-${SUFFIX}`, inflight: `import-inflight-${SUFFIX}` };
/** Runstream experiments that already used a source id before the import (the importer must map those). */
const takenBefore = new Map<string, string>();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function python(args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON, [SOURCE_SCRIPT, ...args], { env: { ...process.env, GIT_PYTHON_REFRESH: 'quiet' }, timeout: 120_000, maxBuffer: 256 << 20 }).catch(
    (err: { stderr?: string; message: string }) => {
      throw new Error(`import_source.py ${args[0]} failed: ${err.stderr?.split('\n').slice(-20).join('\n') || err.message}`);
    },
  );
  return stdout.trim().split('\n').pop()!; // MLflow prints "View run …" lines of its own
}

interface ImportRun {
  code: number | null;
  summary: ImportSummary;
  stderr: string;
}

function startImport(args: string[], extraEnv: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'services/mlflow-importer/src/main.ts'), '--from', mlflowUrl, ...args], {
    env: { ...env, ...extraEnv },
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<ImportRun>((resolve) =>
    child.on('exit', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let summary: ImportSummary;
      try {
        summary = JSON.parse(last) as ImportSummary;
      } catch {
        summary = undefined as unknown as ImportSummary;
      }
      resolve({ code, summary, stderr });
    }),
  );
  return { child, done, stderr: () => stderr };
}

async function importer(args: string[], extraEnv: Record<string, string> = {}): Promise<ImportRun> {
  const r = await startImport(args, extraEnv).done;
  if (r.code !== 0) throw new Error(`importer exited with ${r.code}:\n${r.stderr.slice(-3000)}`);
  return r;
}

// ---- what Runstream holds -----------------------------------------------------------------------------------------

interface StoredPoint extends MetricPoint {
  bits: string;
}

const scratch = Buffer.alloc(8);
function bitsOf(v: number): string {
  scratch.writeDoubleLE(v, 0);
  return scratch.toString('hex');
}

/** Every stored point of the runs, per run and key, in the order it was sent (Kafka offset, index in the message). */
async function storedHistories(runIds: string[]): Promise<Map<string, Map<string, StoredPoint[]>>> {
  const rows = await queryRows<{ entity_id: string; key: string; step: string; timestamp_ms: string; bits: string }>(
    ch,
    sql`SELECT entity_id, key, step, timestamp_ms, hex(reinterpretAsString(value)) AS bits
        FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id IN ${runIds}
        ORDER BY entity_id, key, src_partition, src_offset, point_index`,
  );
  const out = new Map<string, Map<string, StoredPoint[]>>();
  for (const r of rows) {
    const byKey = out.get(r.entity_id) ?? new Map<string, StoredPoint[]>();
    const list = byKey.get(r.key) ?? [];
    const value = floatFromBits(r.bits);
    list.push({ key: r.key, step: Number(r.step), timestampMs: Number(r.timestamp_ms), value, bits: bitsOf(value) });
    byKey.set(r.key, list);
    out.set(r.entity_id, byKey);
  }
  return out;
}

/** The source's storable points of one history, in the importer's sending order (step, timestamp, value). */
function expectedHistory(key: string, points: [number, number, string][]): StoredPoint[] {
  const now = Date.now();
  return points
    .map(([step, timestampMs, bits]) => ({ key, step, timestampMs, value: floatFromBits(bits), bits }))
    .filter((p) => pointProblem(p, now) === undefined)
    .sort(comparePoints);
}

const fmtPoint = (p: StoredPoint) => `${p.step}@${p.timestampMs}=${p.bits}`;

async function countRows(runIds: string[], experimentIds: string[]): Promise<{ points: number; events: number }> {
  const [p] = await queryRows<{ n: string }>(ch, sql`SELECT count() AS n FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id IN ${runIds}`);
  const [e] = await queryRows<{ n: string }>(ch, sql`SELECT count() AS n FROM tracking_events_v1 WHERE run_id IN ${runIds} OR experiment_id IN ${experimentIds}`);
  return { points: Number(p!.n), events: Number(e!.n) };
}

async function targetExperimentIds(): Promise<Record<keyof typeof names, string>> {
  const out = {} as Record<keyof typeof names, string>;
  for (const k of Object.keys(names) as (keyof typeof names)[]) {
    const e = await experimentByName(ch, names[k]);
    if (!e) throw new Error(`experiment ${names[k]} is not in Runstream`);
    out[k] = e.experimentId;
  }
  return out;
}

// ---- set-up -----------------------------------------------------------------------------------------------------

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'runstream-mlflow-import-'));
  const port = await freePort();
  mlflowUrl = `http://127.0.0.1:${port}`;
  await Promise.all([
    (async () => {
      await ensureTopics(env);
      worker = spawnWorker(env);
    })(),
    (async () => {
      await ensurePythonPackages([{ spec: 'mlflow==3.17.2', module: 'mlflow' }]);
      const started = Date.now();
      // Its own process group, so afterAll stops the server and every process it started (uvicorn).
      mlflow = spawn(
        PYTHON,
        ['-m', 'mlflow', 'server', '--backend-store-uri', `sqlite:///${join(tmp, 'mlflow.db')}`, '--default-artifact-root', join(tmp, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
        { env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', GIT_PYTHON_REFRESH: 'quiet' }, cwd: tmp, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      mlflow.stdout!.on('data', (d) => (mlflowLog += d));
      mlflow.stderr!.on('data', (d) => (mlflowLog += d));
      await waitFor('mlflow server /health', async () => mlflow!.exitCode === null && (await fetch(`${mlflowUrl}/health`)).ok, 90_000, 250).catch((err: Error) => {
        throw new Error(`${err.message}\n${mlflowLog.slice(-3000)}`);
      });
      const up = Date.now();
      seeded = JSON.parse(await python(['seed', mlflowUrl, SUFFIX])) as Seeded;
      const logged = Date.now();
      source = JSON.parse(await python(['dump', mlflowUrl, ...Object.values(seeded.runs)])) as Record<string, Dumped>;
      console.log(`[mlflow-import] mlflow server up in ${((up - started) / 1000).toFixed(1)} s, logging ${((logged - up) / 1000).toFixed(1)} s, reading back ${((Date.now() - logged) / 1000).toFixed(1)} s`);
    })(),
  ]);
  ch = clickhouseFor('query', env);
  for (const id of Object.values(seeded.experiments)) {
    const e = await experimentById(ch, id);
    if (e) takenBefore.set(id, e.name);
  }
}, 240_000);

afterAll(async () => {
  if (mlflow?.pid && mlflow.exitCode === null) {
    const exited = new Promise((r) => mlflow!.once('exit', r));
    process.kill(-mlflow.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (mlflow.exitCode === null) process.kill(-mlflow.pid, 'SIGKILL');
  }
  if (worker) await stopWorker(worker);
  await ch?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ---- tests --------------------------------------------------------------------------------------------------------

describe('MLflow importer', () => {
  it('resumes a SIGKILLed import exactly: no duplicates, no gaps', async () => {
    const runId = seeded.runs.kill;
    const total = 32_000;
    // Small messages so the kill lands in the middle of the big history.
    const job = startImport(['--experiment', names.kill], { IMPORT_POINTS_PER_MESSAGE: '1000' });
    const atKill = await waitFor(
      'the first stored points of the big history',
      async () => {
        const { points } = await countRows([runId], ['-']);
        return points >= 3_000 ? points : undefined;
      },
      60_000,
      20,
    );
    job.child.kill('SIGKILL');
    const killed = await job.done;
    expect(killed.code).toBeNull();
    const { points: afterKill } = await countRows([runId], ['-']);
    expect(afterKill).toBeGreaterThanOrEqual(atKill);
    expect(afterKill).toBeLessThan(total);

    // The re-run waits for whatever the killed one left in flight, then sends exactly the rest.
    const again = await importer(['--experiment', names.kill]);
    const stored = (await storedHistories([runId])).get(runId)!;
    expect(again.summary.metrics.alreadyPresent).toBeGreaterThanOrEqual(afterKill);
    expect(again.summary.metrics.alreadyPresent + again.summary.metrics.sent).toBe(total);
    for (const key of ['big', 'small']) {
      const want = expectedHistory(key, source[runId]!.histories[key]!);
      expect(stored.get(key)!.map(fmtPoint), key).toEqual(want.map(fmtPoint));
    }
    expect((await countRows([runId], ['-'])).points).toBe(total);
    console.log(`[mlflow-import] killed with ${afterKill} of ${total} points stored; the re-run sent ${again.summary.metrics.sent} and skipped ${again.summary.metrics.alreadyPresent}`);
  });

  it('waits for a send that Kafka acknowledged but the worker had not stored before counting (no duplicates)', async () => {
    const runId = seeded.runs.inflight;
    await importer(['--experiment', names.inflight, '--max-points-per-run', '1000']);
    expect((await countRows([runId], ['-'])).points).toBe(1000);
    const admin = await busFor(env).admin();
    const endOffsets = async () => (await admin.lag(env.INGEST_GROUP_ID!, topicsFor(env).metrics)).reduce((n, p) => n + p.end, 0);
    try {
      const before = await endOffsets();
      worker.child.kill('SIGSTOP'); // the worker stops storing (briefly: well within its session timeout)
      const job = startImport(['--experiment', names.inflight]);
      await waitFor('the importer to send the rest of the history', async () => (await endOffsets()) > before, 30_000, 50);
      job.child.kill('SIGKILL'); // acknowledged by Kafka, not stored
      expect((await countRows([runId], ['-'])).points).toBe(1000);
      // A re-run now must not count 1000 and send the 2000 again: it waits until the worker stored what is in flight.
      const rerun = startImport(['--experiment', names.inflight]);
      await waitFor('the re-run to wait for the ingest worker', async () => /waiting for the ingest worker/.test(rerun.stderr()), 30_000, 50);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(rerun.child.exitCode).toBeNull();
      worker.child.kill('SIGCONT');
      const done = await rerun.done;
      expect(done.code, done.stderr).toBe(0);
      expect(done.stderr).toMatch(/waiting for the ingest worker to store writes in flight/);
      expect(done.summary.metrics).toMatchObject({ sent: 0, alreadyPresent: 3000 });
    } finally {
      worker.child.kill('SIGCONT');
      await admin.disconnect();
    }
    const stored = (await storedHistories([runId])).get(runId)!;
    expect(stored.get('x')!.map(fmtPoint)).toEqual(expectedHistory('x', source[runId]!.histories.x!).map(fmtPoint));
  });

  it('a partial import (--max-points-per-run) stores prefixes; the full import completes every history bit for bit', async () => {
    const runIds = [seeded.runs.a1, seeded.runs.a2, seeded.runs.a3, seeded.runs.b1, seeded.runs.b2];
    const partial = await importer(['--experiment', names.a, '--experiment', names.b, '--max-points-per-run', '3333']);
    expect(partial.summary.runs).toEqual({ total: 5, created: 5, updated: 0, unchanged: 0 });
    const afterPartial = await storedHistories(runIds);
    for (const runId of runIds) {
      const keys = Object.keys(source[runId]!.histories).sort();
      const wantAll = keys.flatMap((k) => expectedHistory(k, source[runId]!.histories[k]!));
      let total = 0;
      for (const key of keys) {
        const have = afterPartial.get(runId)?.get(key) ?? [];
        total += have.length;
        // Whatever was stored of a key is the beginning of its sending order.
        expect(have.map(fmtPoint), `${runId} ${key}`).toEqual(expectedHistory(key, source[runId]!.histories[key]!).slice(0, have.length).map(fmtPoint));
      }
      expect(total).toBe(Math.min(3333, wantAll.length));
    }

    const full = await importer([]);
    const s = full.summary;
    expect(s.dryRun).toBe(false);
    expect(s.experiments.total).toBe(5); // Default + the four seeded
    expect(s.runs.total).toBe(7);
    expect(s.runs.created).toBe(0);
    // 'eval:acc' (a ':' in the key), 'weird' (step -1, timestamp 5 ms) are valid as in MLflow: nothing is left out.
    expect(s.metrics.invalid).toBe(0);
    expect(s.invalidPoints).toEqual([]);
    expect(s.conflicts).toEqual([]);
    expect(full.stderr).toMatch(/metric points [\d,]+ sent/);

    // Experiments: the source id unless Runstream used it for another name (then a new id, reported).
    const targets = await targetExperimentIds();
    for (const k of Object.keys(names) as (keyof typeof names)[]) {
      const sourceId = seeded.experiments[k];
      const entry = s.experiments.list.find((e) => e.name === names[k])!;
      expect(entry).toMatchObject({ sourceId, targetId: targets[k], action: 'existing' });
      if (takenBefore.has(sourceId)) {
        expect(targets[k]).not.toBe(sourceId);
        expect(entry.mapping).toMatch(`is experiment ${targets[k]} in Runstream (same name)`);
        // The import that created it said why it took a new id.
        const created = partial.summary.experiments.list.find((e) => e.name === names[k]);
        if (created) expect(created.mapping).toMatch(`source experiment id ${sourceId} is used in Runstream by '${takenBefore.get(sourceId)}'`);
      } else {
        expect(targets[k]).toBe(sourceId);
        expect(entry.mapping).toBeUndefined();
      }
    }
    const expA = (await experimentByName(ch, names.a))!;
    expect(expA.tags).toEqual([{ key: 'owner', value: 'ada' }, { key: 'team', value: 'vision' }]);
    expect(expA.artifactLocation).toBe(`mlflow-artifacts:/${targets.a}`);

    // Runs: state, params and tags as the source has them.
    const allRuns = Object.values(seeded.runs);
    const rows = new Map((await runsByIds(ch, allRuns)).map((r) => [r.runId, r]));
    const [params, tags] = await Promise.all([runParams(ch, allRuns), runTags(ch, allRuns)]);
    const targetOf = new Map(Object.entries(seeded.experiments).map(([k, id]) => [id, targets[k as keyof typeof names]]));
    for (const runId of allRuns) {
      const src = source[runId]!;
      const row = rows.get(runId)!;
      expect(row, runId).toBeDefined();
      expect(row).toEqual({
        runId,
        experimentId: targetOf.get(src.info.experiment_id),
        runName: src.info.run_name,
        userId: src.info.user_id,
        status: src.info.status,
        startTimeMs: src.info.start_time,
        endTimeMs: src.info.end_time,
        artifactUri: `mlflow-artifacts:/${targetOf.get(src.info.experiment_id)}/${runId}/artifacts`,
        lifecycleStage: src.info.lifecycle_stage,
      });
      expect(Object.fromEntries((params.get(runId) ?? []).map((p) => [p.key, p.value]))).toEqual(src.params);
      expect(Object.fromEntries((tags.get(runId) ?? []).map((t) => [t.key, t.value]))).toEqual(src.tags);
    }
    expect(rows.get(seeded.runs.a2)!.status).toBe('FAILED');
    expect(rows.get(seeded.runs.a3)!.lifecycleStage).toBe('deleted');
    expect(rows.get(seeded.runs.b1)!.endTimeMs).toBeNull();

    // Every point of every history, bit for bit, in sending order, nothing twice.
    const stored = await storedHistories(allRuns);
    let compared = 0;
    for (const runId of allRuns) {
      for (const [key, points] of Object.entries(source[runId]!.histories)) {
        const want = expectedHistory(key, points);
        expect(stored.get(runId)?.get(key)?.map(fmtPoint) ?? [], `${runId} ${key}`).toEqual(want.map(fmtPoint));
        compared += want.length;
      }
      expect([...(stored.get(runId)?.keys() ?? [])].sort()).toEqual(
        Object.keys(source[runId]!.histories)
          .filter((k) => expectedHistory(k, source[runId]!.histories[k]!).length > 0)
          .sort(),
      );
    }
    expect(compared).toBe(51_050);
    const everything = [...stored.values()].flatMap((m) => [...m.values()]).flat();
    expect(everything.some((p) => Number.isNaN(p.value))).toBe(true);
    expect(everything.some((p) => p.value === Number.MAX_VALUE)).toBe(true); // MLflow's SQL store turns +inf into DBL_MAX
    expect(everything.some((p) => p.value === -Number.MAX_VALUE)).toBe(true);
    console.log(
      `[mlflow-import] full import: ${s.metrics.sent} points sent (${s.metrics.alreadyPresent} already present) in ${s.metrics.messages} messages, ` +
        `${(s.elapsedMs / 1000).toFixed(1)} s, ${s.pointsPerSecond} points/s (reading MLflow ${s.time.readingHistoriesMs} ms, writing ${s.time.writingMs} ms summed over runs); ` +
        `partial import ${partial.summary.metrics.sent} points in ${(partial.summary.elapsedMs / 1000).toFixed(1)} s (writing ${partial.summary.time.writingMs} ms); compared ${compared} points`,
    );
  });

  it('a second import writes nothing', async () => {
    const runIds = Object.values(seeded.runs);
    const targets = Object.values(await targetExperimentIds());
    const before = await countRows(runIds, targets);
    const again = await importer([]);
    const s = again.summary;
    expect(s.metrics.sent).toBe(0);
    expect(s.metrics.messages).toBe(0);
    expect(s.metrics.alreadyPresent).toBe(51_050);
    expect(s.runs).toEqual({ total: 7, created: 0, updated: 0, unchanged: 7 });
    expect(s.params.logged).toBe(0);
    expect(s.tags.set).toBe(0);
    expect(s.experiments.created).toBe(0);
    expect(s.conflicts).toEqual([]);
    // Wait as long as a write would take to show, then count again.
    await new Promise((r) => setTimeout(r, 500));
    expect(await countRows(runIds, targets)).toEqual(before);
    const dry = await importer(['--dry-run', '--experiment', names.b]);
    expect(dry.summary.dryRun).toBe(true);
    expect(dry.summary.metrics.sent).toBe(0);
    expect(dry.summary.metrics.alreadyPresent).toBe(6_000);
    expect(dry.summary.runs).toEqual({ total: 2, created: 0, updated: 0, unchanged: 2 });
  });

  it('answers bad arguments with exit code 2 and an unreachable source with exit code 1', async () => {
    const bad = await startImport(['--bogus']).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--bogus'[\s\S]*Usage:/);
    const unknown = await startImport(['--experiment', 'no-such-experiment']).done;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no experiment named "no-such-experiment"/);
    const port = await freePort();
    const child = spawn(process.execPath, [join(REPO_ROOT, 'services/mlflow-importer/src/main.ts'), '--from', `http://127.0.0.1:${port}`, '--dry-run'], {
      env: { ...env, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '2' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(stderr).toMatch(/experiments\/search at http:\/\/127\.0\.0\.1:\d+ failed after 3 attempts: fetch failed \(ECONNREFUSED\)/);
  });
});
