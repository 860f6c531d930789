// Axis maths for the series chart: nice tick values on linear and log scales and tick labels per x-axis kind.
// Pure functions, unit-tested.
import type { XAxis } from './api-types.ts';

/** About `count` round tick values (1, 2 or 5 × 10^n apart) covering [min, max]. */
export function linearTicks(min: number, max: number, count: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return ticks;
}

/** Powers of ten inside [min, max] (both > 0); thinned so there are at most `count`. */
export function logTicks(min: number, max: number, count: number): number[] {
  if (!(min > 0) || !(max > 0)) return [];
  const lo = Math.ceil(Math.log10(min));
  const hi = Math.floor(Math.log10(max));
  if (hi < lo) return linearTicks(min, max, count);
  const every = Math.max(1, Math.ceil((hi - lo + 1) / count));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e += every) ticks.push(10 ** e);
  return ticks;
}

/** Time ticks on round seconds/minutes/hours/days. */
export function timeTicks(min: number, max: number, count: number): number[] {
  const steps = [1, 2, 5, 10, 15, 30].map((s) => s * 1000).concat([1, 2, 5, 10, 15, 30].map((m) => m * 60_000), [1, 2, 3, 6, 12].map((h) => h * 3_600_000), [1, 2, 7, 14, 30].map((d) => d * 86_400_000));
  const raw = (max - min) / Math.max(1, count);
  const step = steps.find((s) => s >= raw);
  if (step === undefined || raw < 1000) return linearTicks(min, max, count);
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max; v += step) ticks.push(v);
  return ticks;
}

export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${sign}${Math.round(a)}ms`;
  if (a < 60_000) return `${sign}${Number((a / 1000).toPrecision(3))}s`;
  if (a < 3_600_000) return `${sign}${Number((a / 60_000).toPrecision(3))}m`;
  if (a < 86_400_000) return `${sign}${Number((a / 3_600_000).toPrecision(3))}h`;
  return `${sign}${Number((a / 86_400_000).toPrecision(3))}d`;
}

export function formatCompact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${Number((v / 1e9).toPrecision(3))}G`;
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a !== 0 && a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** Tick label for an x value; `span` (max - min of the axis) picks the precision of wall-clock labels. */
export function formatX(kind: XAxis, v: number, span: number): string {
  if (kind === 'step') return formatCompact(v);
  if (kind === 'relative') return formatDuration(v);
  const iso = new Date(v).toISOString();
  if (span >= 2 * 86_400_000) return iso.slice(0, 10);
  if (span >= 3 * 3_600_000) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return iso.slice(11, span < 60_000 ? 23 : 19);
}

export function xTicks(kind: XAxis, min: number, max: number, count: number): number[] {
  return kind === 'time' ? timeTicks(min, max, count) : kind === 'relative' && max - min >= 2000 ? timeTicks(min, max, count) : linearTicks(min, max, count);
}

/** Distinct, readable colours for up to hundreds of series (golden-angle hues). */
export function seriesColor(i: number): string {
  const hue = (i * 137.508 + 210) % 360;
  const light = 42 + (i % 3) * 8;
  return `hsl(${hue.toFixed(1)} 70% ${light}%)`;
}
