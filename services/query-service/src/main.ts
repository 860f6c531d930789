// Entry point of the query service process.
import { createLogger } from '@runstream/config';
import { connectClickHouse, connectReplicas } from '@runstream/clickhouse';
import { createKafkaBus, topicNames } from '@runstream/kafka';
import { buildService } from './build-service.ts';
import { serviceHealthChecks } from './health-checks.ts';
import { ReadFence, TrackingWriter } from '@runstream/tracking';
import { loadServiceConfig } from './service-config.ts';
import { PurgeRunner } from './gc/purge-job.ts';

let config;
try {
  config = loadServiceConfig();
} catch (err) {
  createLogger({ name: 'query-service' }).fatal((err as Error).message);
  process.exit(2);
}
const log = createLogger({ name: 'query-service', level: config.logLevel });
const readOpts = { maxExecutionSeconds: Math.ceil(config.queryTimeoutMs / 1000) };
// On a cluster, reads go through the Distributed tables of any healthy server (they fan out to every shard).
const cluster = config.clickhouse.cluster;
const ch = cluster ? connectReplicas(config.clickhouse, 'query', cluster.shards.flat(), readOpts) : connectClickHouse(config.clickhouse, 'query', readOpts);
// gc deletes with ALTER TABLE … DELETE, which the read-only query user may not run: it has its own admin connection.
const adminCh = connectClickHouse(config.clickhouse, 'admin');
const bus = createKafkaBus(config.kafka, log);
const admin = await bus.admin();
const topics = topicNames(config.kafka.topicPrefix);
for (const topic of [topics.metrics, topics.tracking]) await admin.ensureTopic(topic, config.kafka.topicPartitions);
const producer = await bus.producer({ idempotent: true });
const fence = new ReadFence({ admin, partitionOf: bus.partitionOf, ch, ingestGroupId: config.ingestGroupId, budgetMs: config.readYourWritesBudgetMs });
const app = await buildService({
  log,
  ch,
  tokens: config.tokens,
  writer: new TrackingWriter({ producer, topics }),
  fence,
  artifactRoot: config.artifactRoot,
  purge: new PurgeRunner({ ch: adminCh, artifactRoot: config.artifactRoot, log }),
  rateLimit: config.rateLimit,
  concurrency: config.concurrency,
  requestTimeoutMs: config.queryTimeoutMs + 5_000,
  monitorEvaluateIntervalMs: config.monitorEvaluateIntervalMs,
  health: serviceHealthChecks(
    ch,
    admin,
    [topics.metrics, topics.tracking],
    cluster ? { kafkaBrokers: config.kafka.brokers, zookeeper: config.zookeeperHosts, clickhouse: cluster.shards.flat(), workers: config.workerMetricsUrls } : undefined,
  ),
});

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await app.close();
  await Promise.allSettled([admin.disconnect(), producer.disconnect(), ch.close(), adminCh.close()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ host: config.host, port: config.port });
log.info({ url: `http://${config.host}:${app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : config.port}`, auth: config.tokens.length > 0 ? 'bearer tokens' : 'open (loopback only)' }, 'query service listening');
