// `npm run retention`: applies the retention policy (packages/clickhouse/src/retention.ts) with the admin
// credentials — drops expired ingest-month partitions on ClickHouse 18.16 (run it daily, e.g. from cron), sets the
// tables' TTL on ClickHouse 19.6+ (once per policy change). The policy is validated before anything runs.
import { ConfigError, clickhouseEnv, createLogger, int, loadEnv, logEnv, toClickHouseSettings } from '@runstream/config';
import { applyRetention, connectClickHouse, retentionProblems } from '@runstream/clickhouse';

const log = createLogger({ name: 'retention', level: loadEnv({ level: logEnv.level }).level });
try {
  const config = loadEnv({
    clickhouse: { name: '(clickhouse)', parse: () => toClickHouseSettings(loadEnv(clickhouseEnv)) },
    metricPointsDays: int('RETENTION_METRIC_POINTS_DAYS', 0, 0, 36_500),
    metricRollupsDays: int('RETENTION_METRIC_ROLLUPS_DAYS', 0, 0, 36_500),
  });
  const policy = { metricPointsDays: config.metricPointsDays, metricRollupsDays: config.metricRollupsDays };
  const problems = retentionProblems(policy);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `RETENTION_METRIC_*_DAYS: ${p}`));
  const ch = connectClickHouse(config.clickhouse, 'admin');
  try {
    const outcome = await applyRetention(ch, policy, Date.now());
    log.info({ policy, outcome }, 'retention applied');
  } finally {
    await ch.close();
  }
} catch (err) {
  log.error({ err: (err as Error).message }, 'retention not applied');
  process.exitCode = 1;
}
