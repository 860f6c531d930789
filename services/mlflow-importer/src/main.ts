// `npm run import:mlflow -- --from http://127.0.0.1:5000 [--experiment NAME …] [--token T] [--dry-run]`
// Progress and the readable summary go to stderr; stdout gets one JSON line with the summary (for scripts).
import { clickhouseEnv, createLogger, int, kafkaEnv, loadEnv, oneOf, str, toClickHouseSettings } from '@runstream/config';
import { connectClickHouse, type ClickHouse } from '@runstream/clickhouse';
import { createKafkaBus, topicNames, type Admin, type Producer } from '@runstream/kafka';
import { ReadFence, TrackingWriter } from '@runstream/tracking';
import { parseCliArgs, USAGE, UsageError } from './cli-args.ts';
import { MlflowImporter, UnknownExperimentError, type ImportSummary } from './importer.ts';
import { MlflowRestClient } from './mlflow-rest-client.ts';
import { fmt, Progress } from './progress.ts';
import { waitUntilIngested } from './runstream-state.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function fail(code: number, message: string): never {
  process.stderr.write(`mlflow-importer: ${message}\n`);
  if (code === EXIT_USAGE) process.stderr.write(`\n${USAGE}\n`);
  process.exit(code);
}

let cli;
let config;
try {
  cli = parseCliArgs(process.argv.slice(2));
  config = loadEnv({
    kafka: { name: '(kafka)', parse: () => loadEnv(kafkaEnv) },
    clickhouse: { name: '(clickhouse)', parse: () => toClickHouseSettings(loadEnv(clickhouseEnv)) },
    // A CLI: only warnings and errors by default, so the progress stays readable.
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'warn'),
    ingestGroupId: str('INGEST_GROUP_ID', 'runstream-ingest'),
    visibilityTimeoutMs: int('IMPORT_VISIBILITY_TIMEOUT_MS', 60_000, 100, 3_600_000),
    catchUpTimeoutMs: int('IMPORT_CATCH_UP_TIMEOUT_MS', 120_000, 100, 3_600_000),
    progressIntervalMs: int('IMPORT_PROGRESS_INTERVAL_MS', 0, 0, 3_600_000),
    pointsPerMessage: int('IMPORT_POINTS_PER_MESSAGE', 10_000, 1, 10_000),
    // MLflow's own client variables, with the same meaning.
    httpRetries: int('MLFLOW_HTTP_REQUEST_MAX_RETRIES', 5, 0, 20),
    httpTimeoutS: int('MLFLOW_HTTP_REQUEST_TIMEOUT', 120, 1, 3_600),
    username: str('MLFLOW_TRACKING_USERNAME', ''),
    password: str('MLFLOW_TRACKING_PASSWORD', '', { secret: true }),
  });
} catch (err) {
  fail(EXIT_USAGE, (err as Error).message);
}
if (cli.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(EXIT_OK);
}

const log = createLogger({ name: 'mlflow-importer', level: config.logLevel, destination: { write: (s: string) => void process.stderr.write(s) } });
const tty = Boolean(process.stderr.isTTY);
const progress = new Progress({ sink: process.stderr, tty, ...(config.progressIntervalMs > 0 ? { intervalMs: config.progressIntervalMs } : {}) });
const source = new MlflowRestClient({
  baseUrl: cli.from,
  token: cli.token,
  username: config.username,
  password: config.password,
  retries: config.httpRetries,
  timeoutMs: config.httpTimeoutS * 1000,
  onRetry: (r) => log.warn({ call: r.call, attempt: r.attempt, delayMs: r.delayMs, reason: r.reason }, 'MLflow call failed; retrying'),
});

let ch: ClickHouse | undefined;
let admin: Admin | undefined;
let producer: Producer | undefined;
let importer: MlflowImporter | undefined;
let code = EXIT_OK;

// First Ctrl-C: finish the messages in flight and print the summary. Second: leave at once. Either way nothing is
// lost or doubled: a re-run counts what is stored and continues from there.
let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!importer || ++interrupts > 1) process.exit(EXIT_FAILED);
    process.stderr.write('\nstopping after the messages in flight (again to quit now; a re-run continues where this one stopped)…\n');
    importer.requestStop();
  });
}

