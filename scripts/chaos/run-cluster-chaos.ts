// `npm run chaos:cluster`: the fault scenarios of the cluster (test/chaos/cluster-scenarios.ts) on a private loopback
// cluster — ZooKeeper, three Kafka brokers, 2 shards x 2 ClickHouse replicas on ports of its own (never the shared
// cluster of `npm run cluster:start`) — then the same report as `npm run chaos`, with each scenario's time to
// recover. Exits non-zero if any point was lost or duplicated or a scenario failed otherwise.
//
//   npm run chaos:cluster                                  # all five scenarios (about 10 minutes)
//   npm run chaos:cluster -- replica-kill shard-down       # only these
//   CHAOS_KEEP_DATA=1 npm run chaos:cluster                # keep the private cluster's data dir for inspection
import { CLUSTER_SCENARIOS } from '../../test/chaos/cluster-scenarios.ts';
import { PrivateCluster } from '../../test/chaos/private-cluster.ts';
import { chaosLogger, runChaos, selectScenarios } from '../../test/chaos/runner.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const scenarios = selectScenarios(CLUSTER_SCENARIOS, process.argv.slice(2));
const { log, say, clientLogFile } = chaosLogger();
const cluster = await PrivateCluster.create(
  'run',
  { kafka: 31092, kafkaController: 31192, clickhouseHttp: 31123, clickhouseTcp: 31001, clickhouseInterserver: 31011, zookeeper: 32181 },
  log,
);
await runChaos({
  stack: cluster,
  start: () => cluster.start(),
  describe: `private cluster: Kafka ${cluster.services.KAFKA_BROKERS}, ClickHouse ${cluster.services.CLICKHOUSE_SHARDS!.replaceAll('http://127.0.0.1', '')}, ZooKeeper ${cluster.services.ZOOKEEPER_HOSTS}`,
  scenarios,
  log,
  say,
  clientLogFile,
});
