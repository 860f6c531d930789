// `npm run bench:compare`: the comparison reads at scale, against a real MLflow tracking server in the same run.
//
//   - Runstream: 100 runs x up to 1M points of `loss` (dense steps, 100 ms apart, with spikes) stored straight into
//     metric_points_v2 with Native inserts (the table's views build the summaries and rollups as in production),
//     plus 10,000 runs of tracking metadata (params, tags, a few metrics) through tracking_events_v1. All of it in
//     the database runstream_bench, reused between runs when complete (`--reload` loads it again).
//   - The real query service (buildService) in this process, measured over HTTP: p50/p95 of BENCH_REPS requests
//     after a warm-up, with the targets of the comparison work.
//   - MLflow: `mlflow server` (SQLite in a temporary directory) filled through its REST API with the part of the
//     data it can take in reasonable time, and asked the same questions.
//   - The ingest cost of the rollups: the same 2M points into a scratch table with and without the rollup views.
// Not a test: numbers are noisy on a shared machine, so the load average is printed with them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clickhouseEnv, createLogger, loadEnv, toClickHouseSettings } from '@runstream/config';
import type { TrackingEvent } from '@runstream/codec';
import {
  command,
  connectClickHouse,
  encodeMetricPointUnits,
  encodeNativeBlock,
  ident,
  insertMetricPoints,
  insertNative,
  insertTrackingEvents,
  loadMigrations,
  METRIC_ENTRY_COLUMNS,
  FEED,
  queryRows,
  sql,
  type MetricPointUnit,
  type NativeColumn,
  type PointValues,
  type TrackingEventUnit,
} from '@runstream/clickhouse';
import { buildService } from '../../services/query-service/src/build-service.ts';
import { ensurePythonPackages, PYTHON } from '../../test/support/python-deps.ts';
import { applyMigrations, REPO_ROOT, startLocalStack } from '../local-stack.ts';

const RELOAD = process.argv.includes('--reload');
// --ingest-only: measure the ingest cost of the rollups and stop (no load, no MLflow).
const SERIES_RUNS = 100;
const MAX_POINTS_PER_RUN = Number(process.env.BENCH_POINTS_PER_RUN ?? 1_000_000);
/** Loading the series should take at most this long; fewer points per run when the measured insert rate says so. */
const LOAD_BUDGET_S = Number(process.env.BENCH_LOAD_BUDGET_S ?? 480);
const SEARCH_RUNS = 10_000;
const REPS = Number(process.env.BENCH_REPS ?? 30);
const WARMUP = 3;
/** MLflow answers in seconds where Runstream answers in milliseconds: fewer repetitions there. */
const SLOW_REPS = Math.min(REPS, 10);
const MLFLOW_RUNS = 10;
const MLFLOW_MAX_POINTS = Number(process.env.BENCH_MLFLOW_POINTS_PER_RUN ?? 100_000);
const MLFLOW_METRICS_BUDGET_S = Number(process.env.BENCH_MLFLOW_METRICS_BUDGET_S ?? 180);
const MLFLOW_MAX_SEARCH_RUNS = Number(process.env.BENCH_MLFLOW_SEARCH_RUNS ?? 2000);
const MLFLOW_SEARCH_BUDGET_S = Number(process.env.BENCH_MLFLOW_SEARCH_BUDGET_S ?? 120);
const INGEST_COST_POINTS = 2_000_000;
const BLOCK_POINTS = 500_000;
const T0 = Date.UTC(2026, 0, 1);
const SERIES_RUN = (i: number) => `bench-run-${String(i).padStart(3, '0')}`;
const SEARCH_RUN = (i: number) => `search-run-${String(i).padStart(5, '0')}`;
const SEARCH_EXPERIMENT = 'bench-search';
const SERIES_EXPERIMENT = 'bench-series';
const SEARCH_FILTER = "params.optimizer = 'adam' AND params.lr = '0.001' AND metrics.acc > 0.5";
const SEARCH_ORDER = ['metrics.acc DESC'];

const log = createLogger({ name: 'bench', level: 'warn' });
process.env.CLICKHOUSE_DATABASE ??= 'runstream_bench';
const loadAtStart = loadavg();
startLocalStack(log);
const settings = toClickHouseSettings(loadEnv(clickhouseEnv));
const admin = connectClickHouse(settings, 'admin', { maxOpenConnections: 4 });
const server = connectClickHouse(settings, 'admin', { database: 'default' });
if (RELOAD) await command(server, sql`DROP DATABASE IF EXISTS ${ident(settings.database)}`);
await applyMigrations(log);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const progress = (msg: string) => process.stderr.write(`[bench:compare] ${msg}\n`);

// ---- data ----------------------------------------------------------------------------------------------------

/** Value of `loss` at a step: a decaying curve per run, deterministic noise, and a spike every ~50k steps. */
function lossAt(run: number, step: number): number {
  const noise = Math.sin(step * 12.9898 + run * 78.233) * 43758.5453;
  const jitter = (noise - Math.floor(noise) - 0.5) * 0.05;
  const spike = (step + run * 7919) % 49_999 === 0 ? 25 : 0;
  return 2 * Math.exp(-step / (200_000 + run * 3000)) + 0.1 + run * 0.001 + jitter + spike;
}

