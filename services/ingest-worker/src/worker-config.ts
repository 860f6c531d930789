// Ingest worker configuration, validated once at start-up.
import { clickhouseEnv, int, kafkaEnv, loadEnv, logEnv, str, toClickHouseSettings, type ClickHouseSettings, type KafkaSettings } from '@runstream/config';

export interface WorkerConfig {
  kafka: KafkaSettings;
  clickhouse: ClickHouseSettings;
  logLevel: string;
  groupId: string;
  /** A flush happens when this many points are buffered… */
  batchMaxRows: number;
  /** …or when the oldest buffered point has waited this long. */
  batchLingerMs: number;
  caughtUpGapMs: number;
  concurrentPartitions: number;
  maxBytesPerPartition: number;
  /** Longest a flush may keep retrying before the worker gives up and exits (offsets stay uncommitted). */
  flushStallBudgetMs: number;
  /** A worker that dies without leaving the group holds its partitions this long (Kafka's minimum is 6 s). */
  sessionTimeoutMs: number;
  /** Prometheus /metrics (port 0 picks a free one). */
  metricsHost: string;
  metricsPort: number;
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const raw = loadEnv(
    {
      kafka: { name: '(kafka)', parse: () => loadEnv(kafkaEnv, env) },
      clickhouse: { name: '(clickhouse)', parse: () => toClickHouseSettings(loadEnv(clickhouseEnv, env)) },
      logLevel: logEnv.level,
      groupId: str('INGEST_GROUP_ID', 'runstream-ingest'),
      // One Native block is one atomic part; stay well under ClickHouse's max_insert_block_size (1,048,576).
      batchMaxRows: int('INGEST_BATCH_MAX_ROWS', 200_000, 1, 1_000_000),
      batchLingerMs: int('INGEST_BATCH_LINGER_MS', 250, 0, 60_000),
      caughtUpGapMs: int('INGEST_CAUGHT_UP_GAP_MS', 50, 0, 60_000),
      concurrentPartitions: int('INGEST_CONCURRENT_PARTITIONS', 16, 1, 1024),
      maxBytesPerPartition: int('INGEST_MAX_BYTES_PER_PARTITION', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      flushStallBudgetMs: int('INGEST_FLUSH_STALL_BUDGET_MS', 60_000, 1_000, 600_000),
      sessionTimeoutMs: int('INGEST_SESSION_TIMEOUT_MS', 15_000, 6_000, 300_000),
      metricsHost: str('INGEST_METRICS_HOST', '127.0.0.1'),
      metricsPort: int('INGEST_METRICS_PORT', 9464, 0, 65535),
    },
    env,
  );
  return raw;
}
