import { describe, expect, it } from 'vitest';
import { decodeMetricBatch } from '@runstream/codec';
import { MissingTopicError, type OutgoingMessage, type Producer } from '@runstream/kafka';
import { BufferFullError, InvalidMetricError, MetricsProducer, ProducerClosedError } from './metrics-producer.ts';

class FakeProducer implements Producer {
  sent: OutgoingMessage[][] = [];
  gate: Promise<void> | undefined;
  fail: Error | undefined;
  disconnected = false;
  async send(_topic: string, messages: OutgoingMessage[]) {
    if (this.gate) await this.gate;
    if (this.fail) throw this.fail;
    this.sent.push(messages);
    return [{ partition: 0, firstOffset: this.sent.length }];
  }
  async disconnect() {
    this.disconnected = true;
  }
  points() {
    return this.sent.flat().flatMap((m) => {
      const d = decodeMetricBatch(m.value);
      if (!d.ok) throw new Error(d.detail);
      return d.batch.points.map((p) => ({ ...p, entity: d.batch.entityId, key2: m.key }));
    });
  }
}

describe('MetricsProducer', () => {
  it('batches points per entity into messages of at most maxPointsPerMessage', async () => {
    const fake = new FakeProducer();
    const p = new MetricsProducer({ producer: fake, topic: 't', maxPointsPerMessage: 3, lingerMs: 10_000 });
    for (let step = 0; step < 7; step++) await p.logMetrics({ run: 'r1' }, { loss: step / 10, acc: 1 - step / 10 }, { step });
    await p.logMetric({ modelVersion: { name: 'clf', version: 2 } }, 'recall', 0.8);
    await p.flush();
    const messages = fake.sent.flat();
    expect(messages.every((m) => decodeMetricBatch(m.value).ok)).toBe(true);
    const sizes = messages.map((m) => (decodeMetricBatch(m.value) as { batch: { points: unknown[] } }).batch.points.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(fake.points().filter((x) => x.entity === 'r1')).toHaveLength(14);
    expect(fake.points().find((x) => x.entity === 'clf/2')).toMatchObject({ key: 'recall', value: 0.8 });
    expect(p.bufferedPoints).toBe(0);
  });

  it('sends after the linger time without an explicit flush', async () => {
    const fake = new FakeProducer();
    const p = new MetricsProducer({ producer: fake, topic: 't', lingerMs: 20 });
    await p.logMetric({ run: 'r' }, 'loss', 1, { step: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.points()).toHaveLength(1);
  });

  it('rejects invalid points at the call site', async () => {
    const p = new MetricsProducer({ producer: new FakeProducer(), topic: 't' });
    await expect(p.logMetric({ run: 'r' }, 'bad key!', 1)).rejects.toBeInstanceOf(InvalidMetricError);
    await expect(p.logMetric({ run: 'r' }, 'k', 1, { timestampMs: 1_700_000_000 })).rejects.toBeInstanceOf(InvalidMetricError);
    await expect(p.logMetric({ run: 'r' }, 'k', 1, { step: -1 })).resolves.toBeUndefined();
    await expect(p.logMetric({ run: '' }, 'k', 1)).rejects.toBeInstanceOf(InvalidMetricError);
    await expect(p.logMetric({ run: 'r' }, 'k', NaN)).resolves.toBeUndefined();
  });

  it('bounds memory: with whenFull=error a full buffer throws at once', async () => {
    const fake = new FakeProducer();
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    const p = new MetricsProducer({ producer: fake, topic: 't', maxBufferedPoints: 10, maxPointsPerMessage: 5, whenFull: 'error' });
    for (let i = 0; i < 10; i++) await p.logMetric({ run: 'r' }, 'k', i, { step: i });
    expect(p.bufferedPoints).toBe(10);
    await expect(p.logMetric({ run: 'r' }, 'k', 11)).rejects.toBeInstanceOf(BufferFullError);
    open();
    await p.flush();
    expect(p.bufferedPoints).toBe(0);
    await p.logMetric({ run: 'r' }, 'k', 12);
  });

  it('bounds memory: with whenFull=block the caller waits until Kafka acknowledges', async () => {
    const fake = new FakeProducer();
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    const p = new MetricsProducer({ producer: fake, topic: 't', maxBufferedPoints: 4, maxPointsPerMessage: 2 });
    for (let i = 0; i < 4; i++) await p.logMetric({ run: 'r' }, 'k', i, { step: i });
    let done = false;
    const blocked = p.logMetric({ run: 'r' }, 'k', 4, { step: 4 }).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    expect(p.bufferedPoints).toBeLessThanOrEqual(4);
    open();
    await blocked;
    await p.close();
    expect(fake.points().map((x) => x.step)).toEqual([0, 1, 2, 3, 4]);
  });

  it('times out a blocked call after maxBlockMs', async () => {
    const fake = new FakeProducer();
    fake.gate = new Promise(() => undefined);
    const p = new MetricsProducer({ producer: fake, topic: 't', maxBufferedPoints: 1, maxPointsPerMessage: 1, maxBlockMs: 30 });
    await p.logMetric({ run: 'r' }, 'k', 1);
    await expect(p.logMetric({ run: 'r' }, 'k', 2)).rejects.toBeInstanceOf(BufferFullError);
  });

  it('surfaces delivery failures from flush() and later calls, never silently', async () => {
    const fake = new FakeProducer();
    fake.fail = new Error('broker down');
    const p = new MetricsProducer({ producer: fake, topic: 't' });
    await p.logMetric({ run: 'r' }, 'k', 1);
    await expect(p.flush()).rejects.toThrow(/failed to deliver 1 metric points/);
    await expect(p.logMetric({ run: 'r' }, 'k', 2)).rejects.toThrow(/broker down/);
  });

  it('a missing topic fails the producer at once: callers waiting for room get its error, not a timeout', async () => {
    const fake = new FakeProducer();
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    fake.fail = new MissingTopicError('nope.metrics.v1', ['127.0.0.1:1'], 'nope.');
    const p = new MetricsProducer({ producer: fake, topic: 'nope.metrics.v1', maxBufferedPoints: 2, maxPointsPerMessage: 1, maxBlockMs: 60_000 });
    await p.logMetric({ run: 'r' }, 'k', 1);
    await p.logMetric({ run: 'r' }, 'k', 2);
    const started = Date.now();
    const blocked = p.logMetric({ run: 'r' }, 'k', 3);
    open();
    await expect(blocked).rejects.toBeInstanceOf(MissingTopicError);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(p.bufferedPoints).toBe(0);
    await expect(p.flush()).rejects.toThrow(/"nope.metrics.v1" does not exist.*KAFKA_TOPIC_PREFIX/);
  });

  it('spreads one hot entity over several partition keys when asked', async () => {
    const fake = new FakeProducer();
    const p = new MetricsProducer({ producer: fake, topic: 't', maxPointsPerMessage: 1, partitionSpread: 4 });
    for (let i = 0; i < 8; i++) await p.logMetric({ run: 'hot' }, 'k', i, { step: i });
    await p.close();
    expect(new Set(fake.sent.flat().map((m) => m.key)).size).toBe(4);
    expect(fake.disconnected).toBe(true);
    await expect(p.logMetric({ run: 'r' }, 'k', 1)).rejects.toBeInstanceOf(ProducerClosedError);
  });

  it('keeps every request and message under maxRequestBytes, splitting large messages', async () => {
    const fake = new FakeProducer();
    const p = new MetricsProducer({ producer: fake, topic: 't', maxPointsPerMessage: 5000, maxRequestBytes: 50_000 });
    const longKey = 'k'.repeat(240);
    for (let r = 0; r < 3; r++) {
      await p.logPoints({ run: `r${r}` }, Array.from({ length: 5000 }, (_, i) => ({ key: `${longKey}${i % 10}`, value: i, step: i })));
    }
    await p.flush();
    for (const request of fake.sent) expect(request.reduce((n, m) => n + m.value.length, 0)).toBeLessThanOrEqual(50_000);
    expect(fake.sent.length).toBeGreaterThan(3);
    const got = fake.points();
    expect(got).toHaveLength(15_000);
    expect(new Set(got.map((x) => `${x.entity}/${x.step}`)).size).toBe(15_000);
  });
});
