import { describe, expect, it } from 'vitest';
import { formatDuration, formatX, linearTicks, logTicks, timeTicks } from './chart-scale.ts';

describe('ticks', () => {
  it('puts linear ticks on 1/2/5 steps inside the range', () => {
    expect(linearTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(-3, 97, 4)).toEqual([0, 50]);
    expect(linearTicks(0.1, 0.1, 5)).toEqual([0.1]);
  });

  it('puts log ticks on powers of ten', () => {
    expect(logTicks(0.001, 1000, 10)).toEqual([0.001, 0.01, 0.1, 1, 10, 100, 1000]);
    expect(logTicks(1e-6, 1e6, 4)).toEqual([1e-6, 1e-2, 100, 1e6]);
    expect(logTicks(-1, 10, 5)).toEqual([]);
  });

  it('puts time ticks on round minutes', () => {
    const t0 = Date.UTC(2026, 0, 1, 10, 0, 30);
    const ticks = timeTicks(t0, t0 + 10 * 60_000, 5);
    expect(ticks.every((t) => t % 60_000 === 0)).toBe(true);
    expect(ticks[0]).toBe(Date.UTC(2026, 0, 1, 10, 2));
  });
});

describe('labels', () => {
  it('formats durations and wall time by span', () => {
    expect(formatDuration(1500)).toBe('1.5s');
    expect(formatDuration(90 * 60_000)).toBe('1.5h');
    const t = Date.UTC(2026, 4, 2, 13, 45, 10);
    expect(formatX('time', t, 10 * 60_000)).toBe('13:45:10');
    expect(formatX('time', t, 5 * 86_400_000)).toBe('2026-05-02');
    expect(formatX('step', 25_000, 1e5)).toBe('25k');
  });
});
