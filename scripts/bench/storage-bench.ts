// `npm run bench:storage`: bytes on disk per stored metric point, Runstream next to MLflow's SQL store on SQLite
// for the same histories (a real mlflow from PyPI writing through its own client). Runstream's points go in as the
// worker writes them (one entry-table insert per batch, so the summaries and rollups are built as in production),
// then every table is merged (OPTIMIZE … FINAL), the steady state of a table nobody writes to any more.
//   -- --runs 8 --keys 5 --steps 5000   (default: 200,000 points)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clickhouseEnv, createLogger, loadEnv, toClickHouseSettings } from '@runstream/config';
import { command, connectClickHouse, encodeMetricPointUnits, ident, insertMetricPoints, migrate, sql, tableStorage, type MetricPointUnit } from '@runstream/clickhouse';
import { ensurePythonPackages, PYTHON } from '../../test/support/python-deps.ts';
import { REPO_ROOT, startLocalStack } from '../local-stack.ts';

const MLFLOW = 'mlflow==3.17.2';
const log = createLogger({ name: 'bench-storage', level: 'warn' });
const { values } = parseArgs({ options: { runs: { type: 'string', default: '8' }, keys: { type: 'string', default: '5' }, steps: { type: 'string', default: '5000' } } });
const RUNS = Number(values.runs);
const KEYS = Number(values.keys);
const STEPS = Number(values.steps);
const progress = (m: string) => process.stderr.write(`[bench:storage] ${m}\n`);

