// The state MLflow's run writes are validated against (the run exists and is active; params are immutable), kept
// per instance so that the hot path — log-metric, log-batch, set-tag in a training loop — costs one Kafka offset
// lookup instead of ClickHouse queries. An entry is valid exactly while the run's tracking partition has not
// moved: any event appended there since (through this instance or another) makes the next write read the state
// again, fenced to that offset. So a delete through one instance is seen by the next write through another.
import type { RunRow } from '@runstream/clickhouse';
import { KeyedLock } from './keyed-lock.ts';

export interface RunState {
  run: RunRow;
  /** Logged params, key → value. */
  params: Map<string, string>;
}

/** A run's tracking partition and its high watermark when the state was read. */
export interface PartitionStamp {
  partition: number;
  end: number;
}

export interface RunStateCacheDeps {
  /** The run's tracking partition and its current high watermark (fetched after the call). */
  stampOf: (runId: string) => Promise<PartitionStamp>;
  /** The run's state with every event below `stamp.end` processed (waits for the worker); undefined if no run. */
  load: (runId: string, stamp: PartitionStamp) => Promise<RunState | undefined>;
  maxEntries?: number;
}

interface Entry {
  state: RunState;
  end: number;
}

export class RunStateCache {
  private readonly entries = new Map<string, Entry>();
  private readonly locks = new KeyedLock();
  private readonly deps: RunStateCacheDeps;
  private readonly maxEntries: number;
  hits = 0;
  misses = 0;

  constructor(deps: RunStateCacheDeps) {
    this.deps = deps;
    this.maxEntries = deps.maxEntries ?? 10_000;
  }

  /** The run's state as of every tracking write acknowledged before the call. */
  async get(runId: string): Promise<{ state: RunState | undefined; stamp: PartitionStamp }> {
    const stamp = await this.deps.stampOf(runId);
    const cached = this.entries.get(runId);
    if (cached && cached.end === stamp.end) {
      this.hits++;
      return { state: cached.state, stamp };
    }
    this.misses++;
    const state = await this.deps.load(runId, stamp);
    if (state) this.remember(runId, { state, end: stamp.end });
    else this.entries.delete(runId);
    return { state, stamp };
  }

  /**
   * After this instance appended events for the run: if they directly follow the state it validated against
   * (nothing else landed in the partition in between), the new state is known exactly; otherwise forget it.
   */
  recordWrite(runId: string, validatedAt: PartitionStamp | undefined, written: { partition: number; firstOffset: number; lastOffset: number }, next: RunState): void {
    if (validatedAt && validatedAt.partition === written.partition && validatedAt.end === written.firstOffset) {
      this.remember(runId, { state: next, end: written.lastOffset + 1 });
    } else {
      this.entries.delete(runId);
    }
  }

  /** A run created through this instance: its own events are the first for its key. */
  recordCreate(runId: string, written: { lastOffset: number }, state: RunState): void {
    // Other keys may have appended to the partition meanwhile; the next get() compares with the high watermark
    // and reloads if so, which is always correct.
    this.remember(runId, { state, end: written.lastOffset + 1 });
  }

  /**
   * Runs `fn` alone among this instance's writes of the run, so that two writes validated against the same state
   * (two values for one param) cannot both pass here. Writes through other instances are ordered by Kafka.
   */
  exclusive<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(runId, fn);
  }

  private remember(runId: string, entry: Entry): void {
    this.entries.delete(runId);
    this.entries.set(runId, entry);
    // Map order is insertion order: the first key is the least recently stored.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
