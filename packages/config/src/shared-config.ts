// The settings every process shares: where Kafka and ClickHouse are, and the topic prefix.
import { int, list, oneOf, str, url, type EnvSpec, type EnvVar } from './env-schema.ts';

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
  /**
   * A sharded, replicated cluster (CLICKHOUSE_SHARDS): per shard, its replicas' URLs. Absent on a single server.
   * The services then read `database` (Distributed tables) and the worker writes `<database>_local` on each shard.
   */
  cluster?: { name: string; shards: string[][] };
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
  // "http://a:8123,http://b:8123;http://c:8123,http://d:8123": shards separated by ';', replicas by ','.
  shards: shardsSpec('CLICKHOUSE_SHARDS'),
  clusterName: str('CLICKHOUSE_CLUSTER', 'runstream'),
};

function shardsSpec(name: string): EnvVar<string[][]> {
  return {
    name,
    parse: (raw) => {
      if (raw === undefined || raw.trim() === '') return [];
      const shards = raw.split(';').map((shard) => shard.split(',').map((u) => u.trim()).filter(Boolean));
      for (const shard of shards) {
        if (shard.length === 0) throw new Error('every shard needs at least one replica URL');
        for (const u of shard) {
          let parsed: URL;
          try {
            parsed = new URL(u);
          } catch {
            throw new Error(`must list http(s) URLs, got ${JSON.stringify(u)}`);
          }
          if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`must list http(s) URLs, got ${JSON.stringify(u)}`);
          if (parsed.username || parsed.password) throw new Error('must not embed credentials; use the *_USER / *_PASSWORD variables');
        }
      }
      return shards;
    },
  };
}

export function toClickHouseSettings(raw: {
  url: string; database: string; adminUser: string; adminPassword: string; ingestUser: string;
  ingestPassword: string; queryUser: string; queryPassword: string; requestTimeoutMs: number;
  shards?: string[][]; clusterName?: string;
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
    ...(raw.shards && raw.shards.length > 0 ? { cluster: { name: raw.clusterName ?? 'runstream', shards: raw.shards } } : {}),
  };
}

export const logEnv = {
  level: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
};
