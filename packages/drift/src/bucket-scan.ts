// Exact ECDF statistics of two samples from bucket summaries, reading single values only where a bucket could hide
// something. A bucket holds both sides' values in [lo, hi] (buckets are disjoint and come in value order) with counts
// and sums of offsets from a point p. Scaled by n1·n2, F1 − F2 is the integer D(x) = a(x)·n2 − b(x)·n1 (a, b: values
// ≤ x per side), so:
// (A bucket's [lo, hi] may be wider than its values — a slice of a fixed grid — as long as buckets do not overlap.)
//
// - Wasserstein-1 (∫ |D| dx): between buckets D is constant, so gaps integrate exactly. Inside a bucket starting at
//   D0, ∫ D dx = D0·(hi − lo) + n2·Σref(hi − v) − n1·Σcur(hi − v), and Σ(hi − v) = c·(hi − p) − Σ(v − p). That is
//   ∫ |D| whenever D cannot change sign inside: D stays within [D0 − c2·n1, D0 + c1·n2].
// - Kolmogorov-Smirnov (max |D| after each distinct value): D after a bucket is a candidate; a bucket matters only
//   where |D| could exceed the best candidate somewhere inside it.
// - Histograms (numpy's bins): a bucket whose lo and hi fall in one bin adds its counts to that bin.
//
// Buckets that stay undecided are returned as pending: the caller reads them again, finer (sub-buckets, scanned by
// this same function) or value by value (scanValues).

/** One bucket of a numerical column, both sides (side 1 = reference). */
export interface ValueBucket {
  /** The point the offset sums are taken from. */
  point: number;
  /** Bounds of the bucket's values (both sides): their extremes, or the slice of a grid they fall in. */
  lo: number;
  hi: number;
  c1: number;
  c2: number;
  /** Σ(v − point) per side. */
  s1: number;
  s2: number;
  /** Σ(v − point)² of the reference side (for its standard deviation). */
  q1: number;
}

export interface ScanGoals {
  wasserstein: boolean;
  ks: boolean;
  /** Per histogram (edges[i]): whether this scan counts it. */
  histograms: readonly boolean[];
}

/** What a column's scans add up to. */
export interface ScanTotals {
  n1: number;
  n2: number;
  /** ∫ |F1 − F2| dx so far (the Wasserstein-1 distance once every bucket is settled). */
  wasserstein: number;
  /** max |D| so far (the KS statistic · n1 · n2). */
  dNumerator: number;
  /** Counts per histogram and bin. */
  histograms: { reference: number[]; current: number[] }[];
}

export interface PendingBucket<B extends ValueBucket = ValueBucket> {
  bucket: B;
  /** D just before the bucket. */
  dStart: number;
  goals: ScanGoals;
}

const EPSILON = 2 ** -53;
/** The rounding error allowed in the Wasserstein integral of one scan, relative to what it adds up. */
const MAX_RELATIVE_ERROR = 1e-12;

export function emptyTotals(n1: number, n2: number, edges: readonly (readonly number[])[]): ScanTotals {
  return { n1, n2, wasserstein: 0, dNumerator: 0, histograms: edges.map((e) => ({ reference: new Array<number>(e.length - 1).fill(0), current: new Array<number>(e.length - 1).fill(0) })) };
}

