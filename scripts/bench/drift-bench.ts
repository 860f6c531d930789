// `npm run bench:drift`: the time of one drift report over 20 numerical columns, 1M reference + 1M current values
// per column (40M stored values), against the local ClickHouse — and, beside it, Evidently 0.7 computing the same
// report in pandas on the largest size it manages, and the same report over a time window (read from the rows, not
// from the summaries whole versions use). The load step inserts straight into ClickHouse (INSERT … SELECT from
// numbers(); the summaries' views run as they do for the ingest worker), then merges the tables' parts as background
// merges would; the timed step is the query service's report function. Not a test.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clickhouseEnv, createLogger, loadEnv, toClickHouseSettings } from '@runstream/config';
import { command, connectClickHouse, queryRows, sql } from '@runstream/clickhouse';
import { driftReport } from '../../services/query-service/src/data/drift-report.ts';
import { ensurePythonEnv } from '../../test/support/python-deps.ts';
import { applyMigrations, startLocalStack } from '../local-stack.ts';

const ROWS = Number(process.env.BENCH_DRIFT_ROWS ?? 1_000_000);
const COLUMNS = Number(process.env.BENCH_DRIFT_COLUMNS ?? 20);
const RUNS = Number(process.env.BENCH_DRIFT_RUNS ?? 5);
const EVIDENTLY_SIZES = (process.env.BENCH_EVIDENTLY_SIZES ?? '1000000,300000,100000').split(',').map(Number).filter((n) => n > 0);
const EVIDENTLY_TIMEOUT_MS = Number(process.env.BENCH_EVIDENTLY_TIMEOUT_MS ?? 600_000);

const log = createLogger({ name: 'bench', level: 'warn' });
process.env.CLICKHOUSE_DATABASE ??= 'runstream_bench';
startLocalStack(log);
await applyMigrations(log);
const settings = toClickHouseSettings(loadEnv(clickhouseEnv));
const admin = connectClickHouse(settings, 'admin', { maxExecutionSeconds: 600 });
const query = connectClickHouse(settings, 'query');
// A fixed name per shape: a second run reuses the loaded data (the load takes minutes on a small machine).
const dataset = `bench-drift-${ROWS}x${COLUMNS}`;

const stored = Number(((await queryRows<{ c: string }>(admin, sql`SELECT count() AS c FROM dataset_rows_v2 WHERE dataset = ${dataset}`))[0] as { c: string }).c);
if (stored === 2 * ROWS * COLUMNS) {
  console.log(`reusing the ${stored} stored values of ${dataset}`);
} else {
  if (stored > 0) await command(admin, sql`ALTER TABLE dataset_rows_v2 DELETE WHERE dataset = ${dataset}`);
  console.log(`loading ${COLUMNS} columns × (${ROWS} reference + ${ROWS} current) values into ClickHouse…`);
  const loadStart = performance.now();
  // Normal values by Box-Muller from two uniform draws; current columns are shifted a little, every other one more.
  for (let c = 0; c < COLUMNS; c++) {
    for (const [version, shift] of [['reference', 0], ['current', c % 2 === 0 ? 0.01 : 0.2]] as const) {
      await command(
        admin,
        sql`INSERT INTO dataset_rows_v2 (dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index)
          SELECT ${dataset}, ${version}, ${`f${String(c).padStart(2, '0')}`}, 'numerical', 1700000000000 + number, '', 0,
            ${shift} + 10 + 3 * sqrt(-2 * log((rand(1) + 1) / 4294967297)) * cos(2 * pi() * (rand(2) / 4294967296)), '', 'bench', now(), 'bench', 0, 0, toUInt32(number)
          FROM numbers(${ROWS})`,
      );
    }
  }
  for (const table of ['dataset_rows_v2', 'dataset_numeric_buckets_v1', 'dataset_numeric_extents_v1', 'dataset_numeric_values_v1']) {
    await command(admin, `OPTIMIZE TABLE ${table} FINAL`).catch(() => undefined);
  }
  console.log(`loaded in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`);
}

const request = { reference: { dataset, version: 'reference' }, current: { dataset, version: 'current' } };
const times: number[] = [];
let report;
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  report = await driftReport(query, request);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const p50 = times[Math.floor(times.length / 2)]!;
console.log(`Runstream: ${COLUMNS}-column drift report, ${ROWS} + ${ROWS} values per column: p50 ${p50.toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms); ` +
  `${report!.driftedColumns} of ${report!.columns.length} columns drifted, methods ${[...new Set(report!.columns.map((c) => c.method))].join(', ')}`);

// The same report over time windows that cover every row: read from the rows themselves.
const windowed = { reference: { dataset, version: 'reference', fromMs: 0 }, current: { dataset, version: 'current', fromMs: 0 } };
const windowTimes: number[] = [];
for (let i = 0; i < Math.min(RUNS, 3); i++) {
  const t0 = performance.now();
  await driftReport(query, windowed);
  windowTimes.push(performance.now() - t0);
}
windowTimes.sort((a, b) => a - b);
const windowP50 = windowTimes[Math.floor(windowTimes.length / 2)]!;
console.log(`Runstream, the same report over time windows (rows, not summaries): p50 ${windowP50.toFixed(0)} ms (runs: ${windowTimes.map((t) => t.toFixed(0)).join(', ')} ms)`);

// Evidently on the same shape of data, from the largest size down until one completes.
const python = await ensurePythonEnv('evidently', ['evidently==0.7.23', 'pandas==2.3.3']);
const script = fileURLToPath(new URL('./evidently_drift_timing.py', import.meta.url));
let evidently = 'did not complete at any size';
for (const size of EVIDENTLY_SIZES) {
  const result = await new Promise<string | undefined>((resolve) => {
    const child = spawn(python.python, [script, String(size), String(COLUMNS)], { stdio: ['ignore', 'pipe', 'pipe'], env: python.env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), EVIDENTLY_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else {
        console.log(`Evidently at ${size} rows per side: failed (${code ?? 'killed'}) ${err.trim().split('\n').slice(-1)[0] ?? ''}`);
        resolve(undefined);
      }
    });
  });
  if (result) {
    evidently = result;
    break;
  }
}
console.log(`Evidently 0.7.23 (pandas, in memory): ${evidently}`);
console.log(`side by side: Runstream p50 ${p50.toFixed(0)} ms (whole versions) / ${windowP50.toFixed(0)} ms (time windows) at ${ROWS} rows per side; ${evidently}`);
console.log(`(the ${2 * ROWS * COLUMNS} values stay in ${process.env.CLICKHOUSE_DATABASE} as ${dataset} for the next run)`);
await Promise.all([admin.close(), query.close()]);
