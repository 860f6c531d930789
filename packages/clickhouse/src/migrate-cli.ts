// `npm run migrate`: applies pending migrations with the admin credentials from the environment.
import { clickhouseEnv, createLogger, loadEnv, toClickHouseSettings } from '@runstream/config';
import { connectClickHouse } from './clickhouse-client.ts';
import { migrate } from './migrate.ts';

const log = createLogger({ name: 'migrate' });
try {
  const settings = toClickHouseSettings(loadEnv(clickhouseEnv));
  const admin = connectClickHouse(settings, 'admin');
  const server = connectClickHouse(settings, 'admin', { database: 'default' });
  try {
    const applied = await migrate(admin, server, log);
    log.info({ applied, database: settings.database }, applied.length ? 'migrations applied' : 'schema is up to date');
  } finally {
    await Promise.all([admin.close(), server.close()]);
  }
} catch (err) {
  log.error({ err }, 'migration failed');
  process.exitCode = 1;
}
