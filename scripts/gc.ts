// `npm run gc -- [--older-than 30d] [--experiment-ids a,b] [--run-ids x,y]`: permanently deletes soft-deleted runs
// and experiments, as `mlflow gc` does for SQL stores (services/query-service/src/gc/purge-job.ts). Uses the admin
// ClickHouse credentials (CLICKHOUSE_ADMIN_USER / _PASSWORD) and RUNSTREAM_ARTIFACT_DIR; logs progress every second.
import { parseArgs } from 'node:util';
import { clickhouseEnv, createLogger, loadEnv, logEnv, str, toClickHouseSettings } from '@runstream/config';
import { connectClickHouse } from '@runstream/clickhouse';
import { parseAge, PurgeRefused, PurgeRunner } from '../services/query-service/src/gc/purge-job.ts';

const log = createLogger({ name: 'gc', level: loadEnv({ level: logEnv.level }).level });
const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined);

let exitCode = 0;
try {
  const { values } = parseArgs({ options: { 'older-than': { type: 'string' }, 'experiment-ids': { type: 'string' }, 'run-ids': { type: 'string' } }, strict: true });
  const config = loadEnv({
    clickhouse: { name: '(clickhouse)', parse: () => toClickHouseSettings(loadEnv(clickhouseEnv)) },
    artifactRoot: str('RUNSTREAM_ARTIFACT_DIR', `${process.cwd()}/.data/artifacts`),
  });
  const ch = connectClickHouse(config.clickhouse, 'admin');
  try {
    const runner = new PurgeRunner({ ch, artifactRoot: config.artifactRoot, log });
    const olderThan = values['older-than'];
    const job = await runner.start(
      { olderThanMs: olderThan === undefined ? undefined : parseAge(olderThan), experimentIds: list(values['experiment-ids']), runIds: list(values['run-ids']) },
      process.env.USER ?? 'cli',
    );
    const timer = setInterval(() => {
      const s = runner.get(job.job_id)!;
      log.info({ jobId: s.job_id, state: s.state, partsToDo: s.tables.reduce((n, t) => n + t.parts_to_do, 0), tablesDone: s.tables.filter((t) => t.done).length, tables: s.tables.length }, 'gc progress');
    }, 1000);
    const end = await runner.finished(job.job_id)!;
    clearInterval(timer);
    const { maxRSS } = process.resourceUsage();
    log.info({ ...end, peakRssMiB: Math.round(maxRSS / 1024) }, end.state === 'done' ? 'gc done' : 'gc failed');
    if (end.state !== 'done') exitCode = 1;
  } finally {
    await ch.close();
  }
} catch (err) {
  log.error({ err: err instanceof PurgeRefused ? err.problems : (err as Error).message }, 'gc refused');
  exitCode = 2;
}
process.exitCode = exitCode;
