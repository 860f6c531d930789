import { describe, expect, it } from 'vitest';
import { batchIdentity, partitionsOfInsert } from './insert-identity.ts';

describe('batchIdentity', () => {
  const sources = [
    { partition: 3, offset: 10 },
    { partition: 1, offset: 7 },
    { partition: 3, offset: 12 },
  ];
  it('is the same for the same batch whatever the order of its units or the time of the attempt', () => {
    const a = batchIdentity('runstream.metrics.v1', sources, 1_000_000);
    const b = batchIdentity('runstream.metrics.v1', [...sources].reverse(), 9_000_000);
    expect(b.queryId).toBe(a.queryId);
    expect(a.queryId).toMatch(/^runstream-ingest\|runstream\.metrics\.v1\|1,3\|[0-9a-f]{16}$/);
  });
  it('differs when the offsets differ', () => {
    expect(batchIdentity('t', [{ partition: 1, offset: 8 }], 0).queryId).not.toBe(batchIdentity('t', [{ partition: 1, offset: 7 }], 0).queryId);
  });
  it('fixes ingested_at in seconds', () => {
    expect(batchIdentity('t', sources, 1_999).ingestedAt).toBe(1);
  });
});

describe('partitionsOfInsert', () => {
  it('reads the partitions of an insert of the topic, and nothing from other ids', () => {
    const { queryId } = batchIdentity('runstream.metrics.v1', [{ partition: 0, offset: 1 }, { partition: 5, offset: 2 }], 0);
    expect(partitionsOfInsert('runstream.metrics.v1', queryId)).toEqual([0, 5]);
    expect(partitionsOfInsert('runstream.tracking.v1', queryId)).toEqual([]);
    expect(partitionsOfInsert('runstream.metrics.v1', 'a3f1-uuid')).toEqual([]);
  });
});
