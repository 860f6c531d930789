// Helpers for tests that drive the real pipeline: worker processes, topics of their own, ClickHouse checks.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { clickhouseEnv, createLogger, kafkaEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import { connectClickHouse, queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import { createKafkaBus, topicNames, type Admin, type IncomingMessage, type MessageBus } from '@runstream/kafka';
import { ReadFence, TrackingWriter } from '@runstream/tracking';
import { REPO_ROOT } from '../../scripts/local-stack.ts';
import { buildService, type ServiceDeps } from '../../services/query-service/src/build-service.ts';

export const log = createLogger({ name: 'test', level: process.env.TEST_LOG_LEVEL ?? 'warn' });

/** A fresh topic prefix and consumer group, so tests share servers but not data or offsets. */
export function isolatedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const id = randomUUID().slice(0, 8);
  return {
    ...process.env,
    KAFKA_TOPIC_PREFIX: `test.${id}.`,
    INGEST_GROUP_ID: `test-ingest-${id}`,
    KAFKA_TOPIC_PARTITIONS: '4',
    INGEST_METRICS_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...extra,
  };
}

export function busFor(env: NodeJS.ProcessEnv): MessageBus {
  return createKafkaBus(loadEnv(kafkaEnv, env), log);
}

export function topicsFor(env: NodeJS.ProcessEnv) {
  return topicNames(env.KAFKA_TOPIC_PREFIX!);
}

export function clickhouseFor(role: 'admin' | 'ingest' | 'query', env: NodeJS.ProcessEnv = process.env): ClickHouse {
  return connectClickHouse(toClickHouseSettings(loadEnv(clickhouseEnv, env)), role);
}

export async function ensureTopics(env: NodeJS.ProcessEnv): Promise<void> {
  const admin = await busFor(env).admin();
  const topics = topicsFor(env);
  for (const topic of [topics.metrics, topics.metricsDeadLetter, topics.tracking, topics.trackingDeadLetter, topics.datasets, topics.datasetsDeadLetter]) {
    await admin.ensureTopic(topic, Number(env.KAFKA_TOPIC_PARTITIONS));
  }
  await admin.disconnect();
}

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts the real ingest worker (services/ingest-worker/src/main.ts) as a child process. */
export function spawnWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, [`${REPO_ROOT}/services/ingest-worker/src/main.ts`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export async function stopWorker(w: WorkerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill(signal);
  return w.exited;
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Exact count and sum of stored points for entity ids starting with `prefix`. */
export async function storedTotals(ch: ClickHouse, prefix: string): Promise<{ count: number; sum: number; distinct: number }> {
  const [row] = await queryRows<{ c: string; s: number; d: string }>(
    ch,
    sql`SELECT count() AS c, sum(value) AS s, uniqExact(entity_id, key, step, timestamp_ms) AS d FROM metric_points_v2 WHERE startsWith(entity_id, ${prefix})`,
  );
  return { count: Number(row!.c), sum: Number(row!.s), distinct: Number(row!.d) };
}

/** Reads every message of a topic from the beginning with a throwaway group until `count` arrived. */
export async function readTopic(env: NodeJS.ProcessEnv, topic: string, count: number, timeoutMs = 30_000): Promise<IncomingMessage[]> {
  const consumer = await busFor(env).consumer({ groupId: `test-reader-${randomUUID()}`, topics: [topic], concurrentPartitions: 4, maxBytesPerPartition: 1 << 20 });
  const got: IncomingMessage[] = [];
  await consumer.run(async (b) => void got.push(...b.messages));
  try {
    await waitFor(`${count} messages on ${topic}`, async () => got.length >= count, timeoutMs);
  } finally {
    await consumer.stop();
  }
  return got;
}

export interface QueryInstance {
  /** Base URL of the instance. */
  base: string;
  /** Its read-only ClickHouse connection, for assertions. */
  ch: ClickHouse;
  admin: Admin;
  close(): Promise<void>;
}

/**
 * One query-service instance with its own producer, admin connection, ClickHouse connection, read fence and run
 * state cache, writing to `env`'s topics; reads wait at most `budgetMs` for the ingest worker. Several of them on
 * one env behave as separate replicas sharing only Kafka and ClickHouse.
 */
export async function startQueryInstance(env: NodeJS.ProcessEnv, budgetMs: number, opts: Partial<Omit<ServiceDeps, 'ch' | 'writer' | 'health'>> = {}): Promise<QueryInstance> {
  const bus = busFor(env);
  const producer = await bus.producer({ idempotent: true });
  const admin = await bus.admin();
  const ch = clickhouseFor('query');
  const app = await buildService({
    log,
    tokens: [],
    ...opts,
    ch,
    writer: new TrackingWriter({ producer, topics: topicNames(env.KAFKA_TOPIC_PREFIX!) }),
    fence: new ReadFence({ admin, partitionOf: bus.partitionOf, ch, ingestGroupId: env.INGEST_GROUP_ID!, budgetMs }),
    health: {
      clickhouse: async () => {
        const r = await ch.client.ping();
        if (!r.success) throw r.error;
      },
      kafka: () => admin.ping(),
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    ch,
    admin,
    async close() {
      for (const close of [() => app.close(), () => producer.disconnect(), () => admin.disconnect(), () => ch.close()]) await close().catch(() => undefined);
    },
  };
}

export interface PipelineService {
  /** Base URL of the query service (with the MLflow API and a TrackingWriter). */
  base: string;
  worker: WorkerProcess;
  /** The query service's read-only ClickHouse connection, for assertions. */
  ch: ClickHouse;
  admin: Admin;
  close(): Promise<void>;
}

/**
 * The whole pipeline for API tests: topics of their own, a real ingest worker process, and the query service
 * listening on a free port with writes through Kafka (read-your-writes).
 */
export async function startPipelineService(env: NodeJS.ProcessEnv, opts: Partial<Omit<ServiceDeps, 'ch' | 'writer' | 'health'>> = {}): Promise<PipelineService> {
  await ensureTopics(env);
  const worker = spawnWorker(env);
  const api = await startQueryInstance(env, Number(env.READ_YOUR_WRITES_BUDGET_MS ?? 20_000), opts);
  return {
    ...api,
    worker,
    async close() {
      await stopWorker(worker);
      await api.close();
    },
  };
}
