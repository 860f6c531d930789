// Our own small Kafka interface. Everything outside this package talks to these types only, so replacing
// kafkajs means rewriting kafkajs-bus.ts and nothing else.

/** The group coordinator no longer counts this consumer as the owner of its partitions. */
export class MembershipLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MembershipLostError';
  }
}

// Answers that pass: the coordinator is moving, restarting or between generations.
const PASSING_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'REQUEST_TIMED_OUT']);
const PASSING_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSRequestTimeoutError', 'KafkaJSNumberOfRetriesExceeded', 'KafkaJSConnectionClosedError']);

/** A Kafka failure worth retrying (the broker or coordinator is away or busy), as opposed to a refusal. */
export function isRetriableKafkaError(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof MembershipLostError) return false;
  for (let e = err as (Error & { retriable?: boolean; type?: string; cause?: unknown }) | undefined, depth = 0; e instanceof Error && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.retriable === true || PASSING_TYPES.has(e.type ?? '') || PASSING_NAMES.has(e.name)) return true;
  }
  return false;
}

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
  /** Explicit partition; when absent the key chooses it. */
  partition?: number;
}

export interface IncomingMessage {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestampMs: number;
}

export interface IncomingBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /**
   * The partition's high watermark when the batch was fetched: the offset the next message will get. Above the last
   * message's offset + 1, more is already waiting in Kafka. Absent when unknown (treat as more waiting).
   */
  highWatermark?: number;
}

export interface SendReceipt {
  partition: number;
  firstOffset: number;
}

export interface Producer {
  /**
   * Resolves once every message is acknowledged by all in-sync replicas (acks=all), with the offset of the first
   * message that landed in each partition. Messages with one key land in one partition at consecutive offsets.
   */
  send(topic: string, messages: OutgoingMessage[]): Promise<SendReceipt[]>;
  disconnect(): Promise<void>;
}

export interface ProducerOptions {
  /** Idempotent delivery: broker-side de-duplication of retried sends (forces acks=all, one request in flight). */
  idempotent: boolean;
  compression?: 'none' | 'gzip';
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** How many partitions' batches are handled at once. */
  concurrentPartitions: number;
  maxBytesPerPartition: number;
  sessionTimeoutMs?: number;
  /** How long the group waits for members to rejoin during a rebalance. */
  rebalanceTimeoutMs?: number;
}

export interface Consumer {
  /**
   * Runs `handle` for every fetched batch. Offsets are never committed automatically: the handler calls
   * commit() itself once what it consumed is durable. Resolves once the consumer is running.
   */
  run(handle: (batch: IncomingBatch) => Promise<void>): Promise<void>;
  commit(topic: string, partition: number, nextOffset: number): Promise<void>;
  /**
   * Asks the group coordinator whether this member still owns these partitions in the current generation, by
   * committing offsets the caller knows to be processed already (so nothing moves). Rejects with
   * MembershipLostError when the broker says the member was replaced (illegal generation, unknown member).
   */
  confirmMembership(positions: { topic: string; partition: number; offset: number }[]): Promise<void>;
  /** Called (synchronously, before any batch of the new generation) whenever the group assignment changes. */
  onAssignment(listener: (partitions: Record<string, number[]>) => void): void;
  /**
   * When the group coordinator last confirmed this member (heartbeat or join). A member silent for longer than the
   * session timeout may have lost its partitions to another member.
   */
  lastHeartbeatMs(): number;
  /** Called when the consumer stopped because of an error it cannot recover from. */
  onCrash(listener: (err: Error) => void): void;
  stop(): Promise<void>;
}

export interface Admin {
  ensureTopic(topic: string, partitions: number, config?: Record<string, string>): Promise<void>;
  /** Those of `topics` the cluster does not have (one metadata request; nothing is created). */
  missingTopics(topics: string[]): Promise<string[]>;
  /** Committed offsets of a group, and the end offsets of the topic, per partition (for lag). */
  lag(groupId: string, topic: string): Promise<{ partition: number; committed: number; end: number }[]>;
  /**
   * The high watermark of every partition of `topic` (index = partition): the offset the next message will get.
   * With acks=all it covers every acknowledged message, so it is what a reader must wait for to see them.
   */
  endOffsets(topic: string): Promise<number[]>;
  /** How many members a consumer group has now (0 when it is empty or unknown). */
  groupMembers(groupId: string): Promise<number>;
  /** Offsets a consumer group has committed on `topic`, per partition (partitions without a commit are absent). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, number>>;
  ping(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * A send (or a check) found that a topic does not exist. Producers never create topics (the ingest worker does,
 * with the partitions and settings it needs), so this is a setup problem: the message says which topic and how to
 * fix it, at once, instead of the transport retrying its metadata for a minute.
 */
export class MissingTopicError extends Error {
  readonly topic: string;
  constructor(topic: string, brokers: string[], topicPrefix?: string) {
    const prefix = topicPrefix === undefined ? '' : ` (the prefix here is ${JSON.stringify(topicPrefix)})`;
    super(
      `Kafka topic ${JSON.stringify(topic)} does not exist on ${brokers.join(',')}: create it, or start the ingest worker ` +
        `(it creates its topics), or check that KAFKA_TOPIC_PREFIX / topicPrefix matches the worker's${prefix}`,
    );
    this.name = 'MissingTopicError';
    this.topic = topic;
  }
}

export interface MessageBus {
  /** The partition the producer sends a keyed message to, for a topic with `partitions` partitions. */
  partitionOf(key: string, partitions: number): number;
  producer(opts: ProducerOptions): Promise<Producer>;
  consumer(opts: ConsumerOptions): Promise<Consumer>;
  admin(): Promise<Admin>;
}
