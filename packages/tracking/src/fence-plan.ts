// What a read must wait for, as plain data: the offsets acknowledged before it began, and which of them the ingest
// worker has not yet processed. Pure functions, so the rules are unit-tested without servers.

/** The last acknowledged offset of one partition, which a reader must see processed. */
export interface FenceTarget {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * Targets from a topic's high watermarks (index = partition; the next offset to be written). Partitions that never
 * received a message have nothing to wait for. `partitions` narrows the fence to the partitions a read touches.
 */
export function fenceTargets(topic: string, endOffsets: readonly number[], partitions?: readonly number[]): FenceTarget[] {
  const wanted = partitions ? new Set(partitions) : undefined;
  const out: FenceTarget[] = [];
  endOffsets.forEach((end, partition) => {
    if (end > 0 && (!wanted || wanted.has(partition))) out.push({ topic, partition, offset: end - 1 });
  });
  return out;
}

/**
 * The targets not yet processed. A message counts as processed when its rows are stored (the worker's progress,
 * highest stored offset) or when the ingest group has committed past it — which the worker does only after the
 * rows are durable, and which also covers messages that produced no rows (dead letters, skipped duplicates).
 */
export function unmetTargets(
  targets: readonly FenceTarget[],
  stored: (topic: string, partition: number) => number | undefined,
  committed: (topic: string, partition: number) => number | undefined = () => undefined,
): FenceTarget[] {
  return targets.filter((t) => {
    if ((stored(t.topic, t.partition) ?? -1) >= t.offset) return false;
    return (committed(t.topic, t.partition) ?? 0) <= t.offset;
  });
}

/** The wait before the next look: short at first (the worker flushes at once when caught up), then backing off. */
export function nextPollDelayMs(attempt: number): number {
  return Math.min(2 * 2 ** attempt, 25);
}
