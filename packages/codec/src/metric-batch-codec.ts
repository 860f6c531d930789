// Metric batches on the wire.
import { metricBatchSchemas, type SchemaRegistry } from './schema-registry.ts';
import { decodeWith, encodeWith, type DecodeFailure } from './single-object-codec.ts';
import type { MetricBatch } from './metric-types.ts';

export type { DecodeFailure };
export type DecodeResult = { ok: true; batch: MetricBatch; writerVersion: number } | DecodeFailure;

export function encodeMetricBatch(batch: MetricBatch, version?: number, registry: SchemaRegistry = metricBatchSchemas): Buffer {
  const v = version ?? registry.current.version;
  return encodeWith(registry, v >= 2 ? { ...batch, producer: batch.producer ?? null } : batch, v);
}

export function decodeMetricBatch(bytes: Buffer, registry: SchemaRegistry = metricBatchSchemas): DecodeResult {
  const d = decodeWith<MetricBatch>(registry, bytes);
  return d.ok ? { ok: true, batch: d.value, writerVersion: d.writerVersion } : d;
}
