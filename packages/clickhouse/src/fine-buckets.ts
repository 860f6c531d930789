// The finest rollup level, computed where the points already are (the ingest worker) instead of by ClickHouse per
// point: per metric key, 64 steps x 4 s. The summaries and every rollup level are merged from these (migration
// 0014), a few rows per thousand points. Pure.

/** Width of a fine bucket on the step axis; every step rollup granularity is a multiple of it. */
export const FINE_STEP = 64;
/** Width of a fine bucket on the time axis (ms); every time rollup granularity is a multiple of it. */
export const FINE_TIME_MS = 4000;

export interface FineBucket {
  /** Index into the unit's key list. */
  key: number;
  /** floor(step / FINE_STEP), floor(timestamp_ms / FINE_TIME_MS). */
  stepBucket: number;
  timeBucket: number;
  n: number;
  nans: number;
  /** Over the values that are not NaN (NaN when every value is; `sum` is then 0). */
  min: number;
  max: number;
  sum: number;
  /** Value of the point with the highest (step, timestamp); ties keep the first such point. */
  last: number;
  lastStep: number;
  lastTs: number;
  firstStep: number;
  firstTs: number;
  maxTs: number;
}

export interface PointColumns {
  /** Index into the key list, per point. */
  key: ArrayLike<number>;
  value: ArrayLike<number>;
  step: ArrayLike<number>;
  ts: ArrayLike<number>;
}

/**
 * The fine buckets of one message's points, in order of first appearance. Consecutive points usually share a bucket
 * (a series logged in order), so the bucket is looked up by key only when it changes.
 */
export function fineBuckets(p: PointColumns): FineBucket[] {
  const out: FineBucket[] = [];
  const index = new Map<string, FineBucket>();
  let cur: FineBucket | undefined;
  for (let i = 0; i < p.value.length; i++) {
    const key = p.key[i]!;
    const step = p.step[i]!;
    const ts = p.ts[i]!;
    const sb = Math.floor(step / FINE_STEP);
    const tb = Math.floor(ts / FINE_TIME_MS);
    if (!cur || cur.key !== key || cur.stepBucket !== sb || cur.timeBucket !== tb) {
      const id = `${key}|${sb}|${tb}`;
      cur = index.get(id);
      if (!cur) {
        cur = { key, stepBucket: sb, timeBucket: tb, n: 0, nans: 0, min: NaN, max: NaN, sum: 0, last: NaN, lastStep: step, lastTs: ts, firstStep: step, firstTs: ts, maxTs: ts };
        index.set(id, cur);
        out.push(cur);
      }
    }
    const v = p.value[i]!;
    if (cur.n === 0 || step > cur.lastStep || (step === cur.lastStep && ts > cur.lastTs)) {
      cur.last = v;
      cur.lastStep = step;
      cur.lastTs = ts;
    }
    cur.n++;
    if (Number.isNaN(v)) cur.nans++;
    else {
      // Comparisons written so that the first non-NaN value replaces the NaN placeholder.
      if (!(v >= cur.min)) cur.min = v;
      if (!(v <= cur.max)) cur.max = v;
      cur.sum += v;
    }
    if (step < cur.firstStep) cur.firstStep = step;
    if (ts < cur.firstTs) cur.firstTs = ts;
    if (ts > cur.maxTs) cur.maxTs = ts;
  }
  return out;
}
