// Exact Wasserstein-1 numerators (∫|F1 − F2| dx · n1 · n2) of numerical columns without sorting every value: one
// aggregation into buckets integrates everything but the buckets where F1 − F2 may change sign, and those are read
// value by value (packages/drift/src/wasserstein-buckets.ts). Columns whose ambiguous buckets hold too many values
// fall back to the sorted merged ECDF. The same reads count the column's histogram: buckets inside one bin add up in
// ClickHouse, the few that straddle an edge are read value by value with the ambiguous ones.
import { bucketValues, ecdfStatistics, wassersteinBuckets, type BucketGrid, type ClickHouse, type DriftProfileRow, type EcdfRow, type RowSelection } from '@runstream/clickhouse';
import { integrateSorted } from '@runstream/drift';

export const WASSERSTEIN_BUCKETS = 65_536;
/** Ambiguous buckets of one column read value by value; beyond this the column sorts instead. */
const MAX_BUCKETS_READ = 4_000;
/** The value ranges that prune the read of ambiguous buckets: at most this many per column (neighbours merged). */
const MAX_RANGES_PER_COLUMN = 8;
/** Columns computed at once (one query each: a column's aggregation runs on every core anyway). */
const CONCURRENCY = 4;

export interface WassersteinColumn {
  profile: DriftProfileRow;
  /** The column's histogram edges (numpy's bins); the answer carries the counts per bin. */
  histogram: readonly number[];
}

export type WassersteinResult = EcdfRow & { histogram: { reference: number[]; current: number[] } };

export async function wassersteinNumerators(ch: ClickHouse, ref: RowSelection, cur: RowSelection, columns: readonly WassersteinColumn[]): Promise<WassersteinResult[]> {
  const out: WassersteinResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < columns.length) out.push(await oneColumn(ch, ref, cur, columns[next++]!));
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, columns.length) }, worker));
  return out;
}

async function oneColumn(ch: ClickHouse, ref: RowSelection, cur: RowSelection, c: WassersteinColumn): Promise<WassersteinResult> {
  const p = c.profile;
  const grids: BucketGrid[] = [{ column: p.column, min: p.min, max: p.max, buckets: WASSERSTEIN_BUCKETS, histogram: c.histogram }];
  const [w] = await wassersteinBuckets(ch, ref, cur, grids);
  if (!w || !w.histogram) throw new Error(`no values of column ${p.column}`);
  const sorting = w.ambiguous.length > MAX_BUCKETS_READ;
  // Ambiguous buckets are many and close together: a few merged ranges. Straddling buckets are one per edge at most,
  // far apart: each its own narrow range.
  const ambiguous = sorting ? [] : mergeRanges(w.ambiguous.map((a) => ({ column: w.column, bucket: a.bucket, lo: a.lo, hi: a.hi })));
  const inAmbiguous = new Set(ambiguous.map((a) => a.bucket));
  const split = w.histogram.split.filter((s) => !inAmbiguous.has(s.bucket)).map((s) => ({ column: w.column, ...s }));
  const [values, sorted] = await Promise.all([
    bucketValues(ch, ref, cur, grids, [...ambiguous, ...split]),
    sorting ? ecdfStatistics(ch, ref, cur, [p.column]) : Promise.resolve(undefined),
  ]);
  const readBack = (bucket: number) => {
    const v = values.get(`${w.column}\u0000${bucket}`);
    if (!v) throw new Error(`bucket ${bucket} of column ${w.column} was not read back`);
    return v;
  };
  const histogram = { reference: [...w.histogram.reference], current: [...w.histogram.current] };
  for (const s of w.histogram.split) {
    const v = readBack(s.bucket);
    for (let i = 0; i < v.values.length; i++) (v.sides[i] === 1 ? histogram.reference : histogram.current)[numpyBin(c.histogram, v.values[i]!)]!++;
  }
  if (sorted) return { ...sorted[0]!, histogram };
  let total = w.resolved;
  for (const a of w.ambiguous) {
    const v = readBack(a.bucket);
    total += integrateSorted(v.values, v.sides, a.dStart, w.n1, w.n2);
  }
  return { column: w.column, n1: w.n1, n2: w.n2, dNumerator: NaN, wNumerator: total, histogram };
}

/** np.histogram's bin of a value within [edges[0], last edge]: [e_i, e_i+1), the last bin closed. */
function numpyBin(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (value >= edges[mid]!) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The buckets to read, with value ranges widened so that each column has at most MAX_RANGES_PER_COLUMN distinct
 * ranges (neighbouring buckets share one): few OR terms for the primary key to prune with.
 */
function mergeRanges<T extends { column: string; bucket: number; lo: number; hi: number }>(wanted: T[]): T[] {
  const out: T[] = [];
  const byColumn = new Map<string, T[]>();
  for (const w of wanted) {
    let list = byColumn.get(w.column);
    if (!list) byColumn.set(w.column, (list = []));
    list.push(w);
  }
  for (const list of byColumn.values()) {
    list.sort((a, b) => a.bucket - b.bucket);
    let gap = 1;
    let groups: T[][];
    for (;;) {
      groups = [];
      for (const w of list) {
        const last = groups[groups.length - 1];
        if (last && w.bucket - last[last.length - 1]!.bucket <= gap) last.push(w);
        else groups.push([w]);
      }
      if (groups.length <= MAX_RANGES_PER_COLUMN) break;
      gap *= 2;
    }
    for (const g of groups) for (const w of g) out.push({ ...w, lo: g[0]!.lo, hi: g[g.length - 1]!.hi });
  }
  return out;
}
