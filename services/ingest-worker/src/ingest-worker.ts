// The ingest worker: Kafka → validation → ClickHouse, dead letters to the DLQ topic. One consumer serves every
// topic pipeline (metric points, tracking events); each pipeline has its own batch writer.
//
// Exactly once, by design (details in ../README.md):
//  1. every batch insert is one Native block; each table it feeds (through materialized views) stores its share as
//     one part of a table without partitions: atomic per table;
//  2. the same INSERT updates ingest_progress_v1 (a materialized view, last): the highest stored offset per partition;
//     metric tables also keep their own marker, so a batch in some tables and not others is completed, not repeated;
//  3. when the worker (re)takes a partition it reads that progress and skips messages at or below it;
//  4. Kafka offsets are committed only after the insert is durable — committing is an optimisation, not the
//     source of truth, so a crash between insert and commit replays messages that step 3 then skips.
import type { Logger } from '@runstream/config';
import { FEED_ALL, isTransientClickHouseError, readIngestProgress, runningQueryIds, serversOf, type ClickHouse } from '@runstream/clickhouse';
import { batchIdentity, insertIdPrefix, partitionsOfInsert, type BatchIdentity } from './insert-identity.ts';
import { isRetriableKafkaError, MembershipLostError, type Consumer, type IncomingBatch, type Producer } from '@runstream/kafka';
import { BatchWriter } from './batch-writer.ts';
import { isCaughtUp } from './caught-up.ts';
import { chunkBySize, deadLetterMessage } from './batch-decoder.ts';
import { IngestStats } from './ingest-stats.ts';
import { failpoint } from './failpoints.ts';
import { progressAheadOfPartition, ProgressAheadError } from './progress-check.ts';
import type { TopicPipeline } from './topic-pipeline.ts';
import { WorkerMetrics } from './worker-metrics.ts';

export interface IngestWorkerDeps {
  ch: ClickHouse;
  /**
   * On a sharded cluster: per shard, its ClickHouse (the shard's replicas) and the pipelines writing there. A batch of
   * Kafka partition p is stored on shard p mod shards.length — one atomic insert on one shard. Without it, `ch` and
   * `pipelines` are the one shard.
   */
  shards?: { ch: ClickHouse; pipelines: TopicPipeline<any>[] }[];
  consumer: Consumer;
  dlqProducer: Producer;
  /** Dead-letter topic per source topic. */
  deadLetterTopic: (topic: string) => string;
  pipelines: TopicPipeline<any>[];
  log: Logger;
  flushStallBudgetMs: number;
  insertTimeoutMs: number;
  /** The group's session timeout: silent longer than this, the worker may no longer own its partitions. */
  sessionTimeoutMs: number;
  /** Called once if the worker cannot continue (e.g. ClickHouse unreachable past the stall budget). */
  onFatal: (err: Error) => void;
  metrics?: WorkerMetrics;
}

interface Lane {
  pipeline: TopicPipeline<unknown>;
  writer: BatchWriter<unknown>;
  ch: ClickHouse;
}

/** The shard that stores Kafka partition `partition` (documented in services/ingest-worker/README.md). */
export function shardOfPartition(partition: number, shards: number): number {
  return partition % shards;
}

/** An earlier insert of the same partitions is still running on the server; retried like a transient failure. */
export class InsertStillRunningError extends Error {
  constructor(topic: string, queryIds: string[], waitedMs: number) {
    super(`an insert of the same partitions of ${topic} is still running on ClickHouse after ${waitedMs} ms (${queryIds.join(', ')})`);
    this.name = 'InsertStillRunningError';
  }
}


export class IngestWorker {
  readonly stats = new IngestStats();
  readonly metrics: WorkerMetrics;
  private readonly deps: IngestWorkerDeps;
  /** Per topic, one lane per shard. */
  private readonly lanes = new Map<string, Lane[]>();
  /** Each batch's insert identity, kept across its attempts (the writer passes the same array every time). */
  private readonly identities = new WeakMap<unknown[], BatchIdentity>();
  /** Highest offset known to be stored, per topic and partition; cleared whenever the assignment changes. */
  private storedUpTo = new Map<string, number>();
  /**
   * Partitions this worker has inserted into since it was assigned them: every table fed by their inserts holds the
   * same messages, so no table needs to be asked what it holds. Cleared whenever the assignment changes.
   */
  private consistent = new Set<string>();
  private stopped = false;
  private decodeQueue: Promise<unknown> = Promise.resolve();

