// The message bus on kafkajs.
import { CompressionTypes, Kafka, Partitioners, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { KafkaSettings, Logger } from '@runstream/config';
import { MembershipLostError, MissingTopicError, type Admin, type Consumer, type ConsumerOptions, type IncomingBatch, type MessageBus, type Producer, type ProducerOptions } from './message-bus.ts';

function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || v === null) continue;
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : Array.isArray(v) ? String(v[0]) : String(v);
  }
  return out;
}

/** kafkajs wraps a broker's error code in retry errors; true when any layer says the topic is unknown. */
function isUnknownTopic(err: unknown): boolean {
  for (let e = err as { type?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

function kafkajsLogger(log: Logger) {
  return () => ({ level, log: entry }: LogEntry) => {
    const { message, ...extra } = entry;
    if (level === logLevel.ERROR) log.error(extra, message);
    // Deliberate: retries are bounded so a dead broker surfaces as an error instead of a send that never ends.
    else if (level === logLevel.WARN && message.startsWith('Limiting retries for the idempotent producer')) log.debug(extra, message);
    else if (level === logLevel.WARN) log.warn(extra, message);
    else log.debug(extra, message);
  };
}

/** Kafka's answers that mean this consumer is no longer the member that owned its partitions. */
const MEMBER_GONE = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

/** The protocol error type of a kafkajs error, looking through the retry wrappers kafkajs puts around it. */
function kafkaErrorType(err: unknown): string {
  for (let e = err as (Error & { type?: string; cause?: unknown }) | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string') return e.type;
  }
  return '';
}

let warningFilterInstalled = false;

// kafkajs 2.2.4 computes a negative throttle delay in its request queue on current Node versions; Node clamps
// it to 1 ms (harmless) but prints a TimeoutNegativeWarning each time. Route process warnings through the logger
// and drop that one.
function filterKafkajsTimerWarnings(log: Logger): void {
  if (warningFilterInstalled) return;
  warningFilterInstalled = true;
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') log.warn({ warning: w.name, stack: w.stack }, w.message);
  });
}

export function createKafkaBus(settings: KafkaSettings, log: Logger): MessageBus {
  filterKafkajsTimerWarnings(log);
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkajsLogger(log.child({ component: 'kafkajs' })),
    retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5_000 },
    ...(settings.saslUsername
      ? { ssl: true, sasl: { mechanism: 'scram-sha-512' as const, username: settings.saslUsername, password: settings.saslPassword } }
      : {}),
  };
  const kafka = new Kafka(config);
  // The producer's own partitioner, so partitionOf() can never disagree with where a keyed message lands.
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionList = (partitions: number) => Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  const partitionOf = (key: string, partitions: number): number => partitioner({ topic: '', partitionMetadata: partitionList(partitions), message: { key, value: null } });

  async function topicNamesOnCluster(): Promise<Set<string>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return new Set(await admin.listTopics());
    } finally {
      await admin.disconnect();
    }
  }

  return {
    partitionOf,

    async producer(opts: ProducerOptions): Promise<Producer> {
      const producer = kafka.producer({
        idempotent: opts.idempotent,
        maxInFlightRequests: opts.idempotent ? 1 : 5,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        // Retries are safe: the idempotent producer's sequence numbers let the broker drop duplicates.
        retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 5_000 },
      });
      await producer.connect();
      const compression = opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
      // Without auto-creation, kafkajs retries a missing topic's metadata for its whole retry budget (a minute and
      // more) before failing with a bare UNKNOWN_TOPIC_OR_PARTITION. Ask the cluster once per topic instead, and
      // fail at once with the topic's name and the fix.
      const present = new Set<string>();
      const requireTopic = async (topic: string) => {
        if (present.has(topic)) return;
        if (!(await topicNamesOnCluster()).has(topic)) throw new MissingTopicError(topic, settings.brokers, settings.topicPrefix);
        present.add(topic);
      };
      // Partition counts, for placing every message before it is sent (see send).
      const partitionCounts = new Map<string, number>();
      const partitionCount = async (topic: string): Promise<number> => {
        let n = partitionCounts.get(topic);
        if (n === undefined) {
          const admin = kafka.admin();
          await admin.connect();
          try {
            n = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
          } finally {
            await admin.disconnect();
          }
          partitionCounts.set(topic, n);
        }
        return n;
      };
      let roundRobin = 0;
      const sendOnce = (topic: string, messages: { key: string | Buffer | null; value: Buffer; headers?: Record<string, string>; partition: number }[]) =>
        producer.send({ topic, acks: -1, compression, messages }).catch(async (err: unknown) => {
          // Deleted since it was checked: say so, and check again on the next send.
          if (isUnknownTopic(err)) {
            present.delete(topic);
            partitionCounts.delete(topic);
            const names = await topicNamesOnCluster().catch(() => new Set([topic]));
            if (!names.has(topic)) throw new MissingTopicError(topic, settings.brokers, settings.topicPrefix);
          }
          throw err;
        });
      return {
        async send(topic, messages) {
          await requireTopic(topic);
          // kafkajs 2.2.4 can resolve a send without having written some of its messages. It keeps each broker's
          // answer across its retries of one send and skips brokers that already answered; when a leader dies
          // mid-send, its partitions move to another broker — often one that already answered for its own
          // partitions — and the retry never sends them there. `npm run chaos:cluster` (broker-kill) lost a
          // 500-point message that way, with the SDK told it was acknowledged. So every message is placed on its
          // partition here (the producer's own partitioner, as partitionOf), and messages whose partition is
          // missing from the answer are sent again. That is safe with the idempotent producer: kafkajs rolls the
          // skipped partitions' sequence numbers back, so the resend carries the same sequence as the lost attempt
          // and a broker that did get it drops the copy.
          const partitions = await partitionCount(topic);
          let pending = messages.map((m) => ({
            key: m.key,
            value: m.value,
            headers: m.headers,
            partition:
              m.partition ??
              (m.key === null
                ? roundRobin++ % partitions
                : partitioner({ topic, partitionMetadata: partitionList(partitions), message: { key: m.key, value: null } })),
          }));
          const receipts = new Map<number, { partition: number; firstOffset: number }>();
          for (let attempt = 1; ; attempt++) {
            const meta = await sendOnce(topic, pending);
            for (const r of meta) if (!receipts.has(r.partition)) receipts.set(r.partition, { partition: r.partition, firstOffset: Number(r.baseOffset ?? r.offset ?? -1) });
            const answered = new Set(meta.map((r) => r.partition));
            const missing = pending.filter((m) => !answered.has(m.partition));
            if (missing.length === 0) break;
            const lost = [...new Set(missing.map((m) => m.partition))];
            if (attempt >= 10) throw new Error(`kafka: ${missing.length} messages to ${topic} partitions ${lost.join(',')} still unacknowledged after ${attempt} sends`);
            log.warn({ topic, partitions: lost, messages: missing.length, attempt }, 'send resolved without some partitions (leader moved mid-send); sending their messages again');
            pending = missing;
          }
          return [...receipts.values()];
        },
        disconnect: () => producer.disconnect(),
      };
    },

    async consumer(opts: ConsumerOptions): Promise<Consumer> {
      const consumer = kafka.consumer({
        groupId: opts.groupId,
        allowAutoTopicCreation: false,
        maxBytesPerPartition: opts.maxBytesPerPartition,
        maxBytes: opts.maxBytesPerPartition * Math.max(1, opts.concurrentPartitions),
        sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
        rebalanceTimeout: opts.rebalanceTimeoutMs ?? 60_000,
        heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 3)),
        retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
        // A fetch is a long poll: the broker answers as soon as one byte is there (so a lone message is delivered at
        // once) or after maxWaitTimeInMs with nothing. Stated here because freshness depends on them.
        minBytes: 1,
        maxWaitTimeInMs: 5_000,
      });
      const heartbeatIntervalMs = Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 3));
      let lastHeartbeatMs = 0;
      consumer.on(consumer.events.HEARTBEAT, () => {
        lastHeartbeatMs = Date.now();
      });
      const assignmentListeners: ((p: Record<string, number[]>) => void)[] = [];
      const crashListeners: ((e: Error) => void)[] = [];
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        lastHeartbeatMs = Date.now();
        for (const l of assignmentListeners) l(e.payload.memberAssignment);
      });
      consumer.on(consumer.events.CRASH, (e) => {
        if (e.payload.restart) return;
        for (const l of crashListeners) l(e.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
      return {
        async run(handle) {
          await consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: opts.concurrentPartitions,
            eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
              if (!isRunning() || isStale() || batch.messages.length === 0) return;
              const incoming: IncomingBatch = {
                topic: batch.topic,
                partition: batch.partition,
                messages: batch.messages.map((m) => ({
                  offset: Number(m.offset),
                  key: m.key,
                  value: m.value,
                  headers: headersOf(m.headers as Record<string, unknown>),
                  timestampMs: Number(m.timestamp),
                })),
                highWatermark: Number(batch.highWatermark),
              };
              // Keep the membership alive while the batch waits (e.g. for ClickHouse): kafkajs heartbeats only
              // between batches, and a member silent for the session timeout loses its partitions.
              // A heartbeat refused because the member was replaced must not be forgotten: no confirmation since.
              const beat = setInterval(
                () =>
                  void heartbeat().catch((err: unknown) => {
                    if (MEMBER_GONE.has(kafkaErrorType(err))) lastHeartbeatMs = Number.NEGATIVE_INFINITY;
                  }),
                heartbeatIntervalMs,
              );
              try {
                await handle(incoming);
              } finally {
                clearInterval(beat);
              }
              resolveOffset(batch.lastOffset());
              await heartbeat();
            },
          });
        },
        async commit(topic, partition, nextOffset) {
          await consumer.commitOffsets([{ topic, partition, offset: String(nextOffset) }]);
        },
        async confirmMembership(positions) {
          try {
            await consumer.commitOffsets(positions.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.offset) })));
          } catch (err) {
            const type = kafkaErrorType(err);
            if (MEMBER_GONE.has(type)) {
              lastHeartbeatMs = Number.NEGATIVE_INFINITY;
              throw new MembershipLostError(`the group coordinator no longer counts this worker as a member (${type}): another member owns its partitions now`);
            }
            throw err;
          }
        },
        onAssignment: (l) => void assignmentListeners.push(l),
        lastHeartbeatMs: () => lastHeartbeatMs,
        onCrash: (l) => void crashListeners.push(l),
        stop: () => consumer.disconnect(),
      };
    },

    async admin(): Promise<Admin> {
      const admin = kafka.admin();
      await admin.connect();
      const latest = await latestOffsetReader(kafka);
      return {
        async ensureTopic(topic, partitions, config = {}) {
          // A broker that has just started can refuse metadata for a moment ("does not host this
          // topic-partition"), and a topic another process has just created may not have its leaders on every
          // broker yet (subscribing then fails): retry until every partition has a leader, a few times.
          for (let attempt = 1; ; attempt++) {
            try {
              if (!(await admin.listTopics()).includes(topic)) {
                await admin.createTopics({
                  waitForLeaders: true,
                  topics: [{ topic, numPartitions: partitions, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }],
                });
              }
              const { topics: [meta] } = await admin.fetchTopicMetadata({ topics: [topic] });
              const leaderless = (meta?.partitions ?? []).filter((p) => p.leader < 0).length;
              if (!meta || meta.partitions.length === 0 || leaderless > 0) throw new Error(`topic ${topic} has ${leaderless} partition(s) without a leader yet`);
              return;
            } catch (err) {
              if (attempt >= 8) throw err;
              log.warn({ err: (err as Error).message, topic, attempt }, 'creating topic failed, retrying');
              await new Promise((r) => setTimeout(r, 500 * attempt));
            }
          }
        },
        async missingTopics(topics) {
          const existing = new Set(await admin.listTopics());
          return topics.filter((t) => !existing.has(t));
        },
        async lag(groupId, topic) {
          const [committed, ends] = await Promise.all([admin.fetchOffsets({ groupId, topics: [topic] }), admin.fetchTopicOffsets(topic)]);
          const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
          return ends.map((e) => ({ partition: e.partition, committed: Math.max(0, byPartition.get(e.partition) ?? 0), end: Number(e.high) }));
        },
        endOffsets: (topic) => latest.endOffsets(topic),
        async groupMembers(groupId) {
          const { groups } = await admin.describeGroups([groupId]);
          return groups[0]?.members.length ?? 0;
        },
        async committedOffsets(groupId, topic) {
          const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
          // kafkajs reports "no commit" as -1.
          return new Map((committed?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)]));
        },
        async ping() {
          await admin.describeCluster();
        },
        disconnect: async () => {
          await latest.disconnect();
          await admin.disconnect();
        },
      };
    },
  };
}