/** np.histogram's bin of a value within [edges[0], last edge]: [e_i, e_i+1), the last bin closed. */
export function numpyBin(edges: readonly number[], value: number): number {
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
 * Scans buckets in value order from D = dStart, adding what they decide to `totals` and returning the buckets that
 * must be read finer. Exact while |D| stays below 2^53 (n1·n2 < 9·10^15).
 */
export function scanBuckets<B extends ValueBucket>(buckets: readonly B[], dStart: number, goals: ScanGoals, edges: readonly (readonly number[])[], totals: ScanTotals): PendingBucket<B>[] {
  const { n1, n2 } = totals;
  const wBefore = totals.wasserstein;
  // D / (n1·n2) = F1 − F2: multiplied by a width only once scaled, so that widths near the largest double stay finite.
  const scale = 1 / (n1 * n2);
  const starts = new Array<number>(buckets.length);
  let d = dStart;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    starts[i] = d;
    if (goals.wasserstein && i > 0) totals.wasserstein += Math.abs(d) * scale * (b.lo - buckets[i - 1]!.hi);
    d += b.c1 * n2 - b.c2 * n1;
    if (goals.ks) totals.dNumerator = Math.max(totals.dNumerator, Math.abs(d));
  }
  // Wasserstein from sums: what each sign-stable bucket adds, and a bound on that number's rounding error. Sums of
  // offsets from a point far from a bucket's values (relative to their spread) cancel: such a bucket is read again.
  const contribution = new Float64Array(buckets.length);
  const errorBound = new Float64Array(buckets.length);
  const ambiguous = new Uint8Array(buckets.length);
  let settled = totals.wasserstein - wBefore;
  let bound = 0;
  if (goals.wasserstein) {
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (!(b.hi > b.lo)) continue;
      const d0 = starts[i]!;
      if (d0 - b.c2 * n1 >= 0 || d0 + b.c1 * n2 <= 0) {
        const width = b.hi - b.point;
        // (D0·(hi − lo) + n2·Σref(hi − v) − n1·Σcur(hi − v)) / (n1·n2), each term scaled before it is multiplied.
        contribution[i] = Math.abs(d0 * scale * (b.hi - b.lo) + (b.c1 / n1) * width - b.s1 / n1 - ((b.c2 / n2) * width - b.s2 / n2));
        // Σ(v − point) of c values each at most `reach` from the point, summed one by one: error ≤ c²·reach·ε.
        const reach = Math.max(Math.abs(b.lo - b.point), Math.abs(b.hi - b.point));
        errorBound[i] = EPSILON * (Math.abs(d0) * scale * (b.hi - b.lo) + ((b.c1 * (b.c1 + 2)) / n1 + (b.c2 * (b.c2 + 2)) / n2) * reach);
        settled += contribution[i]!;
        bound += errorBound[i]!;
      } else ambiguous[i] = 1;
    }
    // Within 1e-12 of the result: drop the least precise buckets from the sum until the rest is.
    if (bound > MAX_RELATIVE_ERROR * settled) {
      const order = [...errorBound.keys()].filter((i) => errorBound[i]! > 0).sort((x, y) => errorBound[y]! - errorBound[x]!);
      for (const i of order) {
        if (bound <= MAX_RELATIVE_ERROR * settled) break;
        bound -= errorBound[i]!;
        settled -= contribution[i]!;
        contribution[i] = 0;
        ambiguous[i] = 1;
      }
    }
    for (let i = 0; i < buckets.length; i++) totals.wasserstein += contribution[i]!;
  }
  const pending: PendingBucket<B>[] = [];
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    const d0 = starts[i]!;
    const spread = b.hi > b.lo;
    const wasserstein = ambiguous[i] === 1;
    const ks = goals.ks && spread && Math.max(Math.abs(d0 - b.c2 * n1), Math.abs(d0 + b.c1 * n2)) > totals.dNumerator;
    const histograms = goals.histograms.map((wanted, h) => {
      if (!wanted) return false;
      const bin = numpyBin(edges[h]!, b.lo);
      if (bin !== numpyBin(edges[h]!, b.hi)) return true;
      totals.histograms[h]!.reference[bin]! += b.c1;
      totals.histograms[h]!.current[bin]! += b.c2;
      return false;
    });
    if (wasserstein || ks || histograms.some(Boolean)) pending.push({ bucket: b, dStart: d0, goals: { wasserstein, ks, histograms } });
  }
  return pending;
}