/** Deterministic PRNG (mulberry32): every run of the benchmark stores the same values. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Training-like histories: per run, KEYS keys logged together at every step (loss curves with noise), 0.2-0.3 s apart.
interface Point { run: string; key: string; step: number; ts: number; value: number }
const rand = prng(18);
const T0 = 1_764_547_200_000;
const histories: Point[][] = [];
for (let r = 0; r < RUNS; r++) {
  const run = `storage-bench-run-${r}`;
  const points: Point[] = [];
  let ts = T0 + r * 86_400_000;
  for (let step = 0; step < STEPS; step++) {
    ts += 200 + Math.floor(rand() * 100);
    for (let k = 0; k < KEYS; k++) {
      const value = (k + 1) * Math.exp(-step / (STEPS / 3)) + 0.05 * (rand() - 0.5);
      points.push({ run, key: ['loss', 'eval/loss', 'acc', 'lr', 'grad_norm', 'eval/acc', 'f1', 'epoch'][k % 8]! + (k >= 8 ? `_${k}` : ''), step, ts, value });
    }
  }
  histories.push(points);
}
const total = RUNS * KEYS * STEPS;

// ---- Runstream ----------------------------------------------------------------------------------------------
startLocalStack(log);
const settings = toClickHouseSettings(loadEnv(clickhouseEnv, { ...process.env, CLICKHOUSE_DATABASE: 'runstream_bench_storage' }));
const server = connectClickHouse(settings, 'admin', { database: 'default' });
const ch = connectClickHouse(settings, 'admin');
await command(server, sql`DROP DATABASE IF EXISTS ${ident('runstream_bench_storage')}`);
await migrate(ch, server, log);
progress(`storing ${total.toLocaleString('en-US')} points (${RUNS} runs x ${KEYS} keys x ${STEPS} steps) in Runstream…`);
let t = performance.now();
// Messages as the SDK sends them (100 steps of every key), batches of 50 messages as the worker inserts them.
let offset = 0;
const units: MetricPointUnit[] = [];
for (const points of histories) {
  for (let i = 0; i < points.length; i += 100 * KEYS) {
    const slice = points.slice(i, i + 100 * KEYS);
    units.push({ entityKind: 'RUN', entityId: slice[0]!.run, producer: 'bench', srcTopic: 'runstream.metrics.v1', srcPartition: offset % 6, srcOffset: offset++, points: slice.map((p) => ({ key: p.key, value: p.value, step: p.step, timestampMs: p.ts })) });
  }
}
for (let i = 0; i < units.length; i += 50) await insertMetricPoints(ch, encodeMetricPointUnits(units.slice(i, i + 50), Math.floor(Date.now() / 1000)));
for (const table of ['metric_points_v2', 'metric_summary_v2', 'metric_rollup_v3', 'ingest_progress_v1']) await command(ch, sql`OPTIMIZE TABLE ${ident(table)} FINAL`);
const runstreamSeconds = (performance.now() - t) / 1000;
const tables = new Map((await tableStorage(ch)).map((s) => [s.table, s]));
await ch.close();
await server.close();

// ---- MLflow (SQLite) ----------------------------------------------------------------------------------------
progress(`checking ${MLFLOW}…`);
await ensurePythonPackages([{ spec: MLFLOW, module: 'mlflow' }]);
const dir = mkdtempSync(join(tmpdir(), 'runstream-storage-bench-'));
let mlflow: { points: number; stored: number; file_bytes: number; metrics_bytes: number | null; seconds: number };
try {
  const csv = join(dir, 'histories.csv');
  writeFileSync(csv, histories.flat().map((p) => `${p.run},${p.key},${p.step},${p.ts},${p.value}`).join('\n') + '\n');
  progress('storing the same histories in MLflow (SQLite store, log_batch of 1000)…');
  t = performance.now();
  const out = execFileSync(PYTHON, [join(REPO_ROOT, 'scripts/bench/mlflow_storage_bench.py'), csv, dir], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  mlflow = JSON.parse(out.trim().split('\n').pop()!);
  if (mlflow.stored !== total) throw new Error(`MLflow stored ${mlflow.stored} points of ${total}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ---- report -------------------------------------------------------------------------------------------------
const perPoint = (bytes: number) => (bytes / total).toFixed(2);
const points = tables.get('metric_points_v2')!;
const derived = ['metric_summary_v2', 'metric_rollup_v3'].reduce((n, name) => n + (tables.get(name)?.bytesOnDisk ?? 0), 0);
const rows: [string, string, string][] = [
  ['Runstream: raw points (metric_points_v2)', `${points.bytesOnDisk.toLocaleString('en-US')} B`, perPoint(points.bytesOnDisk)],
  ['Runstream: + summaries and rollups', `${(points.bytesOnDisk + derived).toLocaleString('en-US')} B`, perPoint(points.bytesOnDisk + derived)],
  ...(mlflow.metrics_bytes === null ? [] : [['MLflow SQLite: metrics + latest_metrics tables and indexes', `${mlflow.metrics_bytes.toLocaleString('en-US')} B`, perPoint(mlflow.metrics_bytes)] as [string, string, string]]),
  ['MLflow SQLite: whole database file (after VACUUM)', `${mlflow.file_bytes.toLocaleString('en-US')} B`, perPoint(mlflow.file_bytes)],
];
console.log(`\nbytes per stored point, ${total.toLocaleString('en-US')} points (${RUNS} runs x ${KEYS} keys x ${STEPS} steps, float64 values with noise)\n`);
console.log('| store | bytes | bytes per point |\n| --- | --: | --: |');
for (const [name, bytes, per] of rows) console.log(`| ${name} | ${bytes} | ${per} |`);
console.log(`\nraw points compress ${(points.bytesUncompressed / points.bytesOnDisk).toFixed(1)}x (${points.bytesUncompressed.toLocaleString('en-US')} B uncompressed); ` +
  `MLflow is ${(mlflow.file_bytes / points.bytesOnDisk).toFixed(1)}x the raw points, ${(mlflow.file_bytes / (points.bytesOnDisk + derived)).toFixed(1)}x with summaries and rollups. ` +
  `Storing took ${runstreamSeconds.toFixed(1)} s (Runstream, inserts and merges) and ${mlflow.seconds.toFixed(1)} s (MLflow client, log_batch).`);
