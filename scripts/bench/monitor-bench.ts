// `npm run bench:monitor`: the time of one full monitoring report — 10M binary predictions with labels and scores,
// 20 hourly windows × 5 segments (and all segments per window), one sensitive feature: confusion counts, every
// classification metric, ROC AUC and average precision over distinct scores, log loss, Brier, Fairlearn's group
// metrics — against the local ClickHouse, with scikit-learn + Fairlearn computing the same report on the same rows
// (read out of ClickHouse into numpy first; only their computation is timed) printed beside it. The load step inserts
// straight into ClickHouse (INSERT … SELECT from numbers(); the dataset views run as for the ingest worker); the
// timed step is the query service's report function. Not a test.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clickhouseEnv, createLogger, loadEnv, toClickHouseSettings } from '@runstream/config';
import { command, connectClickHouse, queryRows, sql } from '@runstream/clickhouse';
import { monitorReport } from '../../services/query-service/src/monitoring/monitor-report.ts';
import type { Monitor } from '../../services/query-service/src/monitoring/monitor-definition.ts';
import { ensurePythonPackages, PYTHON } from '../../test/support/python-deps.ts';
import { applyMigrations, startLocalStack } from '../local-stack.ts';

const ROWS = Number(process.env.BENCH_MONITOR_ROWS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_MONITOR_RUNS ?? 3);
// BENCH_MONITOR_REFERENCE=0 leaves scikit-learn + Fairlearn out (they take minutes on 10M rows).
const WINDOWS = 20;
const SEGMENTS = 5;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 1);
const CHUNK = 250_000;

const log = createLogger({ name: 'bench', level: 'warn' });
process.env.CLICKHOUSE_DATABASE ??= 'runstream_bench';
startLocalStack(log);
await applyMigrations(log);
const settings = toClickHouseSettings(loadEnv(clickhouseEnv));
// Inserts of a loaded machine take long: the client waits as long as the server may run.
const admin = connectClickHouse({ ...settings, requestTimeoutMs: 1_800_000 }, 'admin', { maxExecutionSeconds: 1800 });
const query = connectClickHouse({ ...settings, requestTimeoutMs: 600_000 }, 'query', { maxExecutionSeconds: 600 });
const dataset = `bench-monitor-${ROWS}`;
const COLUMNS = 4;

