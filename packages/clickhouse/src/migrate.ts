// Applies numbered SQL migrations (migrations/NNNN_name.sql) in order and records each in schema_migrations.
// An applied file whose content changed is an error: migrations are history, fix forward with a new file.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from '@runstream/config';
import { command, queryRows, type ClickHouse } from './clickhouse-client.ts';
import { ident, sql } from './sql-literal.ts';
import { clusterStatements, ClusterSchemaState, type ClusterNames } from './cluster-schema.ts';

export const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

/** Splits a migration file into statements: a statement ends with ';' at the end of a line. Comments are dropped. */
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function loadMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new Error(`migration file ${file} must be named NNNN_snake_name.sql`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`two migrations share version ${version}`);
    seen.add(version);
    const text = readFileSync(new URL(file, dir), 'utf8');
    return { version, name: m[2]!, checksum: createHash('sha256').update(text).digest('hex'), statements: splitStatements(text) };
  });
}

/** Creates the database and the bookkeeping table, then applies what is missing. Returns the versions applied. */
export async function migrate(
  admin: ClickHouse,
  serverLevel: ClickHouse,
  log: Logger,
  migrations: Migration[] = loadMigrations(),
  opts: { beforeApplying?: (pending: Migration[]) => Promise<void> } = {},
): Promise<number[]> {
  await command(serverLevel, sql`CREATE DATABASE IF NOT EXISTS ${ident(admin.database)}`);
  await command(
    admin,
    `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = MergeTree() ORDER BY version`,
  );
  const applied = new Map(
    (await queryRows<{ version: number; checksum: string }>(admin, sql`SELECT version, checksum FROM schema_migrations`)).map((r) => [Number(r.version), r.checksum]),
  );
  const pending = migrations.filter((m) => !applied.has(m.version));
  if (pending.length > 0 && opts.beforeApplying) await opts.beforeApplying(pending);
  const done: number[] = [];
  for (const m of migrations) {
    const previous = applied.get(m.version);
    if (previous !== undefined) {
      if (previous !== m.checksum) throw new Error(`migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`);
      continue;
    }
    log.info({ version: m.version, name: m.name }, 'applying migration');
    for (const statement of m.statements) await command(admin, statement);
    await command(admin, sql`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (${m.version}, ${m.name}, ${m.checksum}, now())`);
    done.push(m.version);
  }
  return done;
}

/**
 * The cluster form of `migrate`: every migration, transformed by cluster-schema.ts, applied server by server. Every
 * server must be up (a schema that differs between replicas is worse than waiting). Each server records the
 * versions it has in <database>_local.schema_migrations; a migration counts as applied once every server has it.
 */
export async function migrateCluster(
  /** Every server of the cluster with its shard number; `at(database)` is an admin connection using that database. */
  servers: { shard: number; at: (database: string) => ClickHouse }[],
  names: ClusterNames,
  log: Logger,
  migrations: Migration[] = loadMigrations(),
  opts: { beforeApplying?: (pending: Migration[]) => Promise<void> } = {},
): Promise<number[]> {
  const local = names.localDatabase;
  for (const s of servers) {
    await command(s.at('default'), sql`CREATE DATABASE IF NOT EXISTS ${ident(names.database)}`);
    await command(s.at('default'), sql`CREATE DATABASE IF NOT EXISTS ${ident(local)}`);
    await command(
      s.at('default'),
      `CREATE TABLE IF NOT EXISTS ${ident(local).text}.schema_migrations (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = MergeTree() ORDER BY version`,
    );
  }
  const appliedOn = await Promise.all(
    servers.map(async (s) => new Map((await queryRows<{ version: number; checksum: string }>(s.at('default'), sql`SELECT version, checksum FROM ${ident(local)}.schema_migrations`)).map((r) => [Number(r.version), r.checksum]))),
  );
  const everywhere = (v: number) => appliedOn.every((a) => a.has(v));
  const pending = migrations.filter((m) => !everywhere(m.version));
  if (pending.length > 0 && opts.beforeApplying) await opts.beforeApplying(pending);
  const state = new ClusterSchemaState();
  const firstOfShard = new Set<number>();
  const seenShards = new Set<number>();
  servers.forEach((s, i) => {
    if (!seenShards.has(s.shard)) firstOfShard.add(i);
    seenShards.add(s.shard);
  });
  const done: number[] = [];
  for (const m of migrations) {
    for (const a of appliedOn) {
      const previous = a.get(m.version);
      if (previous !== undefined && previous !== m.checksum) throw new Error(`migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`);
    }
    // Transformed even when applied: later statements depend on what earlier ones created.
    const statements = m.statements.flatMap((st) => clusterStatements(st, m.version, names, state));
    if (everywhere(m.version)) continue;
    log.info({ version: m.version, name: m.name, servers: servers.length }, 'applying migration to the cluster');
    for (const st of statements) {
      for (const [i, s] of servers.entries()) {
        if (st.scope === 'one-replica-per-shard' && !firstOfShard.has(i)) continue;
        // Backfills and other replicated writes run on a server that did not record the migration yet only once.
        if (st.scope === 'one-replica-per-shard' && appliedOn.some((a, j) => a.has(m.version) && servers[j]!.shard === s.shard)) continue;
        await command(s.at(st.database), st.text);
      }
    }
    for (const [i, s] of servers.entries()) {
      if (appliedOn[i]!.has(m.version)) continue;
      await command(s.at('default'), sql`INSERT INTO ${ident(local)}.schema_migrations (version, name, checksum, applied_at) VALUES (${m.version}, ${m.name}, ${m.checksum}, now())`);
    }
    done.push(m.version);
  }
  return done;
}