  constructor(deps: IngestWorkerDeps) {
    this.deps = deps;
    this.metrics = deps.metrics ?? new WorkerMetrics();
    const shards = deps.shards ?? [{ ch: deps.ch, pipelines: deps.pipelines }];
    shards.forEach(({ ch, pipelines }, shard) => {
      for (const pipeline of pipelines) {
        const lanes = this.lanes.get(pipeline.topic) ?? [];
        lanes[shard] = { pipeline, ch, writer: this.writerFor(pipeline, ch) };
        this.lanes.set(pipeline.topic, lanes);
      }
    });
    deps.consumer.onAssignment((partitions) => {
      this.storedUpTo = new Map();
      this.consistent = new Set();
      deps.log.info({ partitions }, 'partitions assigned');
    });
  }

  private writerFor(pipeline: TopicPipeline<unknown>, ch: ClickHouse): BatchWriter<unknown> {
    return new BatchWriter<unknown>({
      rowsOf: (u) => pipeline.rowsOf(u),
      maxRows: pipeline.batchMaxRows,
      lingerMs: pipeline.batchLingerMs,
      caughtUpGapMs: pipeline.caughtUpGapMs ?? 0,
      stallBudgetMs: this.deps.flushStallBudgetMs,
      attemptTimeoutMs: this.deps.insertTimeoutMs,
      isTransient: (err) => err instanceof InsertStillRunningError || isTransientClickHouseError(err) || isRetriableKafkaError(err),
      log: this.deps.log,
      write: (units, rows, attempt) => this.store(pipeline, ch, units, rows, attempt),
      onFlushed: (rows, ms, attempts) => {
        const topic = pipeline.topic;
        this.metrics.rowsStored.inc({ topic }, rows);
        this.metrics.batchRows.observe({ topic }, rows);
        this.metrics.insertSeconds.observe({ topic }, ms / 1000);
        if (attempts > 1) this.metrics.insertRetries.inc({ topic }, attempts - 1);
        if (++this.stats.flushes === 1) this.deps.log.info({ rows, ms }, 'first batch stored');
        this.stats.flushRetries += attempts - 1;
        this.stats.pointsStored += rows;
        this.stats.lastFlushRows = rows;
        this.stats.lastFlushMs = ms;
      },
    });
  }

  async start(): Promise<void> {
    await this.deps.consumer.run((batch) => this.handle(batch));
  }

