// The one writer of the points table. Callers hand it indivisible units (the points of one Kafka message) and
// get a promise that settles when those rows are durable. Flushes are strictly sequential — which is what lets
// ingest progress be "the highest offset stored" — and happen when enough rows are queued, or the oldest has
// waited `lingerMs`, or at once when every source of the queued units is caught up: lingering only pays while more
// data is already waiting, so a lone point is stored immediately. While a flush runs, new units queue up for the
// next one (group commit).
import type { Logger } from '@runstream/config';

export interface BatchWriterOptions<Unit> {
  /** Rows a unit contributes to a batch. */
  rowsOf: (unit: Unit) => number;
  maxRows: number;
  lingerMs: number;
  /**
   * While caught up, the least time between the starts of two inserts. A steady trickle (a training loop's
   * log_metric calls) would otherwise cost one insert — and every materialized view — per message; a lone message
   * after a quiet spell is still stored at once.
   */
  caughtUpGapMs?: number;
  /** Give up on a flush that keeps failing for longer than this (the caller must then stop consuming). */
  stallBudgetMs: number;
  /** How long one write attempt may take; no attempt starts unless it can end within the budget. */
  attemptTimeoutMs: number;
  /** Stores the units. Called again after a failure, so it must be idempotent (attempt > 1 may find them stored). */
  write: (units: Unit[], rows: number, attempt: number) => Promise<void>;
  isTransient: (err: unknown) => boolean;
  log: Logger;
  onFlushed?: (rows: number, ms: number, attempts: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

interface Entry {
  pending: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Queued<Unit> {
  unit: Unit;
  rows: number;
  entry: Entry;
  enqueuedAt: number;
  source: string;
}

/** Where units came from (e.g. a partition), and whether more is already waiting there. */
export interface UnitSource {
  key: string;
  behind: boolean;
}

// Units added without a source: nothing is known about what follows, so they linger as before.
const UNKNOWN_SOURCE: UnitSource = { key: '\u0000unknown', behind: true };

export class WriterFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WriterFailedError';
  }
}

export class BatchWriter<Unit> {
  private queue: Queued<Unit>[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private timerDue = 0;
  private lastFlushStartedAt = Number.NEGATIVE_INFINITY;
  /** Per source with queued units: how many, and whether it was behind when it last added some. */
  private readonly sources = new Map<string, { queued: number; behind: boolean }>();
  private running: Promise<void> | undefined;
  private failure: Error | undefined;
  private readonly opts: BatchWriterOptions<Unit>;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: BatchWriterOptions<Unit>) {
    this.opts = opts;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  get bufferedRows(): number {
    return this.queuedRows;
  }

  /**
   * Queues the units; resolves when all their rows are stored, rejects if the writer gives up. `source` says
   * whether more data is waiting behind them: when no source of the queued units is behind, they are flushed at once.
   */
  add(units: Unit[], source: UnitSource = UNKNOWN_SOURCE): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const nonEmpty = units.filter((u) => this.opts.rowsOf(u) > 0);
    if (nonEmpty.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = { pending: nonEmpty.length, resolve, reject };
      const now = Date.now();
      for (const unit of nonEmpty) {
        const rows = this.opts.rowsOf(unit);
        this.queue.push({ unit, rows, entry, enqueuedAt: now, source: source.key });
        this.queuedRows += rows;
      }
      const known = this.sources.get(source.key);
      this.sources.set(source.key, { queued: (known?.queued ?? 0) + nonEmpty.length, behind: source.behind });
      this.schedule();
    });
  }

  /** True while some source of the queued units has more data waiting: then lingering fills the batch. */
  private moreWaiting(): boolean {
    for (const s of this.sources.values()) if (s.behind) return true;
    return false;
  }

