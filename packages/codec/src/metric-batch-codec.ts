// Encodes metric batches as single-object Avro and decodes any registered writer version as the current one.
import { metricBatchSchemas, type SchemaRegistry } from './schema-registry.ts';
import { frame, unframe } from './single-object.ts';
import type { MetricBatch } from './metric-types.ts';

export type DecodeFailure = { ok: false; reason: 'malformed' | 'unknown_schema'; detail: string };
export type DecodeResult = { ok: true; batch: MetricBatch; writerVersion: number } | DecodeFailure;

export function encodeMetricBatch(batch: MetricBatch, version?: number, registry: SchemaRegistry = metricBatchSchemas): Buffer {
  const schema = version === undefined ? registry.current : registry.version(version);
  const record = schema.version >= 2 ? { ...batch, producer: batch.producer ?? null } : batch;
  return frame(schema.fingerprint, schema.type.toBuffer(record));
}

export function decodeMetricBatch(bytes: Buffer, registry: SchemaRegistry = metricBatchSchemas): DecodeResult {
  const framed = unframe(bytes);
  if (!framed.ok) return { ok: false, reason: 'malformed', detail: framed.detail };
  const schema = registry.lookup(framed.fingerprint);
  if (!schema) return { ok: false, reason: 'unknown_schema', detail: `no known schema has fingerprint ${framed.fingerprint.toString('hex')}` };
  try {
    // fromBuffer rejects trailing bytes, so a truncated or padded body is malformed, not half-read.
    // Messages written with the current schema need no resolution (the common, hot case).
    const resolver = schema === registry.current ? undefined : schema.resolver;
    const batch = registry.current.type.fromBuffer(framed.body, resolver, false) as MetricBatch;
    return { ok: true, batch, writerVersion: schema.version };
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `Avro body does not decode with schema v${schema.version}: ${(err as Error).message}` };
  }
}
