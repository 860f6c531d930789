// Starts the local Kafka + ClickHouse (deploy/local) unless the environment points at existing servers,
// and applies the migrations. Shared by `npm start`, the test setup and the benchmarks.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clickhouseEnv, createLogger, kafkaEnv, loadEnv, str, toClickHouseSettings, type Logger } from '@runstream/config';
import { connectClickHouse, localDatabaseOf, migrate, migrateCluster, queryRows, sql, type ClickHouse, type Migration } from '@runstream/clickhouse';
import { createKafkaBus } from '@runstream/kafka';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** True when the user pointed us at their own servers: then we start nothing. */
export function usesExternalServers(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KAFKA_BROKERS && env.CLICKHOUSE_URL);
}

function running(server: 'kafka' | 'clickhouse'): boolean {
  return spawnSync('bash', [`${REPO_ROOT}/deploy/local/${server}.sh`, 'status'], { stdio: 'ignore' }).status === 0;
}

/** Starts what is not running; returns true if it started anything (then the caller should stop it at the end). */
export function startLocalStack(log: Logger): boolean {
  if (usesExternalServers()) {
    log.info({ kafka: process.env.KAFKA_BROKERS, clickhouse: process.env.CLICKHOUSE_URL }, 'using existing servers from KAFKA_BROKERS / CLICKHOUSE_URL');
    return false;
  }
  const wasRunning = running('kafka') && running('clickhouse');
  const r = spawnSync('bash', [`${REPO_ROOT}/deploy/local/start.sh`], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`deploy/local/start.sh failed with exit code ${r.status}`);
  // start.sh prints the connection settings as `export NAME=value` lines.
  for (const line of r.stdout.split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return !wasRunning;
}

export function stopLocalStack(): void {
  spawnSync('bash', [`${REPO_ROOT}/deploy/local/stop.sh`], { stdio: 'inherit' });
}

export async function applyMigrations(log: Logger = createLogger({ name: 'migrate' }), env: NodeJS.ProcessEnv = process.env, opts: { refuseWhileIngesting?: boolean } = {}): Promise<number[]> {
  const settings = toClickHouseSettings(loadEnv(clickhouseEnv, env));
  const beforeApplying = opts.refuseWhileIngesting ? { beforeApplying: (pending: Migration[]) => refuseWhileIngesting(pending, log, env) } : {};
  if (settings.cluster) {
    const handles: ClickHouse[] = [];
    const servers = settings.cluster.shards.flatMap((urls, s) =>
      urls.map((url) => {
        const byDb = new Map<string, ClickHouse>();
        const at = (database: string) => {
          let h = byDb.get(database);
          if (!h) byDb.set(database, (h = connectClickHouse({ ...settings, url }, 'admin', { database })));
          handles.push(h);
          return h;
        };
        return { shard: s + 1, at };
      }),
    );
    try {
      return await migrateCluster(servers, { cluster: settings.cluster.name, database: settings.database, localDatabase: localDatabaseOf(settings.database) }, log, undefined, beforeApplying);
    } finally {
      await Promise.all([...new Set(handles)].map((h) => h.close()));
    }
  }
  const admin = connectClickHouse(settings, 'admin');
  const server = connectClickHouse(settings, 'admin', { database: 'default' });
  try {
    return await migrate(admin, server, log, undefined, beforeApplying);
  } finally {
    await Promise.all([admin.close(), server.close()]);
  }
}

/**
 * Refuses to go on when a role's ClickHouse user cannot read the configured database (servers set up for other
 * settings, e.g. users rendered for another database or other passwords): every request would fail later, so say
 * why now.
 */
export async function checkRoleAccess(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = toClickHouseSettings(loadEnv(clickhouseEnv, env));
  const problems: string[] = [];
  for (const role of ['ingest', 'query'] as const) {
    const ch = connectClickHouse(settings, role);
    try {
      await queryRows(ch, sql`SELECT 1 FROM metric_points_v2 LIMIT 1`);
    } catch (err) {
      problems.push(`${role} user ${settings[role].user}: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      await ch.close();
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `ClickHouse at ${settings.url} does not let this configuration use database ${settings.database} (${problems.join('; ')}). ` +
        'For the local stack, deploy/local/clickhouse.sh start re-renders its users for the configured database; for your own servers, grant the users access (deploy/clickhouse/grants.sql).',
    );
  }
}

/**
 * Migrations add and recreate materialized views and backfill from tables the worker writes to: an insert running
 * meanwhile can be counted twice (between a view's creation and its backfill) or leave no progress (while the
 * progress view is recreated). So pending migrations are applied only while the ingest consumer group has no
 * members — unless RUNSTREAM_MIGRATE_WITH_WORKERS=1 says the operator accepts that.
 */
async function refuseWhileIngesting(pending: Migration[], log: Logger, env: NodeJS.ProcessEnv): Promise<void> {
  const groupId = loadEnv({ groupId: str('INGEST_GROUP_ID', 'runstream-ingest') }, env).groupId;
  const admin = await createKafkaBus(loadEnv(kafkaEnv, env), log).admin();
  let members: number;
  try {
    members = await admin.groupMembers(groupId);
  } finally {
    await admin.disconnect();
  }
  if (members === 0) return;
  const names = pending.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`).join(', ');
  if (env.RUNSTREAM_MIGRATE_WITH_WORKERS === '1') {
    log.warn({ groupId, members, pending: names }, 'applying migrations while ingest workers run (RUNSTREAM_MIGRATE_WITH_WORKERS=1)');
    return;
  }
  throw new Error(
    `${pending.length} pending migration(s) (${names}) not applied: the ingest consumer group '${groupId}' has ${members} active member(s). ` +
      'Stop the ingest workers first (a migration that adds or recreates a view while inserts run can count rows twice or lose progress), ' +
      'or set RUNSTREAM_MIGRATE_WITH_WORKERS=1 to apply them anyway.',
  );
}