/** Finishes a pending bucket from its values, sorted ascending (side 1 = reference). */
export function scanValues(values: ArrayLike<number>, sides: ArrayLike<number>, p: PendingBucket, edges: readonly (readonly number[])[], totals: ScanTotals): void {
  const { n1, n2 } = totals;
  const scale = 1 / (n1 * n2);
  let d = p.dStart;
  // D is constant between the bucket's lower bound and its first value, and after its last value up to its bound.
  if (p.goals.wasserstein && values.length > 0) totals.wasserstein += Math.abs(d) * scale * (values[0]! - p.bucket.lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    d += sides[i] === 1 ? n2 : -n1;
    const next = i + 1 < values.length ? values[i + 1]! : undefined;
    if (p.goals.wasserstein && next !== undefined) totals.wasserstein += Math.abs(d) * scale * (next - v);
    // KS compares after the last of equal values only.
    if (p.goals.ks && next !== v) totals.dNumerator = Math.max(totals.dNumerator, Math.abs(d));
    for (let h = 0; h < edges.length; h++) {
      if (!p.goals.histograms[h]) continue;
      const side = sides[i] === 1 ? totals.histograms[h]!.reference : totals.histograms[h]!.current;
      side[numpyBin(edges[h]!, v)]!++;
    }
  }
  if (p.goals.wasserstein && values.length > 0) totals.wasserstein += Math.abs(d) * scale * (p.bucket.hi - values[values.length - 1]!);
}

export interface BucketProfile {
  n1: number;
  n2: number;
  /** Population standard deviation of the reference side; NaN where numpy's would overflow (|v| ≥ 1e154) or n1 = 0. */
  refStdPop: number;
  /**
   * False when rounding in the buckets' sums may reach 1e-12 of the variance (values far from their bucket's point
   * relative to their spread): compute it from the values instead.
   */
  refStdPrecise: boolean;
  /** The reference mean as the buckets give it (NaN without reference values). */
  refMean: number;
  /**
   * Distinct values of both sides and of the reference: cap + 1 when more buckets than `cap` hold values (each holds
   * at least one), else undefined (the values must be counted).
   */
  distinctAll: number | undefined;
  distinctRef: number | undefined;
}

/**
 * Counts, the reference's standard deviation and what buckets tell of distinct counts. The variance combines
 * per-bucket means and squared deviations (Chan et al.) around offsets from one point, so it keeps full precision
 * where values are large and close together. `refMaxAbs`: the largest |value| of the reference.
 */
export function profileBuckets(buckets: readonly ValueBucket[], cap: number, refMaxAbs: number): BucketProfile {
  // Offsets from the first reference bucket's point: large values close together keep their differences exact.
  const base = buckets.find((b) => b.c1 > 0)?.point ?? 0;
  let n1 = 0;
  let n2 = 0;
  let offsetSum = 0;
  let refBuckets = 0;
  for (const b of buckets) {
    n1 += b.c1;
    n2 += b.c2;
    if (b.c1 > 0) {
      offsetSum += b.c1 * (b.point - base) + b.s1;
      refBuckets++;
    }
  }
  let refStdPop = NaN;
  let refStdPrecise = true;
  const refMean = n1 > 0 ? base + offsetSum / n1 : NaN;
  if (n1 > 0 && refMaxAbs < 1e154) {
    const meanOffset = offsetSum / n1;
    let m2 = 0;
    let bound = 0;
    for (const b of buckets) {
      if (b.c1 === 0) continue;
      const offsetMean = b.s1 / b.c1;
      const within = Math.max(b.q1 - b.s1 * offsetMean, 0);
      const between = b.point - base + offsetMean - meanOffset;
      m2 += within + b.c1 * between * between;
      // Sums of c values each within `reach` of the point: Σ(v − p)² and Σ(v − p)²/c err by at most ~3·c²·reach²·ε.
      const reach = Math.max(Math.abs(b.lo - b.point), Math.abs(b.hi - b.point));
      bound += 3 * EPSILON * b.c1 * b.c1 * reach * reach;
    }
    refStdPop = Math.sqrt(m2 / n1);
    refStdPrecise = bound <= MAX_RELATIVE_ERROR * m2;
  }
  return {
    n1,
    n2,
    refStdPop,
    refStdPrecise,
    refMean,
    distinctAll: buckets.length > cap ? cap + 1 : undefined,
    distinctRef: refBuckets > cap ? cap + 1 : undefined,
  };
}
