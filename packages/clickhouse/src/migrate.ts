// Applies numbered SQL migrations (migrations/NNNN_name.sql) in order and records each in schema_migrations.
// An applied file whose content changed is an error: migrations are history, fix forward with a new file.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from '@runstream/config';
import { command, queryRows, type ClickHouse } from './clickhouse-client.ts';
import { ident, sql } from './sql-literal.ts';

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
