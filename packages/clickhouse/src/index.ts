export * from './sql-literal.ts';
export * from './clickhouse-client.ts';
export * from './native-format.ts';
export * from './float-bits.ts';
export * from './metric-points-table.ts';
export * from './ingest-progress.ts';
export * from './metric-queries.ts';
export { migrate, loadMigrations, splitStatements, MIGRATIONS_DIR, type Migration } from './migrate.ts';
export * from './clickhouse-errors.ts';
