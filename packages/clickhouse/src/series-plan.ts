// How a downsampled read is planned: one bucket width for every series of a request (so runs line up bucket for
// bucket), and the coarsest rollup level (migration 0006) the buckets can be read from exactly. Pure functions.

export type SeriesAxis = 'step' | 'time';

/** Granularities of the rollups (metric_rollup_v3) per axis, ascending; 1 stands for the raw points. */
export const ROLLUP_GRANULARITIES: Record<SeriesAxis, readonly number[]> = {
  step: [64, 1024, 16384],
  time: [4000, 64000, 1024000],
};

export interface BucketPlan {
  /** Width of a bucket in x units (steps or ms): bucket k holds k*width <= x < (k+1)*width. */
  width: number;
  /** Rollup granularity the buckets are merged from; 1 = aggregate the raw points. width is a multiple of it. */
  granularity: number;
}

/**
 * The narrowest width that fits [lo, hi] (inclusive) into at most `buckets` aligned buckets, rounded up to a
 * multiple of the coarsest rollup granularity not wider than it — or widened to the next level when that is at
 * most twice as wide (then at least about half the buckets asked for come back, from far fewer rows). Reading
 * level g costs about span/g rows per series: under 8 * buckets, because consecutive levels are 16 apart and a
 * width of 8 g or more takes the next level.
 */
export function planBuckets(axis: SeriesAxis, lo: number, hi: number, buckets: number): BucketPlan {
  if (!(buckets >= 1) || !Number.isInteger(buckets)) throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  if (hi < lo) return { width: 1, granularity: 1 };
  let width = Math.max(1, Math.ceil((hi - lo + 1) / buckets));
  // Aligned buckets can need one more than the span suggests; widen until they fit.
  while (!fits(lo, hi, width, buckets)) width++;
  const levels = ROLLUP_GRANULARITIES[axis];
  const wider = levels.find((g) => g > width);
  if (wider !== undefined && wider <= 2 * width && fits(lo, hi, wider, buckets)) return { width: wider, granularity: wider };
  const granularity = [...levels].reverse().find((g) => g <= width) ?? 1;
  if (granularity === 1) return { width, granularity };
  let aligned = Math.ceil(width / granularity) * granularity;
  while (!fits(lo, hi, aligned, buckets)) aligned += granularity;
  return { width: aligned, granularity };
}

function fits(lo: number, hi: number, width: number, buckets: number): boolean {
  return bucketIndex(hi, width) - bucketIndex(lo, width) + 1 <= buckets;
}

/** Floor division, as the SQL computes it (intDiv(x, w) - (x % w < 0)). */
export function bucketIndex(x: number, width: number): number {
  return Math.floor(x / width);
}
