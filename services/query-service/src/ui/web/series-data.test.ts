import { describe, expect, it } from 'vitest';
import type { SeriesColumns } from './api-types.ts';
import { bucketsFor, byKey, chartSeries, plotWidthIn } from './series-data.ts';

const col = (run: string, key: string, extra: Partial<SeriesColumns> = {}): SeriesColumns => ({
  run, key, points: 2, resolution: 'raw', x_first: [0, 1], x_last: [0, 1], count: [1, 1], min: [1, 'NaN'], max: [2, 'Infinity'], mean: [1.5, 3], last: [2, 3], ...extra,
});

describe('series for the chart', () => {
  it('decodes JSON doubles and plots the smoothed mean when there is one', () => {
    const plain = chartSeries(col('a', 'loss'), 'a', 'red');
    expect(Array.from(plain.min)).toEqual([1, NaN]);
    expect(Array.from(plain.max)).toEqual([2, Infinity]);
    expect(Array.from(plain.line)).toEqual([1.5, 3]);
    expect(Array.from(chartSeries(col('a', 'loss', { smoothed: [1.2, 2.1] }), 'a', 'red').line)).toEqual([1.2, 2.1]);
  });

  it('groups by key in the order of the selected runs', () => {
    const g = byKey([col('b', 'loss'), col('a', 'acc'), col('a', 'loss'), col('x', 'other')], ['loss', 'acc'], ['a', 'b']);
    expect([...g.keys()]).toEqual(['loss', 'acc']);
    expect(g.get('loss')!.map((s) => s.run)).toEqual(['a', 'b']);
  });

  it('asks for fewer buckets per pixel when there are many runs', () => {
    expect(bucketsFor(800, 5)).toBe(800);
    expect(bucketsFor(800, 40)).toBe(400);
    expect(bucketsFor(900, 100)).toBe(300);
    expect(bucketsFor(5000, 1)).toBe(1000);
    expect(bucketsFor(10, 1)).toBe(50);
  });
});

describe('plot width', () => {
  it('divides the container into the columns the grid makes', () => {
    expect(plotWidthIn(1360)).toBe(680 - 96);
    expect(plotWidthIn(500)).toBe(500 - 96);
    expect(plotWidthIn(100)).toBe(200);
  });
});
