// Our own small Kafka interface. Everything outside this package talks to these types only, so replacing
// kafkajs means rewriting kafkajs-bus.ts and nothing else.

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
  /** Committed offsets of a group, and the end offsets of the topic, per partition (for lag). */
  lag(groupId: string, topic: string): Promise<{ partition: number; committed: number; end: number }[]>;
  ping(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface MessageBus {
  producer(opts: ProducerOptions): Promise<Producer>;
  consumer(opts: ConsumerOptions): Promise<Consumer>;
  admin(): Promise<Admin>;
}
