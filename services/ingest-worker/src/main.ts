// Entry point of the ingest worker process.
import { createLogger } from '@runstream/config';
import { connectClickHouse, connectReplicas, localDatabaseOf, type ClickHouse } from '@runstream/clickhouse';
import { createKafkaBus, deadLetterTopicOf, topicNames } from '@runstream/kafka';
import { IngestWorker } from './ingest-worker.ts';
import { datasetsPipeline, metricsPipeline, trackingPipeline } from './pipelines.ts';
import { WorkerMetrics } from './worker-metrics.ts';
import { loadWorkerConfig } from './worker-config.ts';

const bootLog = createLogger({ name: 'ingest-worker' });
let config;
try {
  config = loadWorkerConfig();
} catch (err) {
  bootLog.fatal((err as Error).message);
  process.exit(2);
}
const log = createLogger({ name: 'ingest-worker', level: config.logLevel });
const topics = topicNames(config.kafka.topicPrefix);
const bus = createKafkaBus(config.kafka, log);
const admin = await bus.admin();
for (const topic of [topics.metrics, topics.metricsDeadLetter, topics.tracking, topics.trackingDeadLetter, topics.datasets, topics.datasetsDeadLetter]) {
  await admin.ensureTopic(topic, config.kafka.topicPartitions);
}
await admin.disconnect();

// On a cluster, each shard is written on one of its replicas, in the shard-local database (see README: "Cluster").
const cluster = config.clickhouse.cluster;
const shardChs: ClickHouse[] = cluster
  ? cluster.shards.map((urls) => connectReplicas(config.clickhouse, 'ingest', urls, { database: localDatabaseOf(config.clickhouse.database) }))
  : [connectClickHouse(config.clickhouse, 'ingest')];
const ch = shardChs[0]!;
const dlqProducer = await bus.producer({ idempotent: true });
const consumer = await bus.consumer({
  groupId: config.groupId,
  topics: [topics.metrics, topics.tracking, topics.datasets],
  concurrentPartitions: config.concurrentPartitions,
  maxBytesPerPartition: config.maxBytesPerPartition,
  sessionTimeoutMs: config.sessionTimeoutMs,
  // The stall budget plus one insert attempt must end before the group gives our partitions away.
  rebalanceTimeoutMs: config.flushStallBudgetMs + config.clickhouse.requestTimeoutMs + 10_000,
});

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  clearInterval(statsTimer);
  const force = setTimeout(() => {
    log.error('shutdown took longer than 30 s; exiting');
    process.exit(code || 1);
  }, 30_000).unref();
  try {
    await worker.stop();
    await dlqProducer.disconnect();
    await lagAdmin.disconnect();
    await Promise.all(shardChs.map((c) => c.close()));
  } catch (err) {
    log.error({ err }, 'error during shutdown');
  }
  clearTimeout(force);
  log.info({ stats: worker.stats.snapshot() }, 'ingest worker stopped');
  process.exit(code);
}

const batching = { batchMaxRows: config.batchMaxRows, batchLingerMs: config.batchLingerMs, caughtUpGapMs: config.caughtUpGapMs };
function pipelinesFor(target: ClickHouse) {
  return [metricsPipeline(target, topics, batching), trackingPipeline(target, topics), datasetsPipeline(target, topics, batching)];
}

const metrics = new WorkerMetrics();
metrics.serve(config.metricsHost, config.metricsPort, log);
const worker = new IngestWorker({
  metrics,
  ch,
  consumer,
  dlqProducer,
  deadLetterTopic: deadLetterTopicOf,
  pipelines: pipelinesFor(ch),
  shards: shardChs.map((shardCh) => ({ ch: shardCh, pipelines: pipelinesFor(shardCh) })),
  log,
  flushStallBudgetMs: config.flushStallBudgetMs,
  insertTimeoutMs: config.clickhouse.requestTimeoutMs,
  sessionTimeoutMs: config.sessionTimeoutMs,
  onFatal: (err) => {
    // Nothing is committed past what is stored, so exiting loses nothing: a restart resumes from there.
    log.fatal({ err: err.message }, 'ingest worker cannot continue');
    void shutdown(1);
  },
});
consumer.onCrash((err) => {
  log.fatal({ err: err.message }, 'Kafka consumer crashed');
  void shutdown(1);
});

// Stats to the log, and consumer lag (committed vs end offsets) to the metrics, every 30 s.
const lagAdmin = await bus.admin();
const statsTimer = setInterval(() => {
  log.info({ stats: worker.stats.snapshot() }, 'ingest stats');
  for (const topic of [topics.metrics, topics.tracking, topics.datasets]) {
    lagAdmin
      .lag(config.groupId, topic)
      .then((parts) => parts.forEach((p) => metrics.lag.set({ topic, partition: String(p.partition) }, Math.max(0, p.end - p.committed))))
      .catch((err: Error) => log.debug({ err: err.message }, 'lag poll failed'));
  }
}, 30_000);
statsTimer.unref();
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

await worker.start();
log.info({ topics: [topics.metrics, topics.tracking, topics.datasets], groupId: config.groupId, batchMaxRows: config.batchMaxRows, batchLingerMs: config.batchLingerMs }, 'ingest worker running');
