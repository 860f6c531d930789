// The exact Wasserstein-1 distance of two samples from bucket aggregates, without sorting every value.
//
// W1 = ∫ |F1(x) − F2(x)| dx. Scaled by n1·n2 the integrand is the integer D(x) = a(x)·n2 − b(x)·n1 (a, b: values ≤ x
// per side). Between buckets D is constant, so gaps integrate exactly. Inside a bucket [lo, hi] holding c1 reference
// and c2 current values with s = Σ(x − left) per side, ∫ D dx = D0·(hi − lo) + n2·(c1·(hi − left) − s1)
// − n1·(c2·(hi − left) − s2), and that is ∫ |D| dx whenever D cannot change sign inside the bucket: D0 − c2·n1 ≥ 0
// or D0 + c1·n2 ≤ 0. ClickHouse integrates those (packages/clickhouse/src/dataset-queries.ts, wassersteinBucketsSql);
// the other ("ambiguous") buckets are integrated here from their sorted values.

/** ∫ |D| across one bucket's values sorted ascending (side 1 = reference), D starting at dStart. */
export function integrateSorted(values: readonly number[], sides: readonly number[], dStart: number, n1: number, n2: number): number {
  let d = dStart;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    d += sides[i] === 1 ? n2 : -n1;
    if (i + 1 < values.length) total += Math.abs(d) * (values[i + 1]! - values[i]!);
  }
  return total;
}
