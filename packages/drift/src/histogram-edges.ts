// numpy's bin edges, reproduced exactly: Evidently bins with np.histogram_bin_edges(values, bins="sturges"), and
// counts per bin must match to the value, so edges must be the very same doubles.

/** Edges of np.histogram_bin_edges(a, "sturges") for data with this min, max and number of values. */
export function sturgesEdges(min: number, max: number, count: number): number[] {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = (max - min) / (Math.log2(count) + 1);
  const bins = width ? Math.ceil((last - first) / width) : 1;
  return linspace(first, last, bins + 1);
}

/** np.linspace(start, stop, num) with the endpoint: i·step + start, the last one exactly stop. */
export function linspace(start: number, stop: number, num: number): number[] {
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  const out = new Array<number>(num);
  for (let i = 0; i < num; i++) out[i] = step === 0 ? (i / div) * delta + start : i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/**
 * Counts per bin from the number of values below each edge (and at or below the last): np.histogram's half-open
 * bins [e_i, e_i+1) with the last one closed. `below[i]` = #values < edges[i]; `atOrBelowLast` = #values ≤ last edge.
 */
export function countsFromCumulative(below: readonly number[], atOrBelowLast: number): number[] {
  const counts: number[] = [];
  for (let i = 0; i + 1 < below.length; i++) counts.push((i + 2 === below.length ? atOrBelowLast : below[i + 1]!) - below[i]!);
  return counts;
}
