// Integration tests run against the real local stack (deploy/local): started here if not running, with the
// migrations applied to a database of their own so tests never touch the data of `npm start`.
import { createLogger } from '@runstream/config';
import { applyMigrations, startLocalStack } from '../../scripts/local-stack.ts';

export default async function setup(): Promise<void> {
  const log = createLogger({ name: 'test-setup', level: 'warn' });
  process.env.CLICKHOUSE_DATABASE ??= 'runstream_test';
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  startLocalStack(log);
  await applyMigrations(log);
}
