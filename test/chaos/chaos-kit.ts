// Building blocks of the fault scenarios: a paced stream of known metric points (plus a few malformed messages
// for the dead-letter topic), a pool of real ingest worker processes with an optional supervisor, and the exact
// accounting afterwards (stored, distinct, sum, dead letters; duplicates split by where they came from).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaEnv, loadEnv, type Logger } from '@runstream/config';
import { queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import { createKafkaBus, type MessageBus } from '@runstream/kafka';
import { createMetricsProducer } from '@runstream/sdk';
import { DLQ_HEADERS } from '../../services/ingest-worker/src/batch-decoder.ts';
import { readTopic, spawnWorker, topicsFor, waitFor, type WorkerProcess } from '../support/pipeline-fixture.ts';
import type { ApiFuzzCounts } from '../support/api-fuzz.ts';
import { REPO_ROOT } from '../../scripts/local-stack.ts';
import { CHAOS_LOG_DIR, freePort, type ChaosStack, type PrivateStack } from './private-stack.ts';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Latencies of one kind of request (ms). */
export interface LatencyStats {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LatencyReport {
  /** Expensive requests the burst client wanted answered (each retried after a 503 as its Retry-After says). */
  requests: number;
  concurrency: number;
  /** Every response of the burst, retries included, by status. */
  byStatus: Record<string, number>;
  /** Requests still refused after all retries. */
  gaveUp: number;
  errors: number;
  /** Time of the answered (200) expensive requests, from the attempt that was served. */
  served: LatencyStats;
  /** How fast a 503 came back. */
  shed: LatencyStats;
  /** Cheap requests during the burst: /health, and a 10-point read by another token. */
  health: LatencyStats & { failed: number };
  smallRead: LatencyStats & { failed: number };
  burstMs: number;
  throughputPerSec: number;
  baseRssMb: number;
  peakRssMb: number;
  wrongBodies: number;
}

/** Random and mutated messages sent to one topic, and where each ended up. */
export interface DecoderFuzzCounts {
  topic: 'metrics' | 'tracking';
  inputs: number;
  /** Messages stored (distinct source offsets in the table), and their rows. */
  stored: number;
  storedRows: number;
  /** What the decoder run in-process on the same bytes predicts. */
  expectedStored: number;
  expectedRows: number;
  /** Distinct source offsets on the dead-letter topic, and its records (repeats included). */
  deadLettered: number;
  deadLetterRecords: number;
  /** Inputs neither stored nor dead-lettered. */
  lost: number;
  /** Rows stored more than once. */
  duplicatedRows: number;
}

export interface FuzzReport {
  decoder?: { topics: DecoderFuzzCounts[]; workerAlive: boolean };
  api?: ApiFuzzCounts;
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** Points handed to the SDK (all acknowledged by Kafka unless sdkError is set). */
  sent: number;
  /** Rows stored for the scenario's entities (count()). */
  stored: number;
  /** Distinct (entity, key, step, timestamp) among them. */
  distinct: number;
  /** Distinct dead letters (by source partition and offset) / malformed messages injected / DLQ records incl. repeats. */
  deadLettered: number;
  deadLetterExpected: number;
  deadLetterRecords: number;
  /** Points sent but not stored. */
  lost: number;
  /** Rows stored more than once: stored − distinct. */
  duplicated: number;
  /** …of which the same Kafka message stored twice (worker), and the same point in two Kafka messages (producer). */
  workerDuplicates: number;
  producerDuplicates: number;
  expectedSum: number;
  storedSum: number;
  durationMs: number;
  /** Time from the fault (its end, or the kill of a node the rest must do without) until the backlog was stored. */
  recoveryMs?: number;
  notes: string[];
  sdkError?: string;
  error?: string;
  latency?: LatencyReport;
  /** Counts of the hostile-input scenarios (decoder fuzz through Kafka, HTTP API fuzz). */
  fuzz?: FuzzReport;
  /** Scenario-specific failure beyond the counts (e.g. a 500 in the burst). */
  failures: string[];
}

export function passed(r: ScenarioResult): boolean {
  return (
    !r.error &&
    !r.sdkError &&
    r.lost === 0 &&
    r.duplicated === 0 &&
    r.storedSum === r.expectedSum &&
    r.deadLettered === r.deadLetterExpected &&
    r.failures.length === 0
  );
}

export interface ChaosContext<S extends ChaosStack = PrivateStack> {
  stack: S;
  /** Logger of the in-process clients (SDK, admin, consumers); goes to a file, not the report. */
  log: Logger;
  /** Progress lines for the operator. */
  say: (msg: string) => void;
}

/** A fresh topic prefix, consumer group and entity prefix on the private stack. */
export function scenarioEnv(stack: ChaosStack, name: string, extra: Record<string, string> = {}): { env: NodeJS.ProcessEnv; prefix: string } {
  const id = randomUUID().slice(0, 8);
  const env = stack.processEnv({
    KAFKA_TOPIC_PREFIX: `chaos.${name}.${id}.`,
    INGEST_GROUP_ID: `chaos-${name}-${id}`,
    KAFKA_TOPIC_PARTITIONS: '6',
    // An ephemeral port each: never the default 9464 a shared-stack worker on this machine would use.
    INGEST_METRICS_PORT: '0',
    ...extra,
  });
  return { env, prefix: `chaos-${name}-${id}-` };
}

// ---------------------------------------------------------------------------------------------------------------
// Kafka helpers that log to the chaos log (not stdout)

export function busOf(env: NodeJS.ProcessEnv, log: Logger): MessageBus {
  return createKafkaBus(loadEnv(kafkaEnv, env), log);
}

/**
 * Creates the scenario's topics. Retried: right after creating a topic a fresh KRaft broker may answer the
 * leader wait with UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's createTopics does not retry.
 */
export async function createTopics(env: NodeJS.ProcessEnv, log: Logger): Promise<void> {
  const topics = topicsFor(env);
  for (let attempt = 1; ; attempt++) {
    const admin = await busOf(env, log).admin();
    try {
      for (const topic of [topics.metrics, topics.metricsDeadLetter, topics.tracking, topics.trackingDeadLetter]) {
        await admin.ensureTopic(topic, Number(env.KAFKA_TOPIC_PARTITIONS));
      }
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      log.warn({ err: (err as Error).message, attempt }, 'creating topics failed; retrying');
      await sleep(500 * attempt);
    } finally {
      await admin.disconnect();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The stream of points

export interface Workload {
  runs: number;
  /** Steps per run (a multiple of 250). */
  steps: number;
  pointsPerSec: number;
  /** Malformed messages sent through a raw producer, spread over the stream: they must reach the DLQ. */
  badMessages: number;
  key?: string;
}

export interface StreamHandle {
  /** Points handed to the SDK so far. */
  sent(): number;
  done: Promise<{ sent: number; sum: number; ms: number; sdkError?: string }>;
}

const CHUNK = 250;

/** Streams runs × steps points through the SDK at a steady pace; resolves after flush() (everything acknowledged). */
export async function startStream(env: NodeJS.ProcessEnv, prefix: string, w: Workload, log: Logger): Promise<StreamHandle> {
  const sdk = await createMetricsProducer({
    brokers: env.KAFKA_BROKERS!.split(','),
    topicPrefix: env.KAFKA_TOPIC_PREFIX!,
    maxPointsPerMessage: 500,
    // 4 keys per run: the points of one run spread over partitions, so every worker of a group gets traffic.
    partitionSpread: 4,
    producerId: 'chaos',
    logger: log,
  });
  const raw = await busOf(env, log).producer({ idempotent: true });
  const topic = topicsFor(env).metrics;
  const key = w.key ?? 'loss';
  let sent = 0;
  let sum = 0;
  const t0 = Date.now();
  const chunks = w.steps / CHUNK;
  const badAt = new Set(Array.from({ length: w.badMessages }, (_, i) => Math.floor(((i + 0.5) * chunks) / w.badMessages)));
  let bad = 0;
  let badQueued = 0;
  let badSends: Promise<void> = Promise.resolve();
  const done = (async () => {
    let sdkError: string | undefined;
    try {
      for (let c = 0; c < chunks; c++) {
        const step = c * CHUNK;
        for (let r = 0; r < w.runs; r++) {
          const points = [];
          let chunkSum = 0;
          for (let s = step; s < step + CHUNK; s++) {
            const value = (r + 1) * 1000 + (s % 97);
            chunkSum += value;
            points.push({ key, value, step: s, timestampMs: t0 + s });
          }
          await sdk.logPoints({ run: `${prefix}${r}` }, points);
          sent += CHUNK;
          sum += chunkSum;
        }
        if (badAt.has(c)) {
          // Chained, not awaited: a broker outage must not pause the SDK's stream (the SDK buffers meanwhile).
          const i = badQueued++;
          badSends = badSends.then(async () => {
            await raw.send(topic, [{ key: `${prefix}bad-${i}`, value: Buffer.from(`not a metric batch #${i}`) }]);
            bad++;
          });
        }
        const due = t0 + (sent / w.pointsPerSec) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      await sdk.flush();
      await badSends.catch((err) => (sdkError = `raw producer (malformed messages): ${(err as Error).message}`));
    } catch (err) {
      sdkError = (err as Error).message;
    } finally {
      await sdk.close().catch((err) => (sdkError ??= `close: ${(err as Error).message}`));
      await raw.disconnect().catch(() => undefined);
    }
    if (bad !== w.badMessages) sdkError ??= `only ${bad} of ${w.badMessages} malformed messages sent`;
    return { sent, sum, ms: Date.now() - t0, ...(sdkError ? { sdkError } : {}) };
  })();
  return { sent: () => sent, done };
}

// ---------------------------------------------------------------------------------------------------------------
// Worker processes

export interface PoolWorker {
  id: number;
  proc: WorkerProcess;
  startedAt: number;
  exitedAt?: number;
  exitCode?: number | null;
  /** Killed on purpose by the scenario (never restarted). */
  killed: boolean;
}

/** The worker's last fatal log line ("ingest worker cannot continue" and its error), if any. */
export function fatalLine(output: string): string | undefined {
  const lines = output.split('\n').filter((l) => l.includes('"level":60'));
  const last = lines[lines.length - 1];
  if (!last) return undefined;
  try {
    const e = JSON.parse(last) as { msg?: string; err?: string };
    return `${e.msg}: ${String(e.err ?? '').slice(0, 240)}`;
  } catch {
    return last.slice(0, 300);
  }
}

/**
 * Ingest worker processes of one consumer group. With `supervise`, a worker that exits on its own is started
 * again after a second (what systemd's Restart=on-failure or a Kubernetes restart would do).
 */
export class WorkerPool {
  readonly workers: PoolWorker[] = [];
  readonly events: string[] = [];
  private readonly env: NodeJS.ProcessEnv;
  private readonly t0: number;
  private supervising = false;
  private closed = false;
  private nextId = 1;

  constructor(env: NodeJS.ProcessEnv, t0 = Date.now()) {
    this.env = env;
    this.t0 = t0;
  }

  private at(): string {
    return `t+${((Date.now() - this.t0) / 1000).toFixed(1)}s`;
  }

  supervise(on = true): void {
    this.supervising = on;
  }

  spawn(): PoolWorker {
    const w: PoolWorker = { id: this.nextId++, proc: spawnWorker(this.env), startedAt: Date.now(), killed: false };
    this.workers.push(w);
    if (w.id > 1) this.events.push(`${this.at()} worker ${w.id} started`);
    void w.proc.exited.then((code) => {
      w.exitedAt = Date.now();
      w.exitCode = code;
      if (w.killed || this.closed) return;
      const fatal = fatalLine(w.proc.output());
      this.events.push(`${this.at()} worker ${w.id} exited on its own (code ${code})${fatal ? `: ${fatal}` : ''}`);
      if (this.supervising) {
        setTimeout(() => {
          if (this.closed) return;
          const n = this.spawn();
          this.events.push(`${this.at()} supervisor restarted worker ${w.id} as worker ${n.id}`);
        }, 1_000);
      }
    });
    return w;
  }

  alive(): PoolWorker[] {
    return this.workers.filter((w) => w.exitedAt === undefined);
  }

  async kill(w: PoolWorker, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    w.killed = true;
    this.events.push(`${this.at()} ${signal} worker ${w.id}`);
    if (w.exitedAt === undefined) w.proc.child.kill(signal);
    await w.proc.exited;
  }

  /** SIGSTOP for `ms`, then SIGCONT: a process frozen (stop-the-world GC, VM pause, CPU starvation) and resumed. */
  async pause(w: PoolWorker, ms: number): Promise<void> {
    this.events.push(`${this.at()} SIGSTOP worker ${w.id} for ${(ms / 1000).toFixed(0)} s`);
    w.proc.child.kill('SIGSTOP');
    await sleep(ms);
    w.proc.child.kill('SIGCONT');
    this.events.push(`${this.at()} SIGCONT worker ${w.id}`);
  }

  /** Waits until every live worker has logged that it runs (joined the group). */
  async ready(timeoutMs = 60_000): Promise<void> {
    await waitFor('workers running', async () => this.alive().every((w) => /ingest worker running/.test(w.proc.output())), timeoutMs, 100);
  }

  /** SIGTERM to every live worker (graceful drain), SIGKILL after 30 s. */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.alive().map(async (w) => {
        w.killed = true;
        w.proc.child.kill('SIGTERM');
        const t = setTimeout(() => w.proc.child.kill('SIGKILL'), 30_000);
        await w.proc.exited;
        clearTimeout(t);
      }),
    );
  }

  output(): string {
    return this.workers.map((w) => `===== worker ${w.id} =====\n${w.proc.output()}`).join('\n');
  }

  /** Occurrences of a log message across all workers. */
  count(pattern: RegExp): number {
    let n = 0;
    for (const w of this.workers) n += w.proc.output().match(new RegExp(pattern.source, 'g'))?.length ?? 0;
    return n;
  }

  saveLog(name: string): string {
    mkdirSync(CHAOS_LOG_DIR, { recursive: true });
    const file = join(CHAOS_LOG_DIR, `${name}-workers.log`);
    writeFileSync(file, `${this.events.join('\n')}\n\n${this.output()}`);
    return file;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Accounting

export interface Totals {
  count: number;
  distinct: number;
  distinctSource: number;
  sum: number;
}

export async function totals(ch: ClickHouse, prefix: string): Promise<Totals> {
  const [row] = await queryRows<{ c: string; d: string; ds: string; s: number }>(
    ch,
    sql`SELECT count() AS c, uniqExact(entity_id, key, step, timestamp_ms) AS d, uniqExact(src_partition, src_offset, point_index) AS ds, sum(value) AS s
        FROM metric_points_v2 WHERE startsWith(entity_id, ${prefix})`,
  );
  return { count: Number(row!.c), distinct: Number(row!.d), distinctSource: Number(row!.ds), sum: Number(row!.s) };
}

/**
 * Waits until every sent point is stored (or nothing has moved for `stallMs`), then a little longer so a late
 * duplicate can show up before the counts are judged.
 */
export async function settle(ch: ClickHouse, prefix: string, expected: number, stallMs = 45_000): Promise<Totals> {
  let last: Totals | undefined;
  let lastChange = Date.now();
  for (;;) {
    const t = await totals(ch, prefix).catch(() => undefined);
    if (t) {
      if (!last || t.count !== last.count) lastChange = Date.now();
      last = t;
      if (t.distinct >= expected) break;
    }
    if (Date.now() - lastChange > stallMs) break;
    await sleep(500);
  }
  await sleep(2_000);
  return totals(ch, prefix);
}

/** Dead letters on the DLQ topic: records (repeats included) and distinct source positions. */
export async function deadLetters(
  env: NodeJS.ProcessEnv,
  expectedDistinct: number,
  log: Logger,
  timeoutMs = 30_000,
  dlq = topicsFor(env).metricsDeadLetter,
): Promise<{ records: number; distinct: number }> {
  const admin = await busOf(env, log).admin();
  const deadline = Date.now() + timeoutMs;
  let records = 0;
  let distinct = 0;
  try {
    for (;;) {
      records = (await admin.lag(`chaos-dlq-probe-${randomUUID()}`, dlq)).reduce((n, p) => n + p.end, 0);
      if (records >= expectedDistinct || Date.now() > deadline) break;
      await sleep(500);
    }
  } finally {
    await admin.disconnect();
  }
  if (records > 0) {
    const msgs = await readTopic(env, dlq, records).catch((err) => {
      log.warn({ err: (err as Error).message }, 'reading the DLQ topic');
      return [];
    });
    distinct = new Set(msgs.map((m) => `${m.headers[DLQ_HEADERS.partition]}:${m.headers[DLQ_HEADERS.offset]}`)).size;
  }
  return { records, distinct };
}

/** The counts part of a result from what was sent and what is stored. */
export function account(
  name: string,
  title: string,
  sent: { sent: number; sum: number; sdkError?: string },
  t: Totals,
  dlq: { records: number; distinct: number },
  deadLetterExpected: number,
  durationMs: number,
): ScenarioResult {
  return {
    name,
    title,
    sent: sent.sent,
    stored: t.count,
    distinct: t.distinct,
    deadLettered: dlq.distinct,
    deadLetterExpected,
    deadLetterRecords: dlq.records,
    lost: Math.max(0, sent.sent - t.distinct),
    duplicated: t.count - t.distinct,
    workerDuplicates: t.count - t.distinctSource,
    producerDuplicates: t.distinctSource - t.distinct,
    expectedSum: sent.sum,
    storedSum: t.sum,
    durationMs,
    notes: [],
    failures: [],
    ...(sent.sdkError ? { sdkError: sent.sdkError } : {}),
  };
}

export function note(file: string, line: string): void {
  mkdirSync(CHAOS_LOG_DIR, { recursive: true });
  appendFileSync(file, `${line}\n`);
}

export interface QueryServiceProcess {
  child: ChildProcess;
  base: string;
  output(): string;
  /** Saves its output as CHAOS_LOG_DIR/<logName>, then SIGTERM (SIGKILL after 15 s). */
  stop(logName: string): Promise<void>;
}

/**
 * The real query service process (services/query-service/src/main.ts) on a free port of the private stack, rate
 * limits out of the way, healthy when this resolves.
 */
export async function startQueryService(env: NodeJS.ProcessEnv, stack: ChaosStack, extra: Record<string, string | undefined>): Promise<QueryServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'services/query-service/src/main.ts')], {
    env: {
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      RUNSTREAM_ARTIFACT_DIR: join(stack.dataDir, 'artifacts'),
      RATE_LIMIT_PER_SEC: '100000',
      RATE_LIMIT_BURST: '100000',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const base = `http://127.0.0.1:${port}`;
  const stop = async (logName: string) => {
    mkdirSync(CHAOS_LOG_DIR, { recursive: true });
    writeFileSync(join(CHAOS_LOG_DIR, logName), out);
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
  try {
    await waitFor('query service healthy', async () => (await fetch(`${base}/health`).catch(() => undefined))?.status === 200, 60_000, 200);
  } catch (err) {
    await stop('query-service-failed-start.log');
    throw err;
  }
  return { child, base, output: () => out, stop };
}