try {
  ch = connectClickHouse(config.clickhouse, 'ingest');
  const topics = topicNames(config.kafka.topicPrefix);
  let writer: TrackingWriter | null = null;
  if (!cli.dryRun) {
    const bus = createKafkaBus(config.kafka, log);
    admin = await bus.admin();
    for (const topic of [topics.metrics, topics.tracking]) await admin.ensureTopic(topic, config.kafka.topicPartitions);
    // Count only after everything already in the topics is stored (see runstream-state.ts).
    await waitUntilIngested(admin, ch, [topics.metrics, topics.tracking], config.ingestGroupId, {
      timeoutMs: config.catchUpTimeoutMs,
      onWait: (pending) => process.stderr.write(`waiting for the ingest worker to store writes in flight (${pending.length} partition(s))…\n`),
    });
    producer = await bus.producer({ idempotent: true });
    // The importer reads its own writes back at once (idempotent resume), so each write waits until it is stored.
    const fence = new ReadFence({ admin, partitionOf: bus.partitionOf, ch, ingestGroupId: config.ingestGroupId, budgetMs: config.visibilityTimeoutMs });
    writer = new TrackingWriter({ producer, topics, waitStored: fence });
  }
  importer = new MlflowImporter(
    { source, ch, writer, log, progress },
    { experiments: cli.experiments, dryRun: cli.dryRun, concurrency: cli.concurrency, maxPointsPerRun: cli.maxPointsPerRun, maxPointsPerMessage: config.pointsPerMessage, producerName: `mlflow-importer:${cli.from}` },
  );
  const summary = await importer.run();
  printSummary(summary);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (summary.interrupted) code = EXIT_FAILED;
} catch (err) {
  if (importer) process.stdout.write(`${JSON.stringify({ ...importer.summary, failed: (err as Error).message })}\n`);
  if (err instanceof UnknownExperimentError) code = EXIT_USAGE;
  else code = EXIT_FAILED;
  log.debug({ err }, 'import failed');
  process.stderr.write(`mlflow-importer: import failed: ${(err as Error).message}\n`);
  if (code === EXIT_FAILED) process.stderr.write('nothing is written twice: run the same command again to continue.\n');
} finally {
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), ch?.close()]);
}
process.exit(code);

function printSummary(s: ImportSummary): void {
  const w = (line: string) => process.stderr.write(`${line}\n`);
  const would = s.dryRun ? ' (dry run: nothing written)' : '';
  w(`\nMLflow import from ${s.source}${would}${s.interrupted ? ' — INTERRUPTED, run again to continue' : ''}`);
  w(`  experiments   ${s.experiments.total} (${s.experiments.created} created, ${s.experiments.existing} already present)`);
  for (const e of s.experiments.list.filter((x) => x.mapping)) w(`                ${e.mapping}`);
  w(`  runs          ${s.runs.total}: ${s.runs.created} created, ${s.runs.updated} updated, ${s.runs.unchanged} unchanged`);
  w(`  params        ${fmt(s.params.logged)} logged, ${fmt(s.params.present)} already present`);
  w(`  tags          ${fmt(s.tags.set)} set, ${fmt(s.tags.present)} already present`);
  w(`  metric points ${fmt(s.metrics.sent)} sent in ${fmt(s.metrics.messages)} messages, ${fmt(s.metrics.alreadyPresent)} skipped as already present (${fmt(s.metrics.sourcePoints)} in ${fmt(s.metrics.keys)} histories)`);
  if (s.metrics.deferred > 0) w(`                ${fmt(s.metrics.deferred)} held back by --max-points-per-run`);
  if (s.metrics.invalid > 0) w(`  unstorable    ${fmt(s.metrics.invalid)} points in ${s.invalidPoints.length} histories (not imported; see above)`);
  w(`  conflicts     ${s.conflicts.length}${s.conflicts.length > 0 ? ' (see above; Runstream kept its values)' : ''}`);
  w(`  time          ${(s.elapsedMs / 1000).toFixed(1)} s, ${fmt(s.pointsPerSecond)} points/s (reading MLflow histories ${(s.time.readingHistoriesMs / 1000).toFixed(1)} s, writing until stored ${(s.time.writingMs / 1000).toFixed(1)} s, summed over runs)`);
}
