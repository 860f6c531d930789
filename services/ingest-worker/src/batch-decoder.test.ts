import { describe, expect, it } from 'vitest';
import { encodeMetricBatch } from '@runstream/codec';
import type { IncomingBatch } from '@runstream/kafka';
import { DLQ_HEADERS, chunkBySize, deadLetterMessage, decodeBatch } from './batch-decoder.ts';

const NOW = Date.UTC(2026, 10, 27, 12);

function msg(offset: number, value: Buffer | null) {
  return { offset, key: Buffer.from('k'), value, headers: {}, timestampMs: NOW };
}

const good = (id: string, n: number) =>
  encodeMetricBatch({ entityKind: 'RUN', entityId: id, points: Array.from({ length: n }, (_, i) => ({ key: 'loss', value: i, step: i, timestampMs: NOW })) });

describe('decodeBatch', () => {
  const batch: IncomingBatch = {
    topic: 't',
    partition: 3,
    messages: [
      msg(10, good('a', 2)),
      msg(11, Buffer.from('garbage')),
      msg(12, encodeMetricBatch({ entityKind: 'RUN', entityId: 'b', points: [{ key: 'bad key!', value: 1, step: 0, timestampMs: NOW }] })),
      msg(13, null),
      msg(14, good('c', 3)),
    ],
  };

  it('stores valid messages and dead-letters the rest with reasons, keeping the original bytes', () => {
    const out = decodeBatch(batch, { storedUpTo: -1, nowMs: NOW });
    expect(out.units.map((u) => u.points.length)).toEqual([2, 3]);
    expect(out.points).toBe(5);
    expect(out.deadLetters.map((d) => [d.offset, d.reason])).toEqual([
      [11, 'malformed'],
      [12, 'invalid_point'],
      [13, 'malformed'],
    ]);
    expect(out.deadLetters[0]!.value.toString()).toBe('garbage');
    const unit = out.units[1]!;
    expect(unit).toMatchObject({ entityId: 'c', srcTopic: 't', srcPartition: 3, srcOffset: 14, producer: '' });
    expect(unit.points[2]).toMatchObject({ key: 'loss', step: 2, value: 2 });
  });

  it('skips messages at or below the stored offset', () => {
    const out = decodeBatch(batch, { storedUpTo: 12, nowMs: NOW });
    expect(out.skipped).toBe(3);
    expect(out.units.map((u) => u.srcOffset)).toEqual([14]);
    expect(out.deadLetters.map((d) => d.offset)).toEqual([13]);
  });

  it('builds a dead-letter record with the source position in headers', () => {
    const out = decodeBatch(batch, { storedUpTo: -1, nowMs: NOW });
    const m = deadLetterMessage('t', 3, out.deadLetters[1]!, NOW);
    expect(m.headers).toMatchObject({ [DLQ_HEADERS.reason]: 'invalid_point', [DLQ_HEADERS.partition]: '3', [DLQ_HEADERS.offset]: '12', [DLQ_HEADERS.topic]: 't' });
    expect(m.headers![DLQ_HEADERS.detail]).toMatch(/bad key!/);
  });
});

it('splits dead letters into sends under the broker request size, keeping order', () => {
  const msg = (n: number) => ({ key: null, value: Buffer.alloc(n), headers: { [DLQ_HEADERS.reason]: 'malformed' } });
  const all = [msg(300_000), msg(300_000), msg(10), msg(2_000_000), msg(10)];
  const chunks = chunkBySize(all, 512 * 1024);
  expect(chunks.map((c) => c.map((m) => m.value.length))).toEqual([[300_000], [300_000, 10], [2_000_000], [10]]);
  expect(chunks.flat()).toEqual(all);
  expect(chunkBySize([])).toEqual([]);
});
