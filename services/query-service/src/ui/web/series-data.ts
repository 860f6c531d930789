// API series columns -> what the chart draws. Pure, unit-tested.
import type { SeriesColumns } from './api-types.ts';
import { toNumbers } from './json-double.ts';
import type { ChartSeries } from './series-chart.ts';

/** One chart series per API series; the line is the smoothed mean when the server smoothed, else the mean. */
export function chartSeries(s: SeriesColumns, label: string, color: string): ChartSeries {
  return {
    label,
    color,
    xFirst: Float64Array.from(s.x_first),
    xLast: Float64Array.from(s.x_last),
    min: toNumbers(s.min),
    max: toNumbers(s.max),
    line: toNumbers(s.smoothed ?? s.mean),
  };
}

/** Width of one chart's plot in a grid of charts at least `minChartPx` wide (see .charts in app.css). */
export function plotWidthIn(containerPx: number, minChartPx = 560, chrome = 96): number {
  const columns = Math.max(1, Math.floor(containerPx / minChartPx));
  return Math.max(200, Math.floor(containerPx / columns) - chrome);
}

/**
 * Buckets to ask for: about one per pixel for a few runs, fewer when many overlap (less to send and draw). Spikes
 * survive any bucket count: every bucket carries its min and max.
 */
export function bucketsFor(plotWidthPx: number, runs: number): number {
  const perPixel = runs <= 20 ? 1 : runs <= 50 ? 0.5 : 1 / 3;
  return Math.min(1000, Math.max(50, Math.round(plotWidthPx * perPixel)));
}

/** Series grouped by key, runs in the order given. */
export function byKey(series: SeriesColumns[], keys: string[], runs: string[]): Map<string, SeriesColumns[]> {
  const order = new Map(runs.map((r, i) => [r, i]));
  const out = new Map<string, SeriesColumns[]>(keys.map((k) => [k, []]));
  for (const s of series) out.get(s.key)?.push(s);
  for (const list of out.values()) list.sort((a, b) => (order.get(a.run) ?? 0) - (order.get(b.run) ?? 0));
  return out;
}