/** Points [from, to) of one series run, as units of 10k points (the size of a large Kafka message). */
function seriesUnits(run: number, from: number, to: number): MetricPointUnit[] {
  const units: MetricPointUnit[] = [];
  for (let base = from; base < to; base += 10_000) {
    const points: PointValues[] = [];
    for (let step = base; step < Math.min(base + 10_000, to); step++) points.push({ key: 'loss', value: lossAt(run, step), step, timestampMs: T0 + run * 1000 + step * 100 });
    units.push({ entityKind: 'RUN', entityId: SERIES_RUN(run), producer: 'bench', srcTopic: 'bench.series', srcPartition: run, srcOffset: base / 10_000, points });
  }
  return units;
}

function encodeSeries(run: number, from: number, to: number): Buffer {
  return encodeMetricPointUnits(seriesUnits(run, from, to), Math.floor(T0 / 1000));
}

async function seriesCounts(): Promise<Map<string, number>> {
  const rows = await queryRows<{ id: string; n: string }>(
    admin,
    sql`SELECT entity_id AS id, sumMerge(points) AS n FROM metric_summary_v2
        WHERE entity_kind = 'run' AND key = 'loss' AND startsWith(entity_id, 'bench-run-') GROUP BY entity_id`,
  );
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

// ---- ingest cost of the rollups (also the rate the load is planned with) ----------------------------------------

/**
 * The statements of migration 0014 that create the entry table, the points and rollup tables and their views, pointed
 * at scratch tables named after `suffix`; without `rollups`, only the points view.
 */
function scratchEntryDdl(suffix: string, rollups: boolean): string[] {
  const m14 = loadMigrations().find((m) => m.version === 14)!;
  const wanted = [/TABLE IF NOT EXISTS metric_entry_v1/, /TABLE IF NOT EXISTS metric_rollup_v2/, /metric_entry_1_points_mv_v1/, ...(rollups ? [/metric_entry_3_rollup_step_mv_v1/, /metric_entry_4_rollup_time_mv_v1/] : [])];
  // Trusted text from the repository's own migration, with table names swapped (as migrate() runs it).
  return m14.statements
    .filter((st) => st.startsWith('CREATE') && wanted.some((w) => w.test(st.split('\n')[0]!)))
    .map((st) =>
      st
        .replaceAll('metric_entry_v1', `scratch_entry_${suffix}`)
        .replaceAll('metric_points_v1', `scratch_points_${suffix}`)
        .replaceAll('metric_rollup_v2', `scratch_rollup_${suffix}`)
        .replace(/(metric_entry_\d_[a-z_]+_mv_v1)/, `$1_${suffix}`),
    );
}

/** Migration 0006's per-point rollup views (the design before 0014), on a scratch copy of the points table. */
function scratchPerPointDdl(): string[] {
  const m6 = loadMigrations().find((m) => m.version === 6)!;
  // Trusted text from the repository's own migration, with table names swapped (as migrate() runs it).
  return m6.statements
    .filter((st) => st.startsWith('CREATE'))
    .map((st) => st.replaceAll('metric_points_v1', 'scratch_points_perpoint').replaceAll('metric_rollup_v1', 'scratch_rollup_perpoint').replace(/(metric_rollup_(?:step|time)_mv_v1)/, '$1_perpoint'));
}

/** The points of units as a per-point Native block of metric_points_v1 (what the worker sent before 0014). */
function perPointBlock(units: MetricPointUnit[]): Buffer {
  const rows = units.flatMap((u) => u.points.map((p, i) => ({ u, p, i })));
  type R = (typeof rows)[number];
  const columns: NativeColumn<R>[] = [
    { name: 'entity_kind', type: "Enum8('run' = 1, 'model_version' = 2)", get: () => 1 },
    { name: 'entity_id', type: 'String', get: (r) => r.u.entityId },
    { name: 'key', type: 'String', get: (r) => r.p.key },
    { name: 'value', type: 'Float64', get: (r) => r.p.value },
    { name: 'step', type: 'Int64', get: (r) => r.p.step },
    { name: 'timestamp_ms', type: 'Int64', get: (r) => r.p.timestampMs },
    { name: 'producer', type: 'String', get: (r) => r.u.producer },
    { name: 'ingested_at', type: 'DateTime', get: () => Math.floor(T0 / 1000) },
    { name: 'src_topic', type: 'String', get: (r) => r.u.srcTopic },
    { name: 'src_partition', type: 'UInt32', get: (r) => r.u.srcPartition },
    { name: 'src_offset', type: 'UInt64', get: (r) => r.u.srcOffset },
    { name: 'point_index', type: 'UInt32', get: (r) => r.i },
  ];
  return encodeNativeBlock(columns, rows);
}

/** Scratch tables of both kinds, for dropping. */
const SCRATCH = ['plain', 'rolled'].flatMap((x) => [
  `metric_entry_1_points_mv_v1_${x}`, `metric_entry_3_rollup_step_mv_v1_${x}`, `metric_entry_4_rollup_time_mv_v1_${x}`,
  `scratch_entry_${x}`, `scratch_points_${x}`, `scratch_rollup_${x}`,
]).concat(['metric_rollup_step_mv_v1_perpoint', 'metric_rollup_time_mv_v1_perpoint', 'scratch_points_perpoint', 'scratch_rollup_perpoint']);

/**
 * CPU seconds the local ClickHouse server has used so far (user + system, from /proc), or undefined when it is not the
 * local stack's: unlike wall time, not inflated by whatever else shares the machine.
 */
function serverCpuSeconds(): number | undefined {
  try {
    const pid = readFileSync(process.env.CLICKHOUSE_PID_FILE ?? join(process.env.RUNSTREAM_DATA_DIR ?? join(REPO_ROOT, '.data'), 'clickhouse', 'clickhouse.pid'), 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function ingestCost(): Promise<{ plainS: number[]; rolledS: number[]; encodePlainMs: number; encodeRolledMs: number; cpu: { plain: number; rolled: number }; perPointS: number[]; perPointCpu: number }> {
  // What the worker spends on the fine buckets: the same units encoded with and without them (best of three).
  const units: MetricPointUnit[][] = [];
  for (let r = 0; r < INGEST_COST_POINTS / BLOCK_POINTS; r++) units.push(seriesUnits(r, 0, BLOCK_POINTS));
  const encodeOnce = (feed: number) => {
    const t = performance.now();
    for (const u of units) encodeMetricPointUnits(u, Math.floor(T0 / 1000), () => feed);
    return performance.now() - t;
  };
  // Interleaved, best of five each: the garbage one encoding leaves is collected during whichever runs next.
  let encodePlainMs = Infinity;
  let encodeRolledMs = Infinity;
  for (let i = 0; i < 5; i++) {
    encodePlainMs = Math.min(encodePlainMs, encodeOnce(FEED.points));
    encodeRolledMs = Math.min(encodeRolledMs, encodeOnce(FEED.points | FEED.rollupStep | FEED.rollupTime));
  }
  const plainBlocks = units.map((u) => encodeMetricPointUnits(u, Math.floor(T0 / 1000), () => FEED.points));
  const rolledBlocks = units.map((u) => encodeMetricPointUnits(u, Math.floor(T0 / 1000), () => FEED.points | FEED.rollupStep | FEED.rollupTime));
  const drop = async () => {
    for (const t of SCRATCH) await command(admin, sql`DROP TABLE IF EXISTS ${ident(t)}`);
  };
  const create = async () => {
    await drop();
    for (const [suffix, rollups] of [['plain', false], ['rolled', true]] as const) {
      await command(admin, sql`CREATE TABLE ${ident(`scratch_points_${suffix}`)} AS metric_points_v2`);
      for (const ddl of scratchEntryDdl(suffix, rollups)) await command(admin, ddl);
    }
    await command(admin, sql`CREATE TABLE scratch_points_perpoint AS metric_points_v2`);
    for (const ddl of scratchPerPointDdl()) await command(admin, ddl);
  };
  const perPointBlocks = units.map(perPointBlock);
  const perPointColumns = ['entity_kind', 'entity_id', 'key', 'value', 'step', 'timestamp_ms', 'producer', 'ingested_at', 'src_topic', 'src_partition', 'src_offset', 'point_index'];
  const perPointS: number[] = [];
  let perPointCpu = Infinity;
  const timePerPoint = async () => {
    const c = serverCpuSeconds();
    const t = performance.now();
    for (const b of perPointBlocks) await insertNative(admin, 'scratch_points_perpoint', perPointColumns, b);
    perPointS.push((performance.now() - t) / 1000);
    const used = serverCpuSeconds();
    if (c !== undefined && used !== undefined) perPointCpu = Math.min(perPointCpu, used - c);
  };
  const cpu = { plain: Infinity, rolled: Infinity };
  const timeInto = async (suffix: 'plain' | 'rolled', blocks: Buffer[]) => {
    const c = serverCpuSeconds();
    const t = performance.now();
    // Four blocks of 500k points, one after the other, as the ingest worker sends them.
    for (const b of blocks) await insertNative(admin, `scratch_entry_${suffix}`, METRIC_ENTRY_COLUMNS, b, { settings: { min_insert_block_size_rows: '100000000' } });
    const elapsed = (performance.now() - t) / 1000;
    const used = serverCpuSeconds();
    if (c !== undefined && used !== undefined) cpu[suffix] = Math.min(cpu[suffix], used - c);
    return elapsed;
  };
  const plainS: number[] = [];
  const rolledS: number[] = [];
  for (let round = 0; round < 3; round++) {
    await create();
    // Alternate the order so neither side always runs first.
    if (round % 2 === 0) {
      plainS.push(await timeInto('plain', plainBlocks));
      rolledS.push(await timeInto('rolled', rolledBlocks));
    } else {
      rolledS.push(await timeInto('rolled', rolledBlocks));
      plainS.push(await timeInto('plain', plainBlocks));
    }
    await timePerPoint();
  }
  await drop();
  return { plainS, rolledS, encodePlainMs, encodeRolledMs, cpu, perPointS, perPointCpu };
}

progress(`measuring the ingest cost of the rollups (${fmt(INGEST_COST_POINTS)} points, with and without the rollup views)…`);
const cost = await ingestCost();
const rolledRate = INGEST_COST_POINTS / Math.min(...cost.rolledS);

function ingestCostReport(): string {
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)} s (best of ${xs.length}: ${xs.map((x) => x.toFixed(2)).join(', ')})`;
  const plainBest = Math.min(...cost.plainS);
  const rolledBest = Math.min(...cost.rolledS);
  return `  ingest cost of the rollups (${fmt(INGEST_COST_POINTS)} points, 4 Native inserts of ${fmt(BLOCK_POINTS)} into a fresh scratch entry table: its points view alone, or with the rollup views)
    without rollup views   ${spread(cost.plainS)}   ${fmt(INGEST_COST_POINTS / plainBest)} points/s
    with rollup views      ${spread(cost.rolledS)}   ${fmt(INGEST_COST_POINTS / rolledBest)} points/s   (${(rolledBest / plainBest).toFixed(2)}x the time)
    ClickHouse CPU         ${Number.isFinite(cost.cpu.plain) ? `${cost.cpu.plain.toFixed(2)} s without, ${cost.cpu.rolled.toFixed(2)} s with the rollup views (${(cost.cpu.rolled / cost.cpu.plain).toFixed(2)}x; best of 3, the server process's user + system time)` : 'not measured (not the local stack server)'}
    before (0006, rollups aggregated per point by ClickHouse) ${spread(cost.perPointS)}, ClickHouse CPU ${Number.isFinite(cost.perPointCpu) ? `${cost.perPointCpu.toFixed(2)} s (${(cost.perPointCpu / cost.cpu.plain).toFixed(2)}x the points alone)` : 'not measured'}
    worker encoding        ${fmt(cost.encodePlainMs)} ms without the fine buckets, ${fmt(cost.encodeRolledMs)} ms with them (best of 5, interleaved; ClickHouse merges the rollups from them)
    insert + encoding      ${((rolledBest + cost.encodeRolledMs / 1000) / (plainBest + cost.encodePlainMs / 1000)).toFixed(2)}x the time of the points alone`;
}
if (process.argv.includes('--ingest-only')) {
  console.log(`\nRunstream rollup ingest cost — load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n\n${ingestCostReport()}\n`);
  process.exit(0);
}

// ---- load: series ------------------------------------------------------------------------------------------------
const counts = await seriesCounts();
const complete = [...counts.values()];
let pointsPerRun: number;
let loadedNow = false;
let loadSeconds = 0;
if (counts.size > 0 && new Set(complete).size === 1 && counts.size <= SERIES_RUNS && complete[0]! <= MAX_POINTS_PER_RUN) {
  pointsPerRun = complete[0]!; // resume or reuse at the size already stored
} else if (counts.size > 0) {
  progress('series data is inconsistent; reloading the database');
  await command(server, sql`DROP DATABASE IF EXISTS ${ident(settings.database)}`);
  await applyMigrations(log);
  counts.clear();
  pointsPerRun = 0;
} else {
  pointsPerRun = 0;
}
if (pointsPerRun === 0) {
  // Planned from the measured insert rate with the rollup views; production also has the summary view and the load
  // runs two inserts at once on a shared machine: about 0.7 of that rate was measured, hence the margin.
  const affordable = (rolledRate * 0.7 * LOAD_BUDGET_S) / SERIES_RUNS;
  pointsPerRun = Math.min(MAX_POINTS_PER_RUN, Math.max(100_000, Math.floor(affordable / 100_000) * 100_000));
}
const missing = [...Array(SERIES_RUNS).keys()].filter((r) => counts.get(SERIES_RUN(r)) !== pointsPerRun);
if (missing.length > 0) {
  progress(`loading ${missing.length} runs x ${fmt(pointsPerRun)} points of loss (Native inserts into metric_points_v2, 2 at a time)…`);
  loadedNow = true;
  const started = performance.now();
  const jobs = missing.flatMap((run) => {
    const parts = [];
    for (let from = 0; from < pointsPerRun; from += BLOCK_POINTS * 2) parts.push({ run, from, to: Math.min(pointsPerRun, from + BLOCK_POINTS * 2) });
    return parts;
  });
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      await insertMetricPoints(admin, encodeSeries(j.run, j.from, j.to));
      if (++done % 10 === 0) progress(`  ${done}/${jobs.length} blocks, ${secs(performance.now() - started)}`);
    }
  };
  await Promise.all([lane(), lane()]);
  loadSeconds = (performance.now() - started) / 1000;
}

// ---- load: tracking metadata for search ----------------------------------------------------------------------
const LRS = ['0.1', '0.01', '0.001', '0.0001'];
const BATCHES = ['32', '64', '128', '256'];
const OPTIMIZERS = ['adam', 'sgd', 'adamw'];
const TEAMS = ['vision', 'nlp', 'rl'];
/** Deterministic pseudo-random in [0, 1) per (run, salt). */
const rand = (i: number, salt: number) => {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x);
};
interface SearchRun {
  id: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: { key: string; values: number[] }[];
}
function searchRun(i: number): SearchRun {
  const acc = 0.3 + rand(i, 1) * 0.65;
  return {
    id: SEARCH_RUN(i),
    params: { lr: LRS[i % 4]!, batch: BATCHES[Math.floor(i / 4) % 4]!, optimizer: OPTIMIZERS[i % 3]! },
    tags: { team: TEAMS[Math.floor(i / 3) % 3]!, dataset: i % 2 ? 'v2' : 'v1' },
    metrics: [
      { key: 'acc', values: [0, 1, 2, 3, 4].map((s) => acc * (0.6 + 0.1 * s)) },
      { key: 'loss', values: [0, 1, 2, 3, 4].map((s) => (1 - acc) * (1.4 - 0.1 * s)) },
      { key: 'val_loss', values: [0, 1, 2, 3, 4].map((s) => (1 - acc) * (1.5 - 0.1 * s) + rand(i, 2) * 0.05) },
    ],
  };
}

async function searchRunsStored(): Promise<number> {
  const [r] = await queryRows<{ n: string }>(admin, sql`SELECT count() AS n FROM runs_v1 FINAL WHERE experiment_id = ${SEARCH_EXPERIMENT}`);
  return Number(r!.n);
}

let trackingSeconds = 0;
if ((await searchRunsStored()) !== SEARCH_RUNS || (await queryRows(admin, sql`SELECT 1 FROM runs_v1 WHERE experiment_id = ${SERIES_EXPERIMENT} LIMIT 1`)).length === 0) {
  progress(`loading ${fmt(SEARCH_RUNS)} runs of tracking metadata (tracking_events_v1) and their metrics…`);
  const started = performance.now();
  let offset = 1;
  const event = (e: Partial<TrackingEvent> & Pick<TrackingEvent, 'eventType'>): TrackingEventUnit => ({
    event: { eventId: `bench-${offset}`, timestampMs: T0, actor: 'bench', experimentId: '', runId: '', key: '', value: '', experiment: null, run: null, dataset: null, registeredModel: null, modelVersion: null, loggedModel: null, ...e },
    srcTopic: 'bench.tracking',
    srcPartition: 0,
    srcOffset: offset++,
  });
  const experiment = (id: string) =>
    event({ eventType: 'EXPERIMENT_UPSERTED', experimentId: id, experiment: { name: id, artifactLocation: '', lifecycleStage: 'active', creationTimeMs: T0, lastUpdateTimeMs: T0 } });
  const runEvents = (experimentId: string, r: SearchRun, startMs: number): TrackingEventUnit[] => [
    event({
      eventType: 'RUN_UPSERTED',
      experimentId,
      runId: r.id,
      run: { runName: r.id, userId: 'bench', status: 'FINISHED', startTimeMs: startMs, endTimeMs: startMs + 60_000, artifactUri: '', lifecycleStage: 'active' },
    }),
    ...Object.entries(r.params).map(([key, value]) => event({ eventType: 'PARAM_LOGGED', experimentId, runId: r.id, key, value })),
    ...Object.entries(r.tags).map(([key, value]) => event({ eventType: 'RUN_TAG_SET', experimentId, runId: r.id, key, value })),
  ];
  const units: TrackingEventUnit[] = [experiment(SEARCH_EXPERIMENT), experiment(SERIES_EXPERIMENT)];
  const points: MetricPointUnit[] = [];
  for (let i = 0; i < SEARCH_RUNS; i++) {
    const r = searchRun(i);
    units.push(...runEvents(SEARCH_EXPERIMENT, r, T0 + i * 1000));
    points.push({
      entityKind: 'RUN',
      entityId: r.id,
      producer: 'bench',
      srcTopic: 'bench.search',
      srcPartition: 0,
      srcOffset: i,
      points: r.metrics.flatMap((m) => m.values.map((value, step) => ({ key: m.key, value, step, timestampMs: T0 + i * 1000 + step }))),
    });
  }
  for (let i = 0; i < SERIES_RUNS; i++) {
    units.push(...runEvents(SERIES_EXPERIMENT, { id: SERIES_RUN(i), params: { lr: LRS[i % 4]!, batch: BATCHES[i % 4]!, optimizer: OPTIMIZERS[i % 3]! }, tags: { team: TEAMS[i % 3]! }, metrics: [] }, T0 + i * 1000));
  }
  // One insert each, as one large worker batch would be.
  await insertTrackingEvents(admin, units, Math.floor(T0 / 1000));
  await insertMetricPoints(admin, encodeMetricPointUnits(points, Math.floor(T0 / 1000)));
  trackingSeconds = (performance.now() - started) / 1000;
}

// Background merges of the freshly loaded parts would compete with the reads: wait (a while) for them to settle.
async function settle(): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [m] = await queryRows<{ n: string }>(admin, sql`SELECT count() AS n FROM system.merges WHERE database = ${settings.database}`);
    if (Number(m!.n) === 0) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
if (loadedNow || trackingSeconds > 0) {
  progress('waiting for background merges to settle…');
  await settle();
}
const parts = await queryRows<{ t: string; n: string; rows: string }>(
  admin,
  sql`SELECT table AS t, count() AS n, sum(rows) AS rows FROM system.parts WHERE database = ${settings.database} AND active
      AND table IN ('metric_points_v2', 'metric_rollup_v3', 'metric_summary_v2', 'runs_v1', 'run_params_v2') GROUP BY table ORDER BY table`,
);

// ---- the query service -------------------------------------------------------------------------------------------
const query = connectClickHouse(settings, 'query');
const app = await buildService({
  log,
  tokens: [],
  ch: query,
  rateLimit: { ratePerSec: 1_000_000, burst: 1_000_000 },
  health: {
    clickhouse: async () => {
      const r = await query.client.ping();
      if (!r.success) throw r.error;
    },
    kafka: async () => {}, // this benchmark reads only: no Kafka
  },
});
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

interface Timing {
  p50: number;
  p95: number;
  n: number;
}
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** p50/p95 of `reps` sequential calls after a warm-up; `check` validates the first answer. */
async function measure(what: string, call: () => Promise<Response>, check: (body: unknown, text: string) => void, reps = REPS, warmup = WARMUP): Promise<Timing> {
  for (let i = 0; i < warmup; i++) {
    const res = await call();
    const text = await res.text();
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status}: ${text.slice(0, 500)}`);
    if (i === 0) check(text.startsWith('{') ? JSON.parse(text) : undefined, text);
  }
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const res = await call();
    await res.arrayBuffer();
    ms.push(performance.now() - t);
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status}`);
  }
  ms.sort((a, b) => a - b);
  progress(`  ${what}: p50 ${pct(ms, 50).toFixed(1)} ms`);
  return { p50: pct(ms, 50), p95: pct(ms, 95), n: reps };
}

const post = (path: string, body: unknown) => () => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const runs = (n: number) => [...Array(n).keys()].map(SERIES_RUN);
function expectSeries(n: number, buckets: number) {
  return (b: unknown) => {
    const s = (b as { series: { points: number; count: number[]; max: number[] }[] }).series;
    if (s.length !== n) throw new Error(`expected ${n} series, got ${s.length}`);
    if (s[0]!.count.length > buckets || s[0]!.points === 0) throw new Error(`bad series: ${s[0]!.count.length} buckets, ${s[0]!.points} points`);
  };
}

progress('measuring Runstream…');
const zoomFrom = Math.floor(pointsPerRun * 0.25);
const zoomTo = zoomFrom + Math.floor(pointsPerRun / 20) - 1;
const rs = {
  compare10: await measure('series 10 runs', post('/api/v1/series', { runs: runs(10), keys: ['loss'], x: 'step', buckets: 1000 }), expectSeries(10, 1000)),
  compare100: await measure('series 100 runs', post('/api/v1/series', { runs: runs(100), keys: ['loss'], x: 'step', buckets: 1000 }), expectSeries(100, 1000)),
  history: await measure('series 1 run', post('/api/v1/series', { runs: runs(1), keys: ['loss'], x: 'step', buckets: 1000 }), expectSeries(1, 1000)),
  historyTime: await measure('series 1 run, time axis', post('/api/v1/series', { runs: runs(1), keys: ['loss'], x: 'time', buckets: 1000 }), expectSeries(1, 1000)),
  zoom: await measure('zoom 10 runs', post('/api/v1/series', { runs: runs(10), keys: ['loss'], x: 'step', buckets: 1000, from: zoomFrom, to: zoomTo }), expectSeries(10, 1000)),
  compareRuns: await measure('compare/runs 10', post('/api/v1/compare/runs', { runs: runs(10), rank_by: 'loss', only_differing_params: true }), (b) => {
    if ((b as { runs: unknown[] }).runs.length !== 10) throw new Error('compare/runs: expected 10 runs');
  }),
  search: await measure('search 10k', post('/api/v1/runs/search', { experiment_ids: [SEARCH_EXPERIMENT], filter: SEARCH_FILTER, order_by: SEARCH_ORDER, max_results: 100 }), (b) => {
    const r = b as { runs: unknown[]; total_count: number };
    if (r.runs.length === 0 || !(r.total_count > 0)) throw new Error(`search found nothing: ${JSON.stringify(b).slice(0, 300)}`);
  }),
  export: await measure(
    'export 1 run',
    () => fetch(`${base}/api/v1/runs/${SERIES_RUN(0)}/metrics/loss/export?format=csv`),
    (_b, text) => {
      const lines = text.split('\n').length - 2;
      if (lines !== pointsPerRun) throw new Error(`export: ${lines} lines, expected ${pointsPerRun}`);
    },
    5,
    1,
  ),
};
const [searchAnswer] = [await (await post('/api/v1/runs/search', { experiment_ids: [SEARCH_EXPERIMENT], filter: SEARCH_FILTER, order_by: SEARCH_ORDER, max_results: 100 })()).json()] as { total_count: number }[];
await app.close();

// ---- MLflow --------------------------------------------------------------------------------------------------
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

progress('starting mlflow server (SQLite)…');
await ensurePythonPackages([{ spec: 'mlflow==3.17.2', module: 'mlflow' }]);
const tmp = mkdtempSync(join(tmpdir(), 'runstream-compare-bench-'));
const mlflowPort = await freePort();
const ml = `http://127.0.0.1:${mlflowPort}`;
const mlflow: ChildProcess = spawn(
  PYTHON,
  ['-m', 'mlflow', 'server', '--backend-store-uri', `sqlite:///${join(tmp, 'mlflow.db')}`, '--default-artifact-root', join(tmp, 'artifacts'), '--host', '127.0.0.1', '--port', String(mlflowPort), '--workers', '1'],
  { env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', GIT_PYTHON_REFRESH: 'quiet' }, cwd: tmp, detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
);
let mlflowErr = '';
mlflow.stderr!.on('data', (d) => (mlflowErr = (mlflowErr + d).slice(-4000)));
const stopMlflow = () => {
  // Its own process group (detached): the server and the workers it forked.
  if (mlflow.pid !== undefined && mlflow.exitCode === null) {
    try {
      process.kill(-mlflow.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
};
process.on('exit', () => {
  stopMlflow();
  rmSync(tmp, { recursive: true, force: true });
});
const mlStarted = performance.now();
for (;;) {
  if (mlflow.exitCode !== null) throw new Error(`mlflow server exited: ${mlflowErr}`);
  if (await fetch(`${ml}/health`).then((r) => r.ok, () => false)) break;
  if (performance.now() - mlStarted > 120_000) throw new Error(`mlflow server did not start: ${mlflowErr}`);
  await new Promise((r) => setTimeout(r, 250));
}
const mlflowStartS = (performance.now() - mlStarted) / 1000;

async function mlPost<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${ml}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`mlflow ${path}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}
const createExperiment = async (name: string) => (await mlPost<{ experiment_id: string }>('experiments/create', { name })).experiment_id;
const createRun = async (experimentId: string, name: string, start: number) =>
  (await mlPost<{ run: { info: { run_id: string } } }>('runs/create', { experiment_id: experimentId, run_name: name, start_time: start })).run.info.run_id;

// Metrics: 10 runs; points per run planned from the rate of the first 20 requests (1000 metrics per log-batch).
progress('loading MLflow: metric histories (log-batch, 1000 metrics per request)…');
const mlSeriesExp = await createExperiment(SERIES_EXPERIMENT);
const mlRuns: string[] = [];
for (let r = 0; r < MLFLOW_RUNS; r++) mlRuns.push(await createRun(mlSeriesExp, SERIES_RUN(r), T0 + r * 1000));
const logPoints = async (r: number, from: number, to: number) => {
  for (let b = from; b < to; b += 1000) {
    const metrics = [];
    for (let step = b; step < Math.min(b + 1000, to); step++) metrics.push({ key: 'loss', value: lossAt(r, step), timestamp: T0 + r * 1000 + step * 100, step });
    await mlPost('runs/log-batch', { run_id: mlRuns[r], metrics });
  }
};
const mlMetricsStarted = performance.now();
await logPoints(0, 0, 20_000);
const mlRate = 20_000 / ((performance.now() - mlMetricsStarted) / 1000);
const mlPointsPerRun = Math.max(20_000, Math.min(MLFLOW_MAX_POINTS, Math.floor((mlRate * MLFLOW_METRICS_BUDGET_S) / MLFLOW_RUNS / 10_000) * 10_000));
await logPoints(0, 20_000, mlPointsPerRun);
for (let r = 1; r < MLFLOW_RUNS; r++) {
  await logPoints(r, 0, mlPointsPerRun);
  progress(`  run ${r + 1}/${MLFLOW_RUNS}, ${secs(performance.now() - mlMetricsStarted)}`);
}
const mlMetricsS = (performance.now() - mlMetricsStarted) / 1000;

// Search: runs with the same params, tags and metrics as the first runs of the Runstream search set.
progress('loading MLflow: runs for search…');
const mlSearchExp = await createExperiment(SEARCH_EXPERIMENT);
const mlSearchStarted = performance.now();
let mlSearchRuns = 0;
const loadSearchRun = async (i: number) => {
  const r = searchRun(i);
  const runId = await createRun(mlSearchExp, r.id, T0 + i * 1000);
  await mlPost('runs/log-batch', {
    run_id: runId,
    params: Object.entries(r.params).map(([key, value]) => ({ key, value })),
    tags: Object.entries(r.tags).map(([key, value]) => ({ key, value })),
    metrics: r.metrics.flatMap((m) => m.values.map((value, step) => ({ key: m.key, value, step, timestamp: T0 + i * 1000 + step }))),
  });
  await mlPost('runs/update', { run_id: runId, status: 'FINISHED', end_time: T0 + i * 1000 + 60_000 });
};
{
  let next = 0;
  const lane = async () => {
    while (next < MLFLOW_MAX_SEARCH_RUNS && performance.now() - mlSearchStarted < MLFLOW_SEARCH_BUDGET_S * 1000) {
      await loadSearchRun(next++);
      mlSearchRuns++;
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
}
const mlSearchS = (performance.now() - mlSearchStarted) / 1000;

// MLflow serves get-history-bulk-interval on its UI's path; use whichever prefix answers.
const bulkQs = (ids: string[]) => `${ids.map((id) => `run_ids=${id}`).join('&')}&metric_key=loss&max_results=1000`;
let bulkPrefix = '/ajax-api/2.0/mlflow';
if (!(await fetch(`${ml}${bulkPrefix}/metrics/get-history-bulk-interval?${bulkQs(mlRuns.slice(0, 1))}`)).ok) bulkPrefix = '/api/2.0/mlflow';
const bulk = (ids: string[]) => () => fetch(`${ml}${bulkPrefix}/metrics/get-history-bulk-interval?${bulkQs(ids)}`);
/** get-history returns pages (max_results); a caller wants the whole series, so the timing covers every page. */
async function fullHistory(runId: string): Promise<Response> {
  let token = '';
  let points = 0;
  for (;;) {
    const res = await fetch(`${ml}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=25000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
    if (!res.ok) return res;
    const body = (await res.json()) as { metrics?: unknown[]; next_page_token?: string };
    points += body.metrics?.length ?? 0;
    if (!body.next_page_token) return new Response(JSON.stringify({ points }), { status: 200 });
    token = body.next_page_token;
  }
}

progress('measuring MLflow…');
const mlReps = SLOW_REPS;
const mlf = {
  compare10: await measure('mlflow bulk-interval 10 runs', bulk(mlRuns), (b) => {
    const m = (b as { metrics: unknown[] }).metrics;
    if (!m || m.length === 0) throw new Error('mlflow bulk-interval returned nothing');
  }, mlReps, 1),
  history: await measure('mlflow bulk-interval 1 run', bulk(mlRuns.slice(0, 1)), () => {}, mlReps, 1),
  fullHistory: await measure('mlflow get-history 1 run', () => fullHistory(mlRuns[0]!), (b) => {
    if ((b as { points: number }).points !== mlPointsPerRun) throw new Error(`mlflow get-history: ${(b as { points: number }).points} points, expected ${mlPointsPerRun}`);
  }, 5, 1),
  search: await measure('mlflow runs/search', () => fetch(`${ml}/api/2.0/mlflow/runs/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [mlSearchExp], filter: SEARCH_FILTER, order_by: SEARCH_ORDER, max_results: 100 }),
  }), (b) => {
    if (!((b as { runs?: unknown[] }).runs?.length)) throw new Error('mlflow search found nothing');
  }, mlReps, 1),
};
stopMlflow();

// ---- report ------------------------------------------------------------------------------------------------------
const [version] = await queryRows<{ v: string }>(admin, sql`SELECT version() AS v`);
await Promise.all([admin.close(), server.close(), query.close()]);
const loadAtEnd = loadavg();
const t = (x: Timing | undefined) => (x ? `${x.p50.toFixed(1).padStart(7)} / ${x.p95.toFixed(1).padStart(7)} ms` : '—'.padStart(20));
const verdict = (x: Timing, target: number) => `${String(target).padStart(4)} ms  ${x.p50 <= target ? 'PASS' : 'MISS'}`;
const rsPts = (n: number) => `${n} x ${fmt(pointsPerRun)}`;
const mlPts = (n: number) => `${n} x ${fmt(mlPointsPerRun)}`;
const rows: [string, Timing, string, string, Timing | undefined, string][] = [
  ['compare 10 runs, 1000 buckets', rs.compare10, rsPts(10), verdict(rs.compare10, 100), mlf.compare10, `${mlPts(10)} (bulk-interval)`],
  ['compare 100 runs, 1000 buckets', rs.compare100, rsPts(100), '', undefined, `holds ${MLFLOW_RUNS} runs`],
  ['one run, 1000 buckets', rs.history, rsPts(1), verdict(rs.history, 50), mlf.history, `${mlPts(1)} (bulk-interval)`],
  ['one run, 1000 buckets, time axis', rs.historyTime, rsPts(1), '', undefined, ''],
  [`zoom 10 runs, steps ${fmt(zoomFrom)}..${fmt(zoomTo)}`, rs.zoom, rsPts(10), '', undefined, ''],
  ['one run, every point', rs.export, `${rsPts(1)} (CSV export)`, '', mlf.fullHistory, `${mlPts(1)} (get-history, all pages)`],
  ['compare/runs 10 (summaries, params)', rs.compareRuns, '10 runs', '', undefined, ''],
  ['search: filter params+metric, order by metric', rs.search, `${fmt(SEARCH_RUNS)} runs, total ${searchAnswer!.total_count}`, verdict(rs.search, 200), mlf.search, `${fmt(mlSearchRuns)} runs (no total)`],
];
const pad = (s: string, n: number) => s.padEnd(n);
const lines = rows.map(([q, a, aSize, target, b, bSize]) => `  ${pad(q, 46)} ${t(a)}  ${pad(aSize, 34)} ${pad(target, 15)} ${t(b)}  ${bSize}`);

console.log(`
Runstream compare benchmark — ClickHouse ${version!.v}, ${cpus().length} cores, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')} at end
p50 / p95 of ${REPS} sequential HTTP requests after ${WARMUP} warm-ups (MLflow: ${mlReps} after 1; every-point reads: 5 after 1)

  data
    Runstream: ${SERIES_RUNS} runs x ${fmt(pointsPerRun)} points of loss (${fmt(SERIES_RUNS * pointsPerRun)} points${pointsPerRun < MAX_POINTS_PER_RUN ? `; not ${fmt(MAX_POINTS_PER_RUN)} per run: the size was planned from the measured insert rate for a ${LOAD_BUDGET_S} s load` : ''}), ${loadedNow ? `loaded in ${secs(loadSeconds * 1000)} (${fmt((missing.length * pointsPerRun) / loadSeconds)} points/s, 2 concurrent Native inserts)` : 'already loaded (reused; --reload to load again)'}
               ${fmt(SEARCH_RUNS)} runs with params lr/batch/optimizer, 2 tags, 3 metrics x 5 steps${trackingSeconds > 0 ? `, loaded in ${secs(trackingSeconds * 1000)}` : ' (reused)'}
               parts: ${parts.map((p) => `${p.t} ${p.n} (${fmt(Number(p.rows))} rows)`).join(', ')}
    MLflow 3.17.2 (SQLite): up in ${mlflowStartS.toFixed(1)} s; ${MLFLOW_RUNS} runs x ${fmt(mlPointsPerRun)} points of loss loaded in ${secs(mlMetricsS * 1000)} (${fmt((MLFLOW_RUNS * mlPointsPerRun) / mlMetricsS)} points/s, log-batch of 1000)
               ${fmt(mlSearchRuns)} runs for search loaded in ${secs(mlSearchS * 1000)} (create + log-batch + update per run, 4 at a time${mlSearchRuns < MLFLOW_MAX_SEARCH_RUNS ? `; stopped at the ${MLFLOW_SEARCH_BUDGET_S} s budget` : ''})
    search filter: ${SEARCH_FILTER}   order by: ${SEARCH_ORDER.join(', ')}   page of 100

  question                                       Runstream p50 / p95    data                               target         MLflow p50 / p95       data
${lines.join('\n')}

${ingestCostReport()}
`);
process.exit(0);