  private async handle(batch: IncomingBatch): Promise<void> {
    if (this.stopped) return;
    const { topic, partition } = batch;
    const lanes = this.lanes.get(topic);
    if (!lanes) throw new Error(`no pipeline for topic ${topic}`);
    const lane = lanes[shardOfPartition(partition, lanes.length)]!;
    const storedUpTo = await this.storedOffset(lane.ch, topic, partition);
    if (progressAheadOfPartition(storedUpTo, batch.highWatermark)) {
      // Skipping would drop the new incarnation's messages; stopping loudly loses nothing (no offset is committed).
      this.fatal(new ProgressAheadError(topic, partition, storedUpTo, batch.highWatermark!));
      return;
    }
    const nowMs = Date.now();
    const decoded = await this.inDecodeTurn(() => lane.pipeline.decode(batch, { storedUpTo, nowMs }));
    this.stats.messages += batch.messages.length;
    this.stats.skippedMessages += decoded.skipped;
    this.metrics.messages.inc({ topic }, batch.messages.length);
    if (decoded.skipped > 0) this.metrics.skipped.inc({ topic }, decoded.skipped);
    // Only after a crash or a rebalance: messages stored before the offsets were committed.
    if (decoded.skipped > 0) this.deps.log.info({ topic, partition, skipped: decoded.skipped, storedUpTo }, 'skipped messages already stored');
    if (decoded.deadLetters.length > 0) {
      // Before the offsets move past them: dead letters are delivered at least once.
      // In groups under the broker's request size limit (a flood of bad messages is megabytes).
      for (const chunk of chunkBySize(decoded.deadLetters.map((d) => deadLetterMessage(topic, partition, d, nowMs)))) {
        await this.deps.dlqProducer.send(this.deps.deadLetterTopic(topic), chunk);
      }
      for (const d of decoded.deadLetters) {
        this.stats.recordDeadLetter(d.reason);
        this.metrics.deadLetters.inc({ topic, reason: d.reason });
      }
      this.deps.log.warn({ topic, partition, count: decoded.deadLetters.length, reasons: [...new Set(decoded.deadLetters.map((d) => d.reason))] }, 'messages dead-lettered');
    }
    const waitStarted = performance.now();
    try {
      // A partition with nothing more waiting needs no linger: its units are stored at once (freshness when idle).
      await lane.writer.add(decoded.units, { key: String(partition), behind: !isCaughtUp(batch) });
    } catch (err) {
      this.fatal(err as Error);
      return;
    } finally {
      this.metrics.backpressureSeconds.inc({ topic }, (performance.now() - waitStarted) / 1000);
    }
    const last = batch.messages[batch.messages.length - 1]!;
    try {
      await this.deps.consumer.commit(topic, partition, last.offset + 1);
    } catch (err) {
      // Harmless for correctness: the rows are stored and progress will skip them on replay.
      this.deps.log.warn({ err: (err as Error).message, topic, partition }, 'offset commit failed; replay will be skipped via stored progress');
    }
  }

  /**
   * kafkajs hands over every partition of a fetch at once; decoded back to back, they would hold the event loop
   * until all are done, and an insert made ready by the first would wait for the last. One decode at a time, each
   * after a turn of the event loop: ClickHouse stores one batch while the next partition is being decoded.
   */
  private inDecodeTurn<T>(decode: () => T): Promise<T> {
    const run = this.decodeQueue.then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(decode);
    this.decodeQueue = run.catch(() => undefined);
    return run;
  }

  private async storedOffset(ch: ClickHouse, topic: string, partition: number): Promise<number> {
    const cacheKey = `${topic}\u0000${partition}`;
    const known = this.storedUpTo.get(cacheKey);
    if (known !== undefined) return known;
    const progress = await readIngestProgress(ch, topic, [partition]);
    const value = progress.get(partition) ?? -1;
    this.storedUpTo.set(cacheKey, value);
    if (value >= 0) this.deps.log.info({ topic, partition, storedUpTo: value }, 'resuming partition after stored offset');
    return value;
  }

  /**
   * One atomic insert of what is not stored yet. Every attempt first re-reads the stored progress of the batch's
   * partitions and drops messages at or below it: a previous attempt may have landed after all (timeout, reset
   * connection), or another member may have taken these partitions over and stored them while this one was cut off.
   */
  private async store(pipeline: TopicPipeline<unknown>, ch: ClickHouse, units: unknown[], rows: number, attempt: number): Promise<void> {
    this.ensureStillMember();
    // The same batch is the same insert in every attempt: one query_id, one ingested_at.
    let identity = this.identities.get(units);
    if (!identity) {
      identity = batchIdentity(pipeline.topic, units.map((u) => pipeline.sourceOf(u)), Date.now());
      this.identities.set(units, identity);
    }
    // Progress says "not stored" while an insert of these partitions is still running (an attempt whose request
    // timed out, or the previous owner's): wait for it to end before believing it.
    await this.awaitRunningInserts(ch, pipeline.topic, [...new Set(units.map((u) => pipeline.sourceOf(u).partition))]);
    const fresh = await this.unstored(ch, pipeline, units);
    if (fresh.length < units.length) {
      this.deps.log.warn({ topic: pipeline.topic, rows, attempt, alreadyStoredMessages: units.length - fresh.length }, 'part of the batch was already stored; inserting only the rest');
    }
    if (fresh.length === 0) return;
    const partitions = [...new Set(fresh.map((u) => pipeline.sourceOf(u).partition))];
    const keyOf = (p: number) => `${pipeline.topic}\u0000${p}`;
    // A batch may sit in some of the tables an insert feeds and not in others (a view failed after others had
    // committed, or the process died between two parts): after a failed attempt, and before the first insert into
    // partitions just taken over, each table is asked what it holds and fed only the rest.
    let feedOf: ((unit: unknown) => number) | undefined;
    if (pipeline.tablesMissing && (attempt > 1 || partitions.some((p) => !this.consistent.has(keyOf(p))))) {
      feedOf = await pipeline.tablesMissing(fresh);
      const partial = fresh.filter((u) => feedOf!(u) !== FEED_ALL).length;
      if (partial > 0) this.deps.log.warn({ topic: pipeline.topic, attempt, partialMessages: partial }, 'some tables already hold part of the batch; feeding each only what it misses');
    }
    // Encoding a large batch takes a while, without heartbeats: it comes before the membership checks, not after.
    const block = pipeline.encode(fresh, identity.ingestedAt, feedOf);
    failpoint('before-insert');
    this.ensureStillMember();
    failpoint('pause-after-member-check');
    // The local clock can miss a pause that the broker has already acted on: ask the group coordinator itself, by
    // committing the first unstored offset of each partition (everything before it is stored, so nothing moves).
    await this.deps.consumer.confirmMembership(firstOffsets(pipeline, fresh));
    await pipeline.send(block, identity.queryId);
    for (const p of partitions) this.consistent.add(keyOf(p));
    failpoint('after-insert');
  }

