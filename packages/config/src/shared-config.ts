// The settings every process shares: where Kafka and ClickHouse are, and the topic prefix.
import { int, list, oneOf, str, url, type EnvSpec } from './env-schema.ts';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  topicPrefix: string;
  topicPartitions: number;
  saslUsername: string;
  saslPassword: string;
}

export interface ClickHouseCredentials {
  user: string;
  password: string;
}

export interface ClickHouseSettings {
  url: string;
  database: string;
  /** Owner of the schema: runs migrations only. */
  admin: ClickHouseCredentials;
  /** Ingest worker: INSERT into the data tables, SELECT its own progress. */
  ingest: ClickHouseCredentials;
  /** Query service: read-only. */
  query: ClickHouseCredentials;
  requestTimeoutMs: number;
}

export const kafkaEnv: EnvSpec<KafkaSettings> = {
  brokers: list('KAFKA_BROKERS', ['127.0.0.1:19092']),
  clientId: str('KAFKA_CLIENT_ID', 'runstream'),
  topicPrefix: str('KAFKA_TOPIC_PREFIX', 'runstream.'),
  topicPartitions: int('KAFKA_TOPIC_PARTITIONS', 6, 1, 10_000),
  saslUsername: str('KAFKA_SASL_USERNAME', ''),
  saslPassword: str('KAFKA_SASL_PASSWORD', '', { secret: true }),
};

function creds(role: string, user: string, password: string) {
  return {
    user: str(`CLICKHOUSE_${role}_USER`, user),
    password: str(`CLICKHOUSE_${role}_PASSWORD`, password, { secret: true }),
  };
}

// ClickHouse credentials are per role so each process holds only the privileges it needs.
const admin = creds('ADMIN', 'default', '');
const ingest = creds('INGEST', 'runstream_ingest', 'ingest_local');
const query = creds('QUERY', 'runstream_query', 'query_local');

export const clickhouseEnv = {
  url: url('CLICKHOUSE_URL', 'http://127.0.0.1:18123'),
  database: str('CLICKHOUSE_DATABASE', 'runstream'),
  adminUser: admin.user,
  adminPassword: admin.password,
  ingestUser: ingest.user,
  ingestPassword: ingest.password,
  queryUser: query.user,
  queryPassword: query.password,
  requestTimeoutMs: int('CLICKHOUSE_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
};

export function toClickHouseSettings(raw: {
  url: string; database: string; adminUser: string; adminPassword: string; ingestUser: string;
  ingestPassword: string; queryUser: string; queryPassword: string; requestTimeoutMs: number;
}): ClickHouseSettings {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.database)) {
    throw new Error(`CLICKHOUSE_DATABASE must be a plain identifier, got ${JSON.stringify(raw.database)}`);
  }
  return {
    url: raw.url,
    database: raw.database,
    admin: { user: raw.adminUser, password: raw.adminPassword },
    ingest: { user: raw.ingestUser, password: raw.ingestPassword },
    query: { user: raw.queryUser, password: raw.queryPassword },
    requestTimeoutMs: raw.requestTimeoutMs,
  };
}

export const logEnv = {
  level: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
};
