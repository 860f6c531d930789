// Counters of what the worker did, logged periodically and exposed for tests and the benchmark.
import type { DeadLetterReason } from './batch-decoder.ts';

export class IngestStats {
  messages = 0;
  pointsStored = 0;
  skippedMessages = 0;
  deadLetters: Partial<Record<DeadLetterReason, number>> = {};
  flushes = 0;
  flushRetries = 0;
  lastFlushRows = 0;
  lastFlushMs = 0;

  recordDeadLetter(reason: DeadLetterReason): void {
    this.deadLetters[reason] = (this.deadLetters[reason] ?? 0) + 1;
  }

  snapshot() {
    return {
      messages: this.messages,
      pointsStored: this.pointsStored,
      skippedMessages: this.skippedMessages,
      deadLetters: { ...this.deadLetters },
      flushes: this.flushes,
      flushRetries: this.flushRetries,
      lastFlushRows: this.lastFlushRows,
      lastFlushMs: this.lastFlushMs,
    };
  }
}
