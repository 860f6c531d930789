// Stored progress is keyed by topic name and partition. A topic deleted and recreated under the same name, or a
// partition whose offsets were reset, starts again from offset 0 while the progress still says "stored up to N":
// every new message up to N would be skipped as already stored — silent loss. The partition's high watermark
// exposes it: nothing can be stored at or past the end of a partition. Pure.

export class ProgressAheadError extends Error {
  constructor(topic: string, partition: number, storedUpTo: number, highWatermark: number) {
    super(
      `stored progress of ${topic}[${partition}] is offset ${storedUpTo}, but the partition ends before offset ${highWatermark}: ` +
        'the topic was deleted and recreated, or its offsets were reset. Refusing to skip its messages as already stored. ' +
        'Once the rows of the old topic are dealt with, remove its progress and markers (services/ingest-worker/README.md, "A topic recreated").',
    );
    this.name = 'ProgressAheadError';
  }
}

/** True when `storedUpTo` (highest stored offset) lies at or past the end of the partition. */
export function progressAheadOfPartition(storedUpTo: number, highWatermark: number | undefined): boolean {
  return highWatermark !== undefined && Number.isFinite(highWatermark) && storedUpTo >= highWatermark;
}
