import { expect, it } from 'vitest';
import { encodeNativeBlock, type NativeColumn } from './native-format.ts';
import { encodeMetricPointUnits, METRIC_POINT_COLUMNS, type MetricPointRow, type MetricPointUnit } from './metric-points-table.ts';

// The specialised columnar encoder must produce exactly what the generic, row-by-row Native encoder produces.
const REFERENCE: NativeColumn<MetricPointRow>[] = [
  { name: 'entity_kind', type: "Enum8('run' = 1, 'model_version' = 2)", get: (r) => (r.entityKind === 'RUN' ? 1 : 2) },
  { name: 'entity_id', type: 'String', get: (r) => r.entityId },
  { name: 'key', type: 'String', get: (r) => r.key },
  { name: 'value', type: 'Float64', get: (r) => r.value },
  { name: 'step', type: 'Int64', get: (r) => r.step },
  { name: 'timestamp_ms', type: 'Int64', get: (r) => r.timestampMs },
  { name: 'producer', type: 'String', get: (r) => r.producer },
  { name: 'ingested_at', type: 'DateTime', get: (r) => r.ingestedAt },
  { name: 'src_topic', type: 'String', get: (r) => r.srcTopic },
  { name: 'src_partition', type: 'UInt32', get: (r) => r.srcPartition },
  { name: 'src_offset', type: 'UInt64', get: (r) => BigInt(r.srcOffset) },
  { name: 'point_index', type: 'UInt32', get: (r) => r.pointIndex },
];

it('encodes units byte-for-byte like the generic Native encoder', () => {
  const values = [0, -0, 1.5, NaN, Infinity, -Infinity, 5e-324, -1e308];
  const units: MetricPointUnit[] = Array.from({ length: 7 }, (_, u) => ({
    entityKind: u % 3 === 0 ? 'MODEL_VERSION' : 'RUN',
    entityId: `run-${u}-'\\-é😀`.repeat(u + 1),
    producer: u % 2 ? `rank-${u}` : '',
    srcTopic: 'runstream.metrics.v1',
    srcPartition: u * 1000,
    srcOffset: 2 ** 40 + u,
    points: Array.from({ length: u * 13 }, (_, i) => ({
      key: ['loss', 'eval/acc', 'k'.repeat(200), 'δ'][i % 4]!,
      value: values[i % values.length]!,
      step: i * 2 ** 33 + u,
      timestampMs: 1_795_000_000_000 + i,
    })),
  }));
  const rows: MetricPointRow[] = units.flatMap((u) => u.points.map((p, i) => ({ ...u, ...p, ingestedAt: 1_795_000_000, pointIndex: i })));
  expect(REFERENCE.map((c) => c.name)).toEqual(METRIC_POINT_COLUMNS);
  const fast = encodeMetricPointUnits(units, 1_795_000_000);
  const reference = encodeNativeBlock(REFERENCE, rows);
  expect(fast.length).toBe(reference.length);
  expect(fast.equals(reference)).toBe(true);
});
