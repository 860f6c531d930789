// `npm run migrate`: applies pending migrations with the admin credentials from the environment — only while no
// ingest worker is consuming (see refuseWhileIngesting in local-stack.ts).
import { createLogger } from '@runstream/config';
import { applyMigrations } from './local-stack.ts';

const log = createLogger({ name: 'migrate' });
try {
  const applied = await applyMigrations(log, process.env, { refuseWhileIngesting: true });
  log.info({ applied, database: process.env.CLICKHOUSE_DATABASE ?? 'runstream' }, applied.length ? 'migrations applied' : 'schema is up to date');
} catch (err) {
  log.error({ err: (err as Error).message }, 'migration failed');
  process.exitCode = 1;
}
