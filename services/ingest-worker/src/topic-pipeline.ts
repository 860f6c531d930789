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
  /**
   * The units as one Native block; `ingestedAt` is the same for every attempt of one batch (insert-identity.ts).
   * `feedOf`, when given, says which of the tables fed by the insert still miss a unit (see `tablesMissing`).
   */
  encode(units: Unit[], ingestedAt: number, feedOf?: (unit: Unit) => number): Buffer;
  /**
   * For pipelines whose insert feeds several tables that each know what they hold: which tables still miss each unit.
   * Asked after an attempt failed and before the first insert into partitions just taken over — the only times a
   * batch can be in some tables and not in others.
   */
  tablesMissing?(units: Unit[]): Promise<(unit: Unit) => number>;
  /** Stores a block in one atomic insert that also advances ingest_progress_v1 for its partitions. */
  send(block: Buffer, queryId: string): Promise<void>;
  batchMaxRows: number;
  batchLingerMs: number;
  /** While caught up, the least time between two inserts' starts (0: every caught-up message at once). */
  caughtUpGapMs?: number;
}
