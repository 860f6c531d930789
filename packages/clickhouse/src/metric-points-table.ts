// metric_points_v1: the row type and its insert. The only writer of this table is the ingest worker.
import { insertNative, type ClickHouse } from './clickhouse-client.ts';
import { encodeNativeBlock, type NativeColumn } from './native-format.ts';

export const METRIC_POINTS_TABLE = 'metric_points_v1';

export const ENTITY_KIND_CODE = { RUN: 1, MODEL_VERSION: 2 } as const;
export const ENTITY_KIND_NAME = { RUN: 'run', MODEL_VERSION: 'model_version' } as const;

export interface MetricPointRow {
  entityKind: keyof typeof ENTITY_KIND_CODE;
  entityId: string;
  key: string;
  value: number;
  step: number;
  timestampMs: number;
  producer: string;
  ingestedAt: number; // unix seconds
  srcTopic: string;
  srcPartition: number;
  srcOffset: number;
  /** Position of the point in its message: with the source offset, a unique id for every point. */
  pointIndex: number;
}

const COLUMNS: NativeColumn<MetricPointRow>[] = [
  { name: 'entity_kind', type: "Enum8('run' = 1, 'model_version' = 2)", get: (r) => ENTITY_KIND_CODE[r.entityKind] },
  { name: 'entity_id', type: 'String', get: (r) => r.entityId },
  { name: 'key', type: 'String', get: (r) => r.key },
  { name: 'value', type: 'Float64', get: (r) => r.value },
  { name: 'step', type: 'Int64', get: (r) => r.step },
  { name: 'timestamp_ms', type: 'Int64', get: (r) => r.timestampMs },
  { name: 'producer', type: 'String', get: (r) => r.producer },
  { name: 'ingested_at', type: 'DateTime', get: (r) => r.ingestedAt },
  { name: 'src_topic', type: 'String', get: (r) => r.srcTopic },
  { name: 'src_partition', type: 'UInt32', get: (r) => r.srcPartition },
  { name: 'src_offset', type: 'UInt64', get: (r) => r.srcOffset },
  { name: 'point_index', type: 'UInt32', get: (r) => r.pointIndex },
];

export function encodeMetricPointRows(rows: readonly MetricPointRow[]): Buffer {
  return encodeNativeBlock(COLUMNS, rows);
}

/** Inserts the rows as one Native block: all of them are stored, or none. */
export async function insertMetricPoints(ch: ClickHouse, block: Buffer): Promise<void> {
  await insertNative(ch, METRIC_POINTS_TABLE, COLUMNS.map((c) => c.name), block);
}
