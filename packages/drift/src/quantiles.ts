// Quantiles with linear interpolation, as numpy (and so pandas' Series.quantile) computes them.

/** Zero-based positions of the two order statistics a quantile interpolates between, and the weight. */
export function quantilePosition(n: number, q: number): { lo: number; hi: number; t: number } {
  const virtual = n * q + (1 - q) - 1;
  const lo = Math.min(Math.max(Math.floor(virtual), 0), n - 1);
  const hi = Math.min(lo + 1, n - 1);
  return { lo, hi, t: virtual - Math.floor(virtual) };
}

/** numpy's _lerp: a + (b − a)·t, computed from the upper end when t ≥ 0.5. */
export function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
