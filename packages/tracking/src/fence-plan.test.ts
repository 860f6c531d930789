import { describe, expect, it } from 'vitest';
import { fenceTargets, nextPollDelayMs, unmetTargets } from './fence-plan.ts';

describe('fenceTargets', () => {
  it('waits for the last acknowledged offset of every partition that has messages', () => {
    expect(fenceTargets('t', [0, 5, 1])).toEqual([
      { topic: 't', partition: 1, offset: 4 },
      { topic: 't', partition: 2, offset: 0 },
    ]);
  });
  it('narrows to the partitions a read touches', () => {
    expect(fenceTargets('t', [3, 5, 1], [2])).toEqual([{ topic: 't', partition: 2, offset: 0 }]);
    expect(fenceTargets('t', [3, 5, 1], [])).toEqual([]);
  });
});

describe('unmetTargets', () => {
  const targets = [
    { topic: 'a', partition: 0, offset: 9 },
    { topic: 'a', partition: 1, offset: 4 },
    { topic: 'b', partition: 0, offset: 0 },
  ];
  const map = (entries: [string, number, number][]) => (topic: string, partition: number) => entries.find(([t, p]) => t === topic && p === partition)?.[2];

  it('a target is met when its offset is stored', () => {
    expect(unmetTargets(targets, map([['a', 0, 9], ['a', 1, 3]]))).toEqual([targets[1], targets[2]]);
    expect(unmetTargets(targets, map([['a', 0, 12], ['a', 1, 4], ['b', 0, 0]]))).toEqual([]);
  });
  it('or when the ingest group committed past it (messages that stored no rows)', () => {
    // committed = the next offset to read: 5 means offset 4 is processed, 4 does not.
    expect(unmetTargets(targets, map([]), map([['a', 0, 10], ['a', 1, 4], ['b', 0, 1]]))).toEqual([targets[1]]);
  });
  it('nothing stored and nothing committed leaves every target unmet', () => {
    expect(unmetTargets(targets, () => undefined)).toEqual(targets);
  });
});

describe('nextPollDelayMs', () => {
  it('starts short and is capped', () => {
    expect(nextPollDelayMs(0)).toBe(2);
    expect(nextPollDelayMs(1)).toBe(4);
    expect(nextPollDelayMs(10)).toBe(25);
  });
});
