// The two most telling cluster faults inside `npm test`: a ClickHouse replica SIGKILLed during inserts (the worker
// moves to the other replica, replicated block deduplication absorbs the retry, the restarted replica catches up)
// and a whole shard down for 30 s (the other shard's partitions keep flowing, the lagging ones catch up). They kill
// servers, so they run on a private cluster started here on ports of its own (never the shared one); the other
// three cluster scenarios run with `npm run chaos:cluster`.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { createLogger } from '@runstream/config';
import type { ChaosContext } from './chaos-kit.ts';
import { replicaKill, shardDown } from './cluster-scenarios.ts';
import { PrivateCluster } from './private-cluster.ts';
import { CHAOS_LOG_DIR } from './private-stack.ts';
import { routeClickHouseClientLogs } from './runner.ts';
import { expectExact } from './expect-exact.ts';

let cluster: PrivateCluster | undefined;
let ctx: ChaosContext<PrivateCluster>;

beforeAll(async () => {
  mkdirSync(CHAOS_LOG_DIR, { recursive: true });
  routeClickHouseClientLogs(join(CHAOS_LOG_DIR, 'vitest-cluster-clickhouse.log'));
  const log = createLogger({ name: 'cluster-chaos-test', level: 'info', destination: createWriteStream(join(CHAOS_LOG_DIR, 'vitest-cluster-clients.log')) });
  cluster = await PrivateCluster.create(
    'vitest',
    { kafka: 33092, kafkaController: 33192, clickhouseHttp: 33123, clickhouseTcp: 33001, clickhouseInterserver: 33011, zookeeper: 34181 },
    log,
  );
  ctx = { stack: cluster, log, say: (msg) => log.info(msg) };
  try {
    await cluster.start();
  } catch (err) {
    // Servers that did start are stopped here too; afterAll finds nothing left to stop.
    await cluster.stop();
    throw err;
  }
}, 420_000);

afterAll(async () => {
  await cluster?.stop();
}, 180_000);

it('loses and duplicates nothing when the replica a shard is written on is SIGKILLed during inserts, and the restarted replica catches up', async () => {
  expectExact(await replicaKill.run(ctx));
}, 420_000);

it('loses and duplicates nothing when a whole shard is down 30 s, while the other shard keeps storing its partitions', async () => {
  expectExact(await shardDown.run(ctx));
}, 420_000);
