// What Runstream already holds, as the import plan needs it; and the wait for in-flight writes before reading it.
import { queryRows, readIngestProgress, sql, type ClickHouse } from '@runstream/clickhouse';
import type { Admin } from '@runstream/kafka';
import type { StoredSeries } from './import-plan.ts';

/** Per metric key of a run: how many points are stored, and the sums of their steps and timestamps. */
export async function storedSeries(ch: ClickHouse, runId: string): Promise<Map<string, StoredSeries>> {
  const rows = await queryRows<{ key: string; n: string | number; steps: string | number; ts: string | number }>(
    ch,
    sql`SELECT key, count() AS n, sum(step) AS steps, sum(timestamp_ms) AS ts
        FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id = ${runId}
        GROUP BY key`,
  );
  return new Map(rows.map((r) => [r.key, { count: Number(r.n), stepSum: BigInt(String(r.steps)), timestampSum: BigInt(String(r.ts)) }]));
}

export class IngestBehindError extends Error {
  constructor(timeoutMs: number, pending: string[]) {
    super(
      `the ingest worker has not stored what is already in Kafka (${pending.slice(0, 6).join(', ')}${pending.length > 6 ? ', …' : ''}) ` +
        `after ${Math.round(timeoutMs / 1000)} s; is it running? The importer counts what is stored, so it waits for writes in flight ` +
        `(e.g. from an interrupted import) rather than sending them twice.`,
    );
    this.name = 'IngestBehindError';
  }
}

/**
 * Waits until everything that is in the topics now is stored (or, for messages that were dead-lettered, committed by
 * the worker's group). After this, counting what is stored is counting what was ever sent — including the last
 * message of an import that was killed after Kafka acknowledged it and before the worker stored it.
 */
export async function waitUntilIngested(
  admin: Admin,
  ch: ClickHouse,
  topics: readonly string[],
  groupId: string,
  opts: { timeoutMs: number; sleep?: (ms: number) => Promise<void>; onWait?: (pending: string[]) => void },
): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const targets = new Map<string, { partition: number; end: number }[]>();
  for (const topic of topics) {
    targets.set(topic, (await admin.lag(groupId, topic)).filter((p) => p.end > 0).map((p) => ({ partition: p.partition, end: p.end })));
  }
  const deadline = Date.now() + opts.timeoutMs;
  let announced = false;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    const pending: string[] = [];
    for (const [topic, parts] of targets) {
      if (parts.length === 0) continue;
      const [stored, committed] = await Promise.all([readIngestProgress(ch, topic), admin.lag(groupId, topic)]);
      const committedBy = new Map(committed.map((c) => [c.partition, c.committed]));
      for (const { partition, end } of parts) {
        if ((stored.get(partition) ?? -1) >= end - 1) continue;
        if ((committedBy.get(partition) ?? 0) >= end) continue;
        pending.push(`${topic}[${partition}] up to offset ${end - 1}`);
      }
    }
    if (pending.length === 0) return;
    if (Date.now() >= deadline) throw new IngestBehindError(opts.timeoutMs, pending);
    if (!announced) opts.onWait?.(pending);
    announced = true;
    await sleep(delay);
  }
}