  private async awaitRunningInserts(ch: ClickHouse, topic: string, partitions: number[]): Promise<void> {
    const started = Date.now();
    for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
      // On a cluster, an earlier attempt may run on the shard's other replica (the first one failed over): ask each.
      const ids = (await Promise.all(serversOf(ch).map((server) => runningQueryIds(server, insertIdPrefix(topic))))).flat();
      const running = ids.filter((id) => partitionsOfInsert(topic, id).some((p) => partitions.includes(p)));
      if (running.length === 0) return;
      const waited = Date.now() - started;
      if (waited > this.deps.insertTimeoutMs) throw new InsertStillRunningError(topic, running, waited);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  private async unstored(ch: ClickHouse, pipeline: TopicPipeline<unknown>, units: unknown[]): Promise<unknown[]> {
    const partitions = [...new Set(units.map((u) => pipeline.sourceOf(u).partition))];
    const progress = await readIngestProgress(ch, pipeline.topic, partitions);
    return units.filter((u) => {
      const { partition, offset } = pipeline.sourceOf(u);
      return offset > (progress.get(partition) ?? -1);
    });
  }

  /**
   * A worker frozen (stopped process, long pause) past the session timeout has been replaced in the group; inserting
   * its buffered batch now could race the new owner. It stops instead, leaving its offsets uncommitted.
   */
  private ensureStillMember(): void {
    const silentMs = Date.now() - this.deps.consumer.lastHeartbeatMs();
    if (silentMs > this.deps.sessionTimeoutMs) {
      throw new MembershipLostError(`no heartbeat for ${silentMs} ms (session ${this.deps.sessionTimeoutMs} ms): this worker may have lost its partitions; stopping without inserting`);
    }
  }

  private fatal(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.deps.onFatal(err);
  }

  /** Graceful stop: no new batches, everything buffered is written, then the consumer leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { writer } of [...this.lanes.values()].flat()) {
      await writer.flush().catch((err) => this.deps.log.error({ err }, 'final flush failed; unflushed messages will be replayed'));
    }
    await this.deps.consumer.stop();
  }
}

/** Per partition, the lowest offset among the units (everything before it in that partition is stored). */
function firstOffsets(pipeline: TopicPipeline<unknown>, units: unknown[]): { topic: string; partition: number; offset: number }[] {
  const first = new Map<number, number>();
  for (const u of units) {
    const { partition, offset } = pipeline.sourceOf(u);
    first.set(partition, Math.min(offset, first.get(partition) ?? Number.POSITIVE_INFINITY));
  }
  return [...first].map(([partition, offset]) => ({ topic: pipeline.topic, partition, offset }));
}
