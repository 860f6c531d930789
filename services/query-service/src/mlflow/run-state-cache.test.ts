import { describe, expect, it } from 'vitest';
import type { RunRow } from '@runstream/clickhouse';
import { RunStateCache, type PartitionStamp, type RunState } from './run-state-cache.ts';

const run = (lifecycleStage = 'active'): RunRow => ({ runId: 'r1', experimentId: '0', runName: 'n', userId: '', status: 'RUNNING', startTimeMs: 1, endTimeMs: null, artifactUri: '', lifecycleStage });

function harness(initial: RunState | undefined) {
  let end = 10;
  let stored = initial;
  const loads: PartitionStamp[] = [];
  const cache = new RunStateCache({
    stampOf: async () => ({ partition: 2, end }),
    load: async (_id, stamp) => {
      loads.push(stamp);
      return stored;
    },
  });
  return {
    cache,
    loads,
    append: (n: number) => (end += n),
    store: (s: RunState | undefined) => (stored = s),
  };
}

describe('RunStateCache', () => {
  it('reads once, then serves from memory while the partition does not move', async () => {
    const h = harness({ run: run(), params: new Map() });
    await h.cache.get('r1');
    await h.cache.get('r1');
    expect(h.loads).toEqual([{ partition: 2, end: 10 }]);
    expect(h.cache.hits).toBe(1);
  });

  it('reads again once anything lands in the partition (a delete through another instance)', async () => {
    const h = harness({ run: run(), params: new Map() });
    await h.cache.get('r1');
    h.append(1);
    h.store({ run: run('deleted'), params: new Map() });
    const { state } = await h.cache.get('r1');
    expect(state?.run.lifecycleStage).toBe('deleted');
    expect(h.loads).toHaveLength(2);
  });

  it("keeps its own write's result when the write directly follows the state it was validated against", async () => {
    const h = harness({ run: run(), params: new Map() });
    const { stamp } = await h.cache.get('r1');
    h.append(2);
    h.cache.recordWrite('r1', stamp, { partition: 2, firstOffset: 10, lastOffset: 11 }, { run: run(), params: new Map([['lr', '0.1']]) });
    const { state } = await h.cache.get('r1');
    expect(state?.params.get('lr')).toBe('0.1');
    expect(h.loads).toHaveLength(1);
  });

  it('forgets when something else landed between the validation and its own write', async () => {
    const h = harness({ run: run(), params: new Map() });
    const { stamp } = await h.cache.get('r1');
    h.append(3);
    h.cache.recordWrite('r1', stamp, { partition: 2, firstOffset: 11, lastOffset: 12 }, { run: run(), params: new Map([['lr', '0.1']]) });
    await h.cache.get('r1');
    expect(h.loads).toHaveLength(2);
  });

  it('does not remember a run that does not exist', async () => {
    const h = harness(undefined);
    expect((await h.cache.get('r1')).state).toBeUndefined();
    h.store({ run: run(), params: new Map() });
    expect((await h.cache.get('r1')).state).toBeDefined();
  });

  it('runs exclusive sections of one run one after another, even when one fails', async () => {
    const h = harness(undefined);
    const order: string[] = [];
    const slow = h.cache.exclusive('r1', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('a');
      throw new Error('a failed');
    });
    const fast = h.cache.exclusive('r1', async () => void order.push('b'));
    const other = h.cache.exclusive('r2', async () => void order.push('c'));
    await expect(slow).rejects.toThrow('a failed');
    await fast;
    await other;
    expect(order).toEqual(['c', 'a', 'b']);
  });

  it('keeps at most maxEntries runs', async () => {
    const cache = new RunStateCache({ stampOf: async () => ({ partition: 0, end: 1 }), load: async (id) => ({ run: { ...run(), runId: id }, params: new Map() }), maxEntries: 2 });
    for (const id of ['a', 'b', 'c', 'a']) await cache.get(id);
    expect(cache.misses).toBe(4);
  });
});
