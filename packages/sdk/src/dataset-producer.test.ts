import { describe, expect, it, vi } from 'vitest';

// 300,000 rows encoded in one test: seconds of CPU on a loaded 2-core machine. A limit, not a speed check.
vi.setConfig({ testTimeout: 60_000 });
import { decodeDatasetRows } from '@runstream/codec';
import type { OutgoingMessage, Producer } from '@runstream/kafka';
import { DatasetProducer, InvalidDatasetRowsError } from './dataset-producer.ts';

function memoryProducer() {
  const sent: { topic: string; messages: OutgoingMessage[] }[] = [];
  const producer: Producer = {
    async send(topic, messages) {
      sent.push({ topic, messages });
      return [{ partition: 0, firstOffset: sent.length }];
    },
    async disconnect() {},
  };
  return { producer, sent };
}

describe('DatasetProducer', () => {
  it('infers column types, keeps missing values and sends one batch keyed by dataset', async () => {
    const { producer, sent } = memoryProducer();
    const data = new DatasetProducer({ producer, topic: 'runstream.datasets.v1', now: () => 1_764_547_200_000 });
    await data.logRows('churn', [{ values: { age: null, plan: 'pro' } }, { values: { age: 41, plan: null, score: NaN }, segment: 'eu' }], { version: 'v2' });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.messages[0]!.key).toBe('dataset:churn');
    const decoded = decodeDatasetRows(sent[0]!.messages[0]!.value as Buffer);
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(decoded.value.version).toBe('v2');
    expect(decoded.value.columns).toEqual([
      { name: 'age', type: 'NUMERICAL' },
      { name: 'plan', type: 'CATEGORICAL' },
      { name: 'score', type: 'NUMERICAL' },
    ]);
    expect(decoded.value.rows[0]).toEqual({ timestampMs: 1_764_547_200_000, segment: null, values: [null, 'pro', null] });
    expect(decoded.value.rows[1]!.values[2]).toBeNaN();
  });

  it('splits large calls into batches and rejects invalid rows before sending anything', async () => {
    const { producer, sent } = memoryProducer();
    const data = new DatasetProducer({ producer, topic: 't' });
    const rows = Array.from({ length: 300_000 }, (_, i) => ({ values: { x: i } }));
    await data.logRows('big', rows);
    expect(sent.length).toBeGreaterThan(1);
    const total = sent.reduce((n, s) => n + (decodeDatasetRows(s.messages[0]!.value as Buffer) as { value: { rows: unknown[] } }).value.rows.length, 0);
    expect(total).toBe(300_000);
    await expect(data.logRows('bad', [{ values: { x: 'text' } }], { columns: { x: 'NUMERICAL' } })).rejects.toBeInstanceOf(InvalidDatasetRowsError);
    await expect(data.logRows('', [{ values: { x: 1 } }])).rejects.toThrow(/dataset name is empty/);
    expect(sent.length).toBeGreaterThan(1);
  });

  it('keeps every message under the broker limit, rows in order, however many columns and bytes a row has', async () => {
    const { producer, sent } = memoryProducer();
    const data = new DatasetProducer({ producer, topic: 't' });
    // 30 000 rows of five doubles: 1.5M bytes of values, over the 1 MiB a broker accepts per message by default.
    const rows = Array.from({ length: 30_000 }, (_, i) => ({ values: { a: i, b: i + 0.5, c: -i, d: i * 2, e: i / 3 } }));
    await data.logRows('wide', rows);
    const messages = sent.map((s) => s.messages[0]!.value as Buffer);
    expect(Math.max(...messages.map((m) => m.length))).toBeLessThanOrEqual(900_000);
    const decoded = messages.flatMap((m) => (decodeDatasetRows(m) as { value: { rows: { values: unknown[] }[] } }).value.rows);
    expect(decoded.map((r) => r.values[0])).toEqual(rows.map((_, i) => i));
    // Long strings with a small limit: split down to single rows when need be.
    const small = memoryProducer();
    const tight = new DatasetProducer({ producer: small.producer, topic: 't', maxMessageBytes: 1_200 });
    await tight.logRows('long', Array.from({ length: 10 }, (_, i) => ({ values: { s: `${i}`.padEnd(900, 'x') } })));
    expect(small.sent.length).toBe(10);
  });
});
