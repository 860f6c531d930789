// Integration tests run against the real local stack (deploy/local): started here if not running, with the
// migrations applied to a database of their own so tests never touch the data of `npm start`; and against the
// loopback cluster's servers (deploy/cluster), started here too.
import { createLogger } from '@runstream/config';
import { spawnSync } from 'node:child_process';
import { applyMigrations, REPO_ROOT, startLocalStack } from '../../scripts/local-stack.ts';

export default async function setup(): Promise<void> {
  const log = createLogger({ name: 'test-setup', level: 'warn' });
  process.env.CLICKHOUSE_DATABASE ??= 'runstream_test';
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  startLocalStack(log);
  await applyMigrations(log);
  // The loopback cluster's servers (deploy/cluster) for the tests that compare it with one server; its services are
  // started by those tests. RUNSTREAM_TEST_CLUSTER=0 skips it (those tests then fail: they need it).
  if (process.env.RUNSTREAM_TEST_CLUSTER !== '0') {
    const r = spawnSync('bash', [`${REPO_ROOT}/deploy/cluster/servers.sh`, 'start'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`deploy/cluster/servers.sh start failed with exit code ${r.status}`);
  }
}
