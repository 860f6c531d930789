// Draw-time reduction of a bucketed series to at most one column per screen pixel: the band keeps the column's
// min and max, the line its first, lowest, highest and last value (so the drawn shape is the same as drawing every
// bucket, with a fraction of the path vertices). Pure, unit-tested.

export interface BucketSeries {
  xFirst: ArrayLike<number>;
  xLast: ArrayLike<number>;
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  line: ArrayLike<number>;
}

/** Per pixel column: x extent in pixels, band min/max, and the line's first/low/high/last (NaN when none). */
export interface PixelColumns {
  length: number;
  x0: Float64Array;
  x1: Float64Array;
  min: Float64Array;
  max: Float64Array;
  first: Float64Array;
  low: Float64Array;
  high: Float64Array;
  last: Float64Array;
}

/** `columnPx` > 1 merges several pixels into one column (used when many series overlap and detail is moot). */
export function pixelColumns(s: BucketSeries, toPx: (x: number) => number, usable: (v: number) => boolean, columnPx = 1): PixelColumns {
  const n = s.xFirst.length;
  const out: PixelColumns = {
    length: 0,
    x0: new Float64Array(n),
    x1: new Float64Array(n),
    min: new Float64Array(n),
    max: new Float64Array(n),
    first: new Float64Array(n),
    low: new Float64Array(n),
    high: new Float64Array(n),
    last: new Float64Array(n),
  };
  let col = Number.NaN;
  let k = -1;
  for (let i = 0; i < n; i++) {
    const a = toPx(s.xFirst[i]!);
    const b = toPx(s.xLast[i]!);
    const c = Math.floor((a + b) / 2 / columnPx);
    if (c !== col) {
      col = c;
      k++;
      out.x0[k] = a;
      out.min[k] = out.max[k] = out.first[k] = out.low[k] = out.high[k] = out.last[k] = Number.NaN;
    }
    out.x1[k] = b;
    const lo = s.min[i]!;
    const hi = s.max[i]!;
    if (usable(lo) && usable(hi)) {
      out.min[k] = Number.isNaN(out.min[k]!) ? lo : Math.min(out.min[k]!, lo);
      out.max[k] = Number.isNaN(out.max[k]!) ? hi : Math.max(out.max[k]!, hi);
    }
    const v = s.line[i]!;
    if (usable(v)) {
      if (Number.isNaN(out.first[k]!)) out.first[k] = out.low[k] = out.high[k] = v;
      out.low[k] = Math.min(out.low[k]!, v);
      out.high[k] = Math.max(out.high[k]!, v);
      out.last[k] = v;
    }
  }
  out.length = k + 1;
  return out;
}