const stored = Number((await queryRows<{ c: string }>(admin, sql`SELECT count() AS c FROM dataset_rows_v2 WHERE dataset = ${dataset}`))[0]!.c);
if (stored === ROWS * COLUMNS) {
  console.log(`reusing the ${stored} stored values of ${dataset}`);
} else {
  if (stored > 0) {
    // A load that stopped half way: deleted first (a mutation, asynchronous on ClickHouse 18.16).
    await command(admin, sql`ALTER TABLE dataset_rows_v2 DELETE WHERE dataset = ${dataset}`);
    for (let left = stored; left > 0; await new Promise((r) => setTimeout(r, 1000))) {
      left = Number((await queryRows<{ c: string }>(admin, sql`SELECT count() AS c FROM dataset_rows_v2 WHERE dataset = ${dataset}`))[0]!.c);
    }
  }
  console.log(`loading ${ROWS} predictions (pred, label, score, sex: ${ROWS * COLUMNS} values) into ClickHouse…`);
  const t0 = performance.now();
  // 20 % positives; scores in steps of 0.001 (ties), higher for positives; group "c" is rarer and selected more.
  for (let start = 0; start < ROWS; start += CHUNK) {
    const n = Math.min(CHUNK, ROWS - start);
    await command(
      admin,
      sql`INSERT INTO dataset_rows_v2 (dataset, version, column, column_type, timestamp_ms, segment, is_missing, num_value, cat_value, producer, ingested_at, src_topic, src_partition, src_offset, row_index)
        SELECT ${dataset}, '', col, toString(ctype), ts, seg, 0, nv, cv, 'bench', now(), 'bench', 0, intDiv(k, 1000), toUInt32(k % 1000)
        FROM (
          SELECT number + ${start} AS k,
            ${T0} + intDiv(k * ${WINDOWS * HOUR}, ${ROWS}) AS ts,
            concat('s', toString(k % ${SEGMENTS})) AS seg,
            cityHash64(k, 1) % 100 < 20 AS label,
            ['a', 'b', 'c'][1 + (cityHash64(k, 2) % 7 = 0 ? 2 : cityHash64(k, 2) % 2)] AS sex,
            least(0.999, (cityHash64(k, 3) % 600) / 1000 + label * 0.3 + (sex = 'c') * 0.05) AS score,
            score >= 0.5 AS pred
          FROM numbers(${n})
        )
        ARRAY JOIN ['pred', 'label', 'score', 'sex'] AS col, ['numerical', 'numerical', 'numerical', 'categorical'] AS ctype,
          [toFloat64(pred), toFloat64(label), score, nan] AS nv, ['', '', '', sex] AS cv`,
    );
  }
  console.log(`loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const monitor: Monitor = {
  name: 'bench',
  model: { name: 'bench', version: '1' },
  task: 'binary',
  dataset,
  prediction_column: 'pred',
  label_column: 'label',
  score_column: 'score',
  positive_label: 1,
  sensitive_columns: ['sex'],
  window_ms: HOUR,
  min_group_size: 30,
  alerts: [],
};
const times: number[] = [];
let report;
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  report = await monitorReport(query, monitor);
  times.push(performance.now() - t0);
}
const ours = Math.min(...times) / 1000;
const groups = report!.windows.reduce((a, w) => a + w.segments.length, 0);
console.log(`Runstream: ${report!.windows.length} windows, ${groups} window × segment reports over ${ROWS} rows: best ${ours.toFixed(2)} s (runs: ${times.map((t) => (t / 1000).toFixed(2)).join(', ')} s)`);

if (process.env.BENCH_MONITOR_REFERENCE === '0') {
  await Promise.all([admin.close(), query.close()]);
  process.exit(0);
}
// The reference on the same rows: exported once, loaded into numpy, then only the computation timed.
await ensurePythonPackages([{ spec: 'scikit-learn==1.9.1', module: 'sklearn' }, { spec: 'fairlearn==0.15.0' }, { spec: 'pandas' }]);
const script = fileURLToPath(new URL('./monitor_reference.py', import.meta.url));
const exportSql = `SELECT any(timestamp_ms), any(segment), anyIf(num_value, column = 'pred'), anyIf(num_value, column = 'label'), anyIf(num_value, column = 'score'), anyIf(cat_value, column = 'sex')
  FROM dataset_rows_v2 WHERE dataset = '${dataset.replace(/'/g, '')}' GROUP BY src_offset, row_index FORMAT TabSeparated`;
const python = await new Promise<string>((resolve, reject) => {
  const child = spawn(PYTHON, [script], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, BENCH_EXPORT_SQL: exportSql, BENCH_WINDOW_MS: String(HOUR) } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`reference exited with ${code}`))));
  child.stdin.end();
});
const ref = JSON.parse(python) as { seconds: number; groups: number; rows: number };
const all = report!.windows[0]!.segments[0]!;
console.log(`scikit-learn + Fairlearn: ${ref.groups} window × segment reports over ${ref.rows} rows: ${ref.seconds.toFixed(2)} s (computation only, data already in numpy)`);
console.log(`first window, all segments: accuracy ${all.metrics.accuracy}, ROC AUC ${all.metrics.roc_auc}, demographic parity difference ${all.metrics['fairness.sex.demographic_parity_difference']}`);
console.log(`\n| report | Runstream (ClickHouse + TypeScript) | scikit-learn + Fairlearn |\n| --- | --- | --- |\n| ${ROWS} rows, ${WINDOWS} windows × ${SEGMENTS} segments | ${ours.toFixed(2)} s | ${ref.seconds.toFixed(2)} s |`);
await Promise.all([admin.close(), query.close()]);
