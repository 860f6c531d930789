import { expect, it } from 'vitest';
import { FEED, FEED_ALL } from './metric-points-table.ts';
import { feedOf, messageId, type MetricTablesHeld } from './metric-targets.ts';

it('feeds each table only the messages above what it holds', () => {
  const held: MetricTablesHeld = {
    summary: new Map([[0, 10]]),
    rollupStep: new Map([[0, 9]]),
    rollupTime: new Map(),
    points: new Set([messageId(0, 9), messageId(0, 10)]),
  };
  expect(feedOf(held, 0, 10)).toBe(FEED.rollupStep | FEED.rollupTime);
  expect(feedOf(held, 0, 9)).toBe(FEED.rollupTime);
  expect(feedOf(held, 0, 11)).toBe(FEED_ALL);
  // Another partition: nothing held there.
  expect(feedOf(held, 1, 10)).toBe(FEED_ALL);
  // Everything held: nothing to feed (the insert then only carries the markers that advance progress).
  const all: MetricTablesHeld = { summary: new Map([[2, 5]]), rollupStep: new Map([[2, 5]]), rollupTime: new Map([[2, 5]]), points: new Set([messageId(2, 5)]) };
  expect(feedOf(all, 2, 5)).toBe(0);
});
