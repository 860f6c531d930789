// Query service configuration, validated once at start-up.
import { clickhouseEnv, int, kafkaEnv, list, loadEnv, logEnv, str, toClickHouseSettings, type ClickHouseSettings, type KafkaSettings } from '@runstream/config';
import { parseTokens, type ApiToken } from './auth.ts';
import { DEFAULT_GATE, type GateOptions } from './concurrency-gate.ts';

export interface ServiceConfig {
  kafka: KafkaSettings;
  clickhouse: ClickHouseSettings;
  logLevel: string;
  host: string;
  port: number;
  tokens: ApiToken[];
  queryTimeoutMs: number;
  /** How long a read waits for writes acknowledged before it to become readable before answering 503. */
  readYourWritesBudgetMs: number;
  /** The ingest worker's consumer group (its commits mark messages processed that stored no rows). */
  ingestGroupId: string;
  artifactRoot: string;
  rateLimit: { ratePerSec: number; burst: number };
  /** Admission control of data requests. */
  concurrency: GateOptions;
  /** Extra nodes /health names on a cluster (ZooKeeper servers, ingest workers' metrics endpoints). */
  zookeeperHosts: string[];
  workerMetricsUrls: string[];
  /** How often every monitor is evaluated (window metrics, alert rules); 0 = only on request. */
  monitorEvaluateIntervalMs: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const config = loadEnv<ServiceConfig>(
    {
      kafka: { name: '(kafka)', parse: () => loadEnv(kafkaEnv, env) },
      clickhouse: { name: '(clickhouse)', parse: () => toClickHouseSettings(loadEnv(clickhouseEnv, env)) },
      logLevel: logEnv.level,
      host: str('HOST', '127.0.0.1'),
      port: int('PORT', 8080, 0, 65535),
      tokens: { name: 'RUNSTREAM_API_TOKENS', secret: true, parse: (raw) => parseTokens(raw ?? '') },
      queryTimeoutMs: int('QUERY_TIMEOUT_MS', 10_000, 100, 600_000),
      readYourWritesBudgetMs: int('READ_YOUR_WRITES_BUDGET_MS', 10_000, 100, 600_000),
      ingestGroupId: str('INGEST_GROUP_ID', 'runstream-ingest'),
      zookeeperHosts: list('ZOOKEEPER_HOSTS', []),
      workerMetricsUrls: list('INGEST_WORKER_METRICS_URLS', []),
      monitorEvaluateIntervalMs: int('MONITOR_EVALUATE_INTERVAL_MS', 60_000, 0, 86_400_000),
      artifactRoot: str('RUNSTREAM_ARTIFACT_DIR', `${process.cwd()}/.data/artifacts`),
      rateLimit: {
        name: 'RATE_LIMIT_PER_SEC / RATE_LIMIT_BURST',
        parse: () => loadEnv({ ratePerSec: int('RATE_LIMIT_PER_SEC', 200, 1, 1_000_000), burst: int('RATE_LIMIT_BURST', 400, 1, 10_000_000) }, env),
      },
      concurrency: {
        name: 'QUERY_MAX_CONCURRENCY / QUERY_CALLER_SHARE_PCT / QUERY_WAIT_BUDGET_MS / QUERY_TARGET_LAG_MS',
        parse: () => {
          const c = loadEnv(
            {
              maxActive: int('QUERY_MAX_CONCURRENCY', DEFAULT_GATE.maxActive, 1, 10_000),
              sharePct: int('QUERY_CALLER_SHARE_PCT', Math.round(DEFAULT_GATE.callerShare * 100), 1, 100),
              waitBudgetMs: int('QUERY_WAIT_BUDGET_MS', DEFAULT_GATE.waitBudgetMs, 10, 600_000),
              targetLagMs: int('QUERY_TARGET_LAG_MS', DEFAULT_GATE.targetLagMs!, 0, 60_000),
            },
            env,
          );
          return { ...DEFAULT_GATE, maxActive: c.maxActive, callerShare: c.sharePct / 100, waitBudgetMs: c.waitBudgetMs, queueTimeoutMs: 3 * c.waitBudgetMs, targetLagMs: c.targetLagMs };
        },
      },
    },
    env,
  );
  // Secure by default: without tokens the API is open, which is only acceptable on this machine.
  if (config.tokens.length === 0 && !LOOPBACK.has(config.host)) {
    throw new Error(`refusing to listen on ${config.host} without API tokens: set RUNSTREAM_API_TOKENS or HOST=127.0.0.1`);
  }
  return config;
}
