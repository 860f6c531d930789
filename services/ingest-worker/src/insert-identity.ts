// Every attempt of one batch must be the same insert: the same bytes (so replicated tables can deduplicate a retry)
// and the same name on the server. The name carries the topic and the partitions, so that before a worker reads the
// stored progress of some partitions it can wait for any insert of them still running on the server — its own
// earlier attempt that the client gave up on, or the previous owner's — instead of reading "not stored" while that
// insert is about to commit.
import { createHash } from 'node:crypto';

export const INSERT_ID_PREFIX = 'runstream-ingest|';

export interface BatchIdentity {
  /** The query_id of every attempt of the batch. */
  queryId: string;
  /** Unix seconds, fixed at the batch's first attempt. */
  ingestedAt: number;
}

/** The identity of a batch from where its units came from. */
export function batchIdentity(topic: string, sources: readonly { partition: number; offset: number }[], nowMs: number): BatchIdentity {
  const ranges = new Map<number, { min: number; max: number }>();
  for (const { partition, offset } of sources) {
    const r = ranges.get(partition);
    if (!r) ranges.set(partition, { min: offset, max: offset });
    else {
      r.min = Math.min(r.min, offset);
      r.max = Math.max(r.max, offset);
    }
  }
  const partitions = [...ranges.keys()].sort((a, b) => a - b);
  const digest = createHash('sha256')
    .update(partitions.map((p) => `${p}:${ranges.get(p)!.min}-${ranges.get(p)!.max}`).join(','))
    .digest('hex')
    .slice(0, 16);
  return { queryId: `${insertIdPrefix(topic)}${partitions.join(',')}|${digest}`, ingestedAt: Math.floor(nowMs / 1000) };
}

export const insertIdPrefix = (topic: string): string => `${INSERT_ID_PREFIX}${topic}|`;

/** The partitions an insert of `topic` covers, from its query_id (none if the id is not one of ours for the topic). */
export function partitionsOfInsert(topic: string, queryId: string): number[] {
  const prefix = insertIdPrefix(topic);
  if (!queryId.startsWith(prefix)) return [];
  const [list] = queryId.slice(prefix.length).split('|');
  return (list ?? '').split(',').filter((p) => /^\d+$/.test(p)).map(Number);
}
