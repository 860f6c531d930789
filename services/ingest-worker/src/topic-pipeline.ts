// What the worker needs to know to ingest one topic: how to decode a partition's messages, how big a unit is,
// and how to store a batch of units in one atomic insert.
import type { IncomingBatch } from '@runstream/kafka';
import type { DeadLetter } from './batch-decoder.ts';

export interface Decoded<Unit> {
  units: Unit[];
  deadLetters: DeadLetter[];
  skipped: number;
}

export interface TopicPipeline<Unit> {
  name: string;
  topic: string;
  decode(batch: IncomingBatch, opts: { storedUpTo: number; nowMs: number }): Decoded<Unit>;
  rowsOf(unit: Unit): number;
  /** Source position of a unit, for the retry check. */
  sourceOf(unit: Unit): { partition: number; offset: number };
  /** The units as one Native block; `ingestedAt` is the same for every attempt of one batch (insert-identity.ts). */
  encode(units: Unit[], ingestedAt: number): Buffer;
  /** Stores a block in one atomic insert that also advances ingest_progress_v1 for its partitions. */
  send(block: Buffer, queryId: string): Promise<void>;
  batchMaxRows: number;
  batchLingerMs: number;
  /** While caught up, the least time between two inserts' starts (0: every caught-up message at once). */
  caughtUpGapMs?: number;
}
