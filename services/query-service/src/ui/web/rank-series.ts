// A run logged by many ranks -> what the chart draws: one series per rank (split), or one cross-rank band (the
// lowest and highest rank value of each bucket, the mean of the ranks' means as the line). Pure, unit-tested.
import type { RankBucketsResponse } from './api-types.ts';
import { toNumber } from './json-double.ts';
import type { ChartSeries } from './series-chart.ts';

export type RankView = 'split' | 'band';

export const rankLabel = (rank: number): string => (rank < 0 ? 'no rank' : `rank ${rank}`);

export function rankChartSeries(res: RankBucketsResponse, view: RankView, colorOf: (i: number) => string): ChartSeries[] {
  if (view === 'split') {
    return res.ranks.map((r, i) => ({
      label: rankLabel(r.rank),
      color: colorOf(i),
      xFirst: Float64Array.from(r.buckets, (b) => b.first_step),
      xLast: Float64Array.from(r.buckets, (b) => b.last_step),
      min: Float64Array.from(r.buckets, (b) => toNumber(b.min)),
      max: Float64Array.from(r.buckets, (b) => toNumber(b.max)),
      line: Float64Array.from(r.buckets, (b) => toNumber(b.mean)),
    }));
  }
  // Buckets share one grid across ranks: merge by bucket index.
  const merged = new Map<number, { first: number; last: number; min: number; max: number; sum: number; n: number }>();
  for (const r of res.ranks) {
    for (const b of r.buckets) {
      const [lo, hi, mean] = [toNumber(b.min), toNumber(b.max), toNumber(b.mean)];
      let m = merged.get(b.bucket);
      if (!m) merged.set(b.bucket, (m = { first: b.first_step, last: b.last_step, min: NaN, max: NaN, sum: 0, n: 0 }));
      m.first = Math.min(m.first, b.first_step);
      m.last = Math.max(m.last, b.last_step);
      if (!Number.isNaN(lo)) m.min = Number.isNaN(m.min) ? lo : Math.min(m.min, lo);
      if (!Number.isNaN(hi)) m.max = Number.isNaN(m.max) ? hi : Math.max(m.max, hi);
      if (!Number.isNaN(mean)) {
        m.sum += mean;
        m.n++;
      }
    }
  }
  const order = [...merged.keys()].sort((a, b) => a - b).map((k) => merged.get(k)!);
  if (order.length === 0) return [];
  return [
    {
      label: `${res.ranks.length} ranks: min–max, mean`,
      color: colorOf(0),
      xFirst: Float64Array.from(order, (m) => m.first),
      xLast: Float64Array.from(order, (m) => m.last),
      min: Float64Array.from(order, (m) => m.min),
      max: Float64Array.from(order, (m) => m.max),
      line: Float64Array.from(order, (m) => (m.n === 0 ? NaN : m.sum / m.n)),
    },
  ];
}
