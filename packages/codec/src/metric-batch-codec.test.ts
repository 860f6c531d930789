import { describe, expect, it } from 'vitest';
import { crc64Avro } from './crc64-avro.ts';
import { decodeMetricBatch, encodeMetricBatch } from './metric-batch-codec.ts';
import { batchProblem, keyProblem, pointProblem, timestampPlausibilityProblem } from './metric-point-rules.ts';
import { metricBatchSchemas } from './schema-registry.ts';
import type { MetricBatch } from './metric-types.ts';

const NOW = Date.UTC(2026, 10, 27);
const batch: MetricBatch = {
  entityKind: 'RUN',
  entityId: 'run-1',
  points: [
    { key: 'loss', value: 0.25, step: 0, timestampMs: NOW },
    { key: 'loss', value: NaN, step: 1, timestampMs: NOW + 1 },
    { key: 'grad/norm', value: Infinity, step: 2, timestampMs: NOW + 2 },
    { key: 'grad/norm', value: -Infinity, step: 2 ** 40, timestampMs: NOW + 3 },
  ],
};

describe('CRC-64-AVRO', () => {
  it('matches the Avro specification test vector', () => {
    // Fingerprint of the schema "null" from the Avro Java test suite.
    expect(crc64Avro(Buffer.from('"null"')).toString()).toBe('7195948357588979594');
  });
});

describe('metric batch codec', () => {
  it('writes single-object encoding: marker, fingerprint of the current schema, body', () => {
    const bytes = encodeMetricBatch(batch);
    expect([...bytes.subarray(0, 2)]).toEqual([0xc3, 0x01]);
    expect(bytes.subarray(2, 10).equals(metricBatchSchemas.current.fingerprint)).toBe(true);
  });

  it('round-trips values exactly, NaN and infinities included', () => {
    const decoded = decodeMetricBatch(encodeMetricBatch({ ...batch, producer: 'rank-3' }));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.writerVersion).toBe(2);
    expect(decoded.batch.producer).toBe('rank-3');
    expect(decoded.batch.points.map((p) => p.value)).toEqual([0.25, NaN, Infinity, -Infinity]);
    expect(decoded.batch.points[3]!.step).toBe(2 ** 40);
  });

  it('reads a v1-written message with the v2 reader (producer defaults to null)', () => {
    const v1 = encodeMetricBatch(batch, 1);
    expect(v1.subarray(2, 10).equals(metricBatchSchemas.version(1).fingerprint)).toBe(true);
    expect(v1.subarray(2, 10).equals(metricBatchSchemas.current.fingerprint)).toBe(false);
    const decoded = decodeMetricBatch(v1);
    expect(decoded).toMatchObject({ ok: true, writerVersion: 1, batch: { entityId: 'run-1', producer: null } });
  });

  it('reports malformed and unknown-schema messages with a reason', () => {
    const good = encodeMetricBatch(batch);
    expect(decodeMetricBatch(Buffer.from('not avro'))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeMetricBatch(good.subarray(0, good.length - 3))).toMatchObject({ ok: false, reason: 'malformed' });
    expect(decodeMetricBatch(Buffer.concat([good, Buffer.from([0])]))).toMatchObject({ ok: false, reason: 'malformed' });
    const unknown = Buffer.from(good);
    unknown.writeBigUInt64LE(0x1234567890abcdefn, 2);
    expect(decodeMetricBatch(unknown)).toMatchObject({ ok: false, reason: 'unknown_schema' });
  });
});

describe('hostile sizes', () => {
  it('rejects a message whose array claims more items than its bytes can hold, without allocating them', () => {
    // Header of a valid v2 batch, then: enum RUN, entity id "r", an array block claiming 2^40 points, no data.
    const body = Buffer.from([0x00, 0x02, 0x72, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    const bytes = Buffer.concat([encodeMetricBatch(batch).subarray(0, 10), body]);
    const started = performance.now();
    const decoded = decodeMetricBatch(bytes);
    expect(performance.now() - started).toBeLessThan(100);
    expect(decoded).toMatchObject({ ok: false, reason: 'malformed', detail: expect.stringMatching(/cannot fit/) });
  });

  it('rejects string lengths beyond the message', () => {
    const bytes = Buffer.concat([encodeMetricBatch(batch).subarray(0, 10), Buffer.from([0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f])]);
    expect(decodeMetricBatch(bytes)).toMatchObject({ ok: false, reason: 'malformed', detail: expect.stringMatching(/exceeds/) });
  });
});

describe('metric point rules', () => {
  it('accepts MLflow-style keys and rejects others', () => {
    for (const ok of ['loss', 'eval/accuracy', 'lr-schedule.step 1', 'métrica_ñ', 'a'.repeat(250), 'val:loss', '.hidden', 'a..b', 'x/.y']) expect(keyProblem(ok), ok).toBeUndefined();
    for (const bad of ['', 'a'.repeat(251), 'loss!', "x'; DROP", 'a\nb', '/abs', 'a//b', 'a/../b', 'trailing/', 'tab\tkey', '.', '..', '..x', 'a/.', './a']) expect(keyProblem(bad), bad).toBeDefined();
  });

  it("accepts MLflow's steps and timestamps: negative steps, timestamp 0, far future", () => {
    const p = { key: 'k', value: 1, step: 0, timestampMs: NOW };
    expect(pointProblem(p, NOW)).toBeUndefined();
    expect(pointProblem({ ...p, step: -1 }, NOW)).toBeUndefined();
    expect(pointProblem({ ...p, timestampMs: 0 }, NOW)).toBeUndefined();
    expect(pointProblem({ ...p, timestampMs: NOW * 1000 }, NOW)).toBeUndefined();
    expect(pointProblem({ ...p, step: 1.5 }, NOW)).toMatch(/step/);
    expect(pointProblem({ ...p, step: 2 ** 53 }, NOW)).toMatch(/step/);
    expect(pointProblem({ ...p, timestampMs: -1 }, NOW)).toMatch(/non-negative/);
  });

  it("the SDK's plausibility guard catches seconds sent as milliseconds and clocks far ahead", () => {
    const p = { key: 'k', value: 1, step: 0, timestampMs: NOW };
    expect(timestampPlausibilityProblem(p, NOW)).toBeUndefined();
    expect(timestampPlausibilityProblem({ ...p, timestampMs: 1_700_000_000 }, NOW)).toMatch(/seconds instead of milliseconds/);
    expect(timestampPlausibilityProblem({ ...p, timestampMs: NOW + 2 * 86_400_000 }, NOW)).toMatch(/future/);
  });

  it('rejects a batch as a unit and says why', () => {
    expect(batchProblem(batch, NOW)).toBeUndefined();
    expect(batchProblem({ ...batch, entityId: '' }, NOW)?.reason).toBe('invalid_entity');
    expect(batchProblem({ ...batch, points: [] }, NOW)?.reason).toBe('empty_batch');
    const bad = batchProblem({ ...batch, points: [...batch.points, { key: 'bad key!', value: 1, step: 0, timestampMs: NOW }] }, NOW);
    expect(bad?.reason).toBe('invalid_point');
    expect(bad?.detail).toMatch(/point 4/);
  });
});
