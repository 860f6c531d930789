import { describe, expect, it } from 'vitest';
import type { IncomingBatch } from '@runstream/kafka';
import { isCaughtUp } from './caught-up.ts';

const batch = (offsets: number[], highWatermark?: number): IncomingBatch => ({
  topic: 't',
  partition: 0,
  messages: offsets.map((offset) => ({ offset, key: null, value: null, headers: {}, timestampMs: 0 })),
  ...(highWatermark === undefined ? {} : { highWatermark }),
});

describe('isCaughtUp', () => {
  it('is caught up when the last message is the last one in the partition', () => {
    expect(isCaughtUp(batch([7, 8, 9], 10))).toBe(true);
  });

  it('is behind when more messages were waiting', () => {
    expect(isCaughtUp(batch([7, 8, 9], 25))).toBe(false);
  });

  it('assumes more is waiting when the high watermark is unknown', () => {
    expect(isCaughtUp(batch([7]))).toBe(false);
    expect(isCaughtUp(batch([7], Number.NaN))).toBe(false);
    expect(isCaughtUp(batch([], 0))).toBe(false);
  });
});
