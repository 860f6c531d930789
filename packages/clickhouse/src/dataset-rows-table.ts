// dataset_rows_v2: one stored value per (dataset row, column), and its insert. The only writer is the ingest worker.
import type { DatasetRowsBatch } from '@runstream/codec';
import { insertNative, type ClickHouse } from './clickhouse-client.ts';
import { encodeNativeBlock, type NativeColumn } from './native-format.ts';

export const DATASET_ROWS_TABLE = 'dataset_rows_v2';
export const COLUMN_TYPE_NAME = { NUMERICAL: 'numerical', CATEGORICAL: 'categorical' } as const;
const COLUMN_TYPE_CODE = { NUMERICAL: 1, CATEGORICAL: 2 } as const;

/** The rows of one source message. */
export interface DatasetRowsUnit {
  batch: DatasetRowsBatch;
  srcTopic: string;
  srcPartition: number;
  srcOffset: number;
}

/** Position of one stored value: unit, row and column, flattened in typed arrays (no object per value). */
interface Flat {
  units: readonly DatasetRowsUnit[];
  unit: Uint32Array;
  row: Uint32Array;
  col: Uint32Array;
}

function flatten(units: readonly DatasetRowsUnit[]): Flat {
  let n = 0;
  for (const u of units) n += u.batch.rows.length * u.batch.columns.length;
  const flat: Flat = { units, unit: new Uint32Array(n), row: new Uint32Array(n), col: new Uint32Array(n) };
  let i = 0;
  for (const [k, u] of units.entries()) {
    const cols = u.batch.columns.length;
    for (let r = 0; r < u.batch.rows.length; r++) {
      for (let c = 0; c < cols; c++, i++) {
        flat.unit[i] = k;
        flat.row[i] = r;
        flat.col[i] = c;
      }
    }
  }
  return flat;
}

export const DATASET_ROW_COLUMNS = [
  'dataset', 'version', 'column', 'column_type', 'timestamp_ms', 'segment', 'is_missing', 'num_value', 'cat_value', 'producer', 'ingested_at', 'src_topic', 'src_partition', 'src_offset', 'row_index',
] as const;

function nativeColumns(f: Flat, ingestedAt: number): NativeColumn<number>[] {
  const batch = (i: number) => f.units[f.unit[i]!]!.batch;
  const unit = (i: number) => f.units[f.unit[i]!]!;
  const value = (i: number) => batch(i).rows[f.row[i]!]!.values[f.col[i]!] ?? null;
  const spec = (i: number) => batch(i).columns[f.col[i]!]!;
  return [
    { name: 'dataset', type: 'String', get: (i) => batch(i).dataset },
    { name: 'version', type: 'String', get: (i) => batch(i).version },
    { name: 'column', type: 'String', get: (i) => spec(i).name },
    { name: 'column_type', type: "Enum8('numerical' = 1, 'categorical' = 2)", get: (i) => COLUMN_TYPE_CODE[spec(i).type] },
    { name: 'timestamp_ms', type: 'Int64', get: (i) => batch(i).rows[f.row[i]!]!.timestampMs },
    { name: 'segment', type: 'String', get: (i) => batch(i).rows[f.row[i]!]!.segment ?? '' },
    {
      name: 'is_missing',
      type: 'UInt8',
      get: (i) => {
        const v = value(i);
        return v === null || (typeof v === 'number' && Number.isNaN(v)) ? 1 : 0;
      },
    },
    // -0 is stored as 0: it equals 0 for every statistic, and ClickHouse groups and counts doubles by their bits.
    { name: 'num_value', type: 'Float64', get: (i) => (spec(i).type === 'NUMERICAL' && typeof value(i) === 'number' ? (value(i) as number) + 0 : NaN) },
    { name: 'cat_value', type: 'String', get: (i) => (spec(i).type === 'CATEGORICAL' && typeof value(i) === 'string' ? (value(i) as string) : '') },
    { name: 'producer', type: 'String', get: (i) => batch(i).producer ?? '' },
    { name: 'ingested_at', type: 'DateTime', get: () => ingestedAt },
    { name: 'src_topic', type: 'String', get: (i) => unit(i).srcTopic },
    { name: 'src_partition', type: 'UInt32', get: (i) => unit(i).srcPartition },
    { name: 'src_offset', type: 'UInt64', get: (i) => unit(i).srcOffset },
    { name: 'row_index', type: 'UInt32', get: (i) => f.row[i]! },
  ];
}

/** Encodes units as one Native block; `ingestedAt` (unix seconds) is the same for the whole batch. */
export function encodeDatasetRowsUnits(units: readonly DatasetRowsUnit[], ingestedAt: number): Buffer {
  const f = flatten(units);
  const rows = Array.from({ length: f.unit.length }, (_, i) => i);
  return encodeNativeBlock(nativeColumns(f, ingestedAt), rows);
}

/** One atomic insert (one Native block) of the units' values; ingest_progress_v1 advances in the same insert. */
export async function insertDatasetRows(ch: ClickHouse, units: readonly DatasetRowsUnit[], ingestedAt: number, queryId?: string): Promise<void> {
  await insertDatasetRowsBlock(ch, encodeDatasetRowsUnits(units, ingestedAt), queryId);
}

/** One atomic insert of a block made by encodeDatasetRowsUnits. */
export async function insertDatasetRowsBlock(ch: ClickHouse, block: Buffer, queryId?: string): Promise<void> {
  await insertNative(ch, DATASET_ROWS_TABLE, DATASET_ROW_COLUMNS, block, { queryId });
}
