// Starts the local Kafka + ClickHouse (deploy/local) unless the environment points at existing servers,
// and applies the migrations. Shared by `npm start`, the test setup and the benchmarks.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { clickhouseEnv, createLogger, loadEnv, toClickHouseSettings, type Logger } from '@runstream/config';
import { connectClickHouse, migrate, queryRows, sql } from '@runstream/clickhouse';

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

export async function applyMigrations(log: Logger = createLogger({ name: 'migrate' }), env: NodeJS.ProcessEnv = process.env): Promise<number[]> {
  const settings = toClickHouseSettings(loadEnv(clickhouseEnv, env));
  const admin = connectClickHouse(settings, 'admin');
  const server = connectClickHouse(settings, 'admin', { database: 'default' });
  try {
    return await migrate(admin, server, log);
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
      await queryRows(ch, sql`SELECT 1 FROM metric_points_v1 LIMIT 1`);
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
