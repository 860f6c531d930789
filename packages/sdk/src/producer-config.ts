import type { Producer } from '@runstream/kafka';

export interface MetricsProducerOptions {
  /** Kafka transport (see createMetricsProducer for the usual way to build one). */
  producer: Producer;
  topic: string;
  /** Points per Kafka message (one message carries one entity's points). Default 2000. */
  maxPointsPerMessage?: number;
  /** How long a point may wait for its message to fill before it is sent anyway. Default 50 ms. */
  lingerMs?: number;
  /** Points held in memory (queued and in flight) before logMetric waits. Default 500,000. */
  maxBufferedPoints?: number;
  /**
   * What a call does when the buffer is full: 'block' waits until there is room (up to maxBlockMs, then throws),
   * 'error' throws BufferFullError at once. Default 'block'.
   */
  whenFull?: 'block' | 'error';
  maxBlockMs?: number;
  /**
   * Partitions one entity's messages spread across. One very hot run (many ranks logging) uses several
   * partitions so several workers share it; order between partitions does not matter, every point carries its
   * step and timestamp. Default 1.
   */
  partitionSpread?: number;
  /** Recorded with every point (host, process, training rank). */
  producerId?: string;
  /** Messages per Kafka request. Default 500. */
  maxMessagesPerRequest?: number;
  /**
   * Bytes per Kafka request and per message. Brokers reject a record batch over their max.message.bytes (1 MiB by
   * default) and all messages of a request may land in one partition's batch, so both stay under it. Default 900 KB.
   */
  maxRequestBytes?: number;
  now?: () => number;
}