  /** Flushes everything queued now, ignoring the linger time. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.running) {
        await this.running;
        continue;
      }
      if (this.queue.length === 0) return;
      this.start(true);
    }
  }

  private delayMs(now: number): number {
    return flushDelayMs({
      now,
      oldestEnqueuedAt: this.queue[0]!.enqueuedAt,
      queuedRows: this.queuedRows,
      maxRows: this.opts.maxRows,
      lingerMs: this.opts.lingerMs,
      moreWaiting: this.moreWaiting(),
      lastFlushStartedAt: this.lastFlushStartedAt,
      caughtUpGapMs: this.opts.caughtUpGapMs ?? 0,
    });
  }

  private schedule(): void {
    if (this.running) return; // the running loop picks new units up when it finishes its current flush
    if (this.queue.length === 0) return;
    if (this.queuedRows >= this.opts.maxRows) return this.start(false);
    const now = Date.now();
    const delay = this.delayMs(now);
    if (delay === 0) {
      // Flush now, but after the current turn of the event loop, so that the other partitions' batches of the same
      // fetch (handled in this turn) join the same insert.
      this.immediate ??= setImmediate(() => this.start(false));
      return;
    }
    if (this.timer && this.timerDue <= now + delay) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = now + delay;
    this.timer = setTimeout(() => this.start(false), delay);
  }

  private start(all: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    if (this.running || this.queue.length === 0) return;
    this.running = this.loop(all).finally(() => {
      this.running = undefined;
      if (!this.failure) this.schedule();
    });
  }

  private async loop(all: boolean): Promise<void> {
    while (this.queue.length > 0) {
      if (!all && this.delayMs(Date.now()) > 0) return;
      const take = this.takeBatch();
      this.lastFlushStartedAt = Date.now();
      try {
        await this.writeWithRetry(take.map((q) => q.unit), take.reduce((n, q) => n + q.rows, 0));
      } catch (err) {
        this.fail(err, take);
        return;
      }
      for (const u of take) if (--u.entry.pending === 0) u.entry.resolve();
    }
  }

  /** Whole units, up to maxRows (at least one unit, so an oversized message still goes alone). */
  private takeBatch(): Queued<Unit>[] {
    const take: Queued<Unit>[] = [];
    let rows = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (take.length > 0 && rows + next.rows > this.opts.maxRows) break;
      take.push(this.queue.shift()!);
      rows += next.rows;
      const source = this.sources.get(next.source)!;
      if (--source.queued === 0) this.sources.delete(next.source);
    }
    this.queuedRows -= rows;
    return take;
  }

  private async writeWithRetry(units: Unit[], rows: number): Promise<void> {
    const started = Date.now();
    let delay = 200;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.write(units, rows, attempt);
        this.opts.onFlushed?.(rows, Date.now() - started, attempt);
        return;
      } catch (err) {
        const elapsed = Date.now() - started;
        if (!this.opts.isTransient(err)) throw new WriterFailedError(`insert of ${rows} rows failed permanently: ${(err as Error).message}`, { cause: err });
        if (elapsed + delay + this.opts.attemptTimeoutMs > this.opts.stallBudgetMs) {
          throw new WriterFailedError(`insert of ${rows} rows still failing after ${attempt} attempts in ${elapsed} ms: ${(err as Error).message}`, { cause: err });
        }
        this.opts.log.warn({ err: (err as Error).message, attempt, rows, retryInMs: delay }, 'insert failed, retrying');
        await this.sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private fail(err: unknown, inFlight: Queued<Unit>[]): void {
    this.failure = err instanceof Error ? err : new Error(String(err));
    const entries = new Set([...inFlight, ...this.queue].map((u) => u.entry));
    this.queue = [];
    this.queuedRows = 0;
    this.sources.clear();
    for (const e of entries) e.reject(this.failure);
  }
}

export interface FlushTiming {
  now: number;
  oldestEnqueuedAt: number;
  queuedRows: number;
  maxRows: number;
  lingerMs: number;
  /** Some source of the queued units had more data waiting in Kafka. */
  moreWaiting: boolean;
  lastFlushStartedAt: number;
  caughtUpGapMs: number;
}

/**
 * How long the queued units may still wait before they are inserted (0: now). Full batches go at once. While more
 * data is waiting, the oldest unit lingers up to `lingerMs` so that it fills the batch. Caught up, waiting fills
 * nothing, so they go at once — unless the last insert began less than `caughtUpGapMs` ago.
 */
export function flushDelayMs(t: FlushTiming): number {
  if (t.queuedRows >= t.maxRows) return 0;
  const lingerDue = t.oldestEnqueuedAt + t.lingerMs;
  const due = t.moreWaiting ? lingerDue : Math.min(lingerDue, t.lastFlushStartedAt + t.caughtUpGapMs);
  return Math.max(0, due - t.now);
}
