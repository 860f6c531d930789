// Read-your-writes, paid at read time and only when behind. A write is acknowledged once Kafka has it (acks=all);
// a read that must reflect every write acknowledged before it began asks Kafka for the high watermarks of the
// partitions it reads (taken after the read began, so they cover those writes) and waits only while the ingest
// worker has not processed up to them. Nothing is kept per instance, so it holds across query-service instances:
// a write through one, a read through another.
import { progressKey, readIngestProgressOf, type ClickHouse } from '@runstream/clickhouse';
import type { Admin } from '@runstream/kafka';
import { fenceTargets, nextPollDelayMs, unmetTargets, type FenceTarget } from './fence-plan.ts';
import { FreshFetch } from './fresh-fetch.ts';

export class NotYetVisibleError extends Error {
  readonly retryAfterSec: number;
  constructor(budgetMs: number, behind: readonly FenceTarget[]) {
    const where = behind.slice(0, 3).map((t) => `${t.topic}[${t.partition}]@${t.offset}`).join(', ');
    super(`acknowledged writes were not readable within ${budgetMs} ms (the ingest worker is down or behind on ${where}${behind.length > 3 ? ', …' : ''}); retry later`);
    this.name = 'NotYetVisibleError';
    this.retryAfterSec = Math.max(1, Math.ceil(budgetMs / 1000));
  }
}

/** What a read touches: every partition of a topic. */
export interface FenceScope {
  topic: string;
}

/** The partition a key's messages land in, and that partition's high watermark when it was asked. */
export interface KeyPosition {
  partition: number;
  end: number;
}

export interface ReadFenceDeps {
  admin: Pick<Admin, 'endOffsets' | 'committedOffsets'>;
  partitionOf: (key: string, partitions: number) => number;
  ch: ClickHouse;
  /** The ingest worker's consumer group, whose commits also mark messages processed without rows. */
  ingestGroupId: string;
  /** How long a read may wait before it is answered 503 + Retry-After. */
  budgetMs: number;
}

export class ReadFence {
  private readonly deps: ReadFenceDeps;
  private readonly ends = new Map<string, FreshFetch<number[]>>();
  private progressRead: Promise<Map<string, number>> | undefined;
  private progressTopics = new Set<string>();

  constructor(deps: ReadFenceDeps) {
    this.deps = deps;
  }

  /** The high watermarks of `topic`, fetched after this call began (concurrent callers share one fetch). */
  async endOffsets(topic: string): Promise<number[]> {
    let f = this.ends.get(topic);
    if (!f) {
      f = new FreshFetch(() => this.deps.admin.endOffsets(topic).catch((err: Error) => {
        // A topic that does not exist yet has no acknowledged writes to wait for.
        if (/does not host this topic-partition|UNKNOWN_TOPIC/i.test(err.message)) return [];
        throw err;
      }));
      this.ends.set(topic, f);
    }
    return f.get();
  }

  /** The offsets a read of `scopes` must see: everything acknowledged on them before this call. */
  async targets(scopes: readonly FenceScope[]): Promise<FenceTarget[]> {
    const perScope = await Promise.all(scopes.map(async (s) => fenceTargets(s.topic, await this.endOffsets(s.topic))));
    return perScope.flat();
  }

  /** Where `key`'s messages land in `topic`, with that partition's high watermark fetched after the call. */
  async positionOf(topic: string, key: string): Promise<KeyPosition> {
    const ends = await this.endOffsets(topic);
    const partition = this.deps.partitionOf(key, Math.max(1, ends.length));
    return { partition, end: ends[partition] ?? 0 };
  }

  /** Waits until everything below `position` in its partition of `topic` is processed. */
  async storedThrough(topic: string, position: KeyPosition, budgetMs = this.deps.budgetMs): Promise<void> {
    await this.waitFor(position.end > 0 ? [{ topic, partition: position.partition, offset: position.end - 1 }] : [], budgetMs);
  }

  /** Waits until every write acknowledged on `scopes` before the call is readable; NotYetVisibleError past the budget. */
  async wait(scopes: readonly FenceScope[], budgetMs = this.deps.budgetMs): Promise<void> {
    await this.waitFor(await this.targets(scopes), budgetMs);
  }

  /** Waits until the ingest worker has processed every target. */
  async waitFor(targets: readonly FenceTarget[], budgetMs = this.deps.budgetMs): Promise<void> {
    if (targets.length === 0) return;
    const started = Date.now();
    const topics = [...new Set(targets.map((t) => t.topic))];
    let behind = unmetTargets(targets, lookup(await this.progress(topics)));
    for (let attempt = 0; behind.length > 0; attempt++) {
      const elapsed = Date.now() - started;
      if (elapsed >= budgetMs) throw new NotYetVisibleError(budgetMs, behind);
      await sleep(Math.min(nextPollDelayMs(attempt), budgetMs - elapsed));
      const progress = lookup(await this.progress(topics));
      behind = unmetTargets(behind, progress);
      // Stored progress moves with every insert; commits matter only where a partition ends in messages that
      // produced no rows (dead letters), so they are asked for only once a read has waited a while.
      if (behind.length > 0 && attempt >= 3) behind = unmetTargets(behind, progress, lookup(await this.committed(behind)));
    }
  }

  /** Stored progress of `topics`; concurrent waiters share one query (progress only grows, so any answer is a lower bound). */
  private progress(topics: readonly string[]): Promise<Map<string, number>> {
    const covered = topics.every((t) => this.progressTopics.has(t));
    if (this.progressRead && covered) return this.progressRead;
    const asked = new Set(topics);
    const p = readIngestProgressOf(this.deps.ch, [...asked]);
    this.progressRead = p;
    this.progressTopics = asked;
    const clear = () => {
      if (this.progressRead === p) this.progressRead = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private async committed(targets: readonly FenceTarget[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const topic of new Set(targets.map((t) => t.topic))) {
      for (const [partition, offset] of await this.deps.admin.committedOffsets(this.deps.ingestGroupId, topic)) out.set(progressKey(topic, partition), offset);
    }
    return out;
  }
}

const lookup = (m: Map<string, number>) => (topic: string, partition: number) => m.get(progressKey(topic, partition));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
