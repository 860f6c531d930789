import { expect, it } from 'vitest';
import { progressAheadOfPartition } from './progress-check.ts';

it('flags progress at or past the end of the partition, and nothing else', () => {
  expect(progressAheadOfPartition(99, 100)).toBe(false); // everything stored, caught up
  expect(progressAheadOfPartition(-1, 0)).toBe(false); // empty partition, nothing stored
  expect(progressAheadOfPartition(100, 100)).toBe(true);
  expect(progressAheadOfPartition(5_000, 3)).toBe(true); // recreated topic with 3 messages
  expect(progressAheadOfPartition(5_000, undefined)).toBe(false); // unknown end: cannot tell
});