/** The slice of kafkajs's (internal) cluster client that reads the latest offsets. */
interface OffsetCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(topics: { topic: string; partitions: { partition: number }[]; fromBeginning: boolean }[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/**
 * High watermarks in one ListOffsets request. Read-your-writes asks for them on every read and every run write, and
 * kafkajs's admin.fetchTopicOffsets always sends two (latest and earliest offsets) — half of a log-metric call's
 * time. kafkajs keeps its cluster client private, so it is reached through the factory every kafkajs client uses.
 */
async function latestOffsetReader(kafka: Kafka): Promise<{ endOffsets(topic: string): Promise<number[]>; disconnect(): Promise<void> }> {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = factory ? ((kafka as unknown as Record<symbol, unknown>)[factory] as (o: object) => OffsetCluster) : undefined;
  if (!create) throw new Error('kafkajs no longer exposes its cluster factory: reading high watermarks needs another way');
  const cluster = create({ metadataMaxAge: 300_000, allowAutoTopicCreation: false });
  await cluster.connect();
  const read = async (topic: string): Promise<number[]> => {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadataIfNecessary();
    const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
    const [answer] = await cluster.fetchTopicsOffset([{ topic, partitions, fromBeginning: false }]);
    const out: number[] = [];
    for (const p of answer?.partitions ?? []) out[p.partition] = Number(p.offset);
    return out;
  };
  return {
    async endOffsets(topic) {
      try {
        return await read(topic);
      } catch (err) {
        // A leader moved or partitions were added since the metadata was read: read it again, once.
        if (/does not host this topic-partition|UNKNOWN_TOPIC/i.test((err as Error).message)) throw err;
        await cluster.refreshMetadata();
        return read(topic);
      }
    },
    disconnect: () => cluster.disconnect(),
  };
}
