// Dataset rows on the wire (schemas/dataset-rows.v1.avsc) and what a valid batch is. The SDK and the HTTP API check
// batches before producing; the ingest worker is the authority and dead-letters whatever fails here.
import { SchemaRegistry } from './schema-registry.ts';
import { decodeWith, encodeWith, type Decoded } from './single-object-codec.ts';

export type DatasetColumnType = 'NUMERICAL' | 'CATEGORICAL';
export type DatasetValue = number | string | null;

export interface DatasetColumnSpec {
  name: string;
  type: DatasetColumnType;
}

export interface DatasetRow {
  timestampMs: number;
  segment: string | null;
  values: DatasetValue[];
}

export interface DatasetRowsBatch {
  dataset: string;
  version: string;
  columns: DatasetColumnSpec[];
  rows: DatasetRow[];
  producer: string | null;
}

export const datasetRowsSchemas = new SchemaRegistry([{ version: 1, file: 'dataset-rows.v1.avsc' }]);

export function encodeDatasetRows(batch: DatasetRowsBatch, version?: number): Buffer {
  return encodeWith(datasetRowsSchemas, batch, version);
}

export function decodeDatasetRows(bytes: Buffer): Decoded<DatasetRowsBatch> {
  return decodeWith<DatasetRowsBatch>(datasetRowsSchemas, bytes);
}

export const MAX_DATASET_NAME_LENGTH = 200;
export const MAX_DATASET_VERSION_LENGTH = 100;
export const MAX_COLUMN_NAME_LENGTH = 250;
export const MAX_COLUMNS_PER_BATCH = 1000;
/** Values (rows × columns) in one batch. */
export const MAX_VALUES_PER_BATCH = 1_000_000;
export const MAX_CATEGORY_LENGTH = 1000;
export const MAX_SEGMENT_LENGTH = 200;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function datasetNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'dataset name is empty';
  if (name.length > MAX_DATASET_NAME_LENGTH) return `dataset name is ${name.length} characters, the limit is ${MAX_DATASET_NAME_LENGTH}`;
  if (CONTROL_CHARS.test(name)) return 'dataset name contains control characters';
  if (!name.isWellFormed()) return 'dataset name is not valid UTF-16';
  return undefined;
}

export function datasetVersionProblem(version: string): string | undefined {
  if (version.length > MAX_DATASET_VERSION_LENGTH) return `dataset version is ${version.length} characters, the limit is ${MAX_DATASET_VERSION_LENGTH}`;
  if (CONTROL_CHARS.test(version) || !version.isWellFormed()) return 'dataset version contains control characters or invalid UTF-16';
  return undefined;
}

export function columnNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'column name is empty';
  if (name.length > MAX_COLUMN_NAME_LENGTH) return `column name is ${name.length} characters, the limit is ${MAX_COLUMN_NAME_LENGTH}`;
  if (CONTROL_CHARS.test(name) || !name.isWellFormed()) return `column name ${JSON.stringify(name.slice(0, 80))} contains control characters or invalid UTF-16`;
  return undefined;
}

/** Why a batch cannot be stored, or undefined. Missing values (null, and NaN for numbers) are data, not problems. */
export function datasetRowsProblem(b: DatasetRowsBatch, nowMs: number): string | undefined {
  const name = datasetNameProblem(b.dataset) ?? datasetVersionProblem(b.version);
  if (name) return name;
  if (b.columns.length === 0) return 'a batch needs at least one column';
  if (b.columns.length > MAX_COLUMNS_PER_BATCH) return `${b.columns.length} columns, the limit is ${MAX_COLUMNS_PER_BATCH}`;
  if (b.rows.length === 0) return 'a batch needs at least one row';
  if (b.rows.length * b.columns.length > MAX_VALUES_PER_BATCH) return `${b.rows.length * b.columns.length} values, the limit per batch is ${MAX_VALUES_PER_BATCH}`;
  const seen = new Set<string>();
  for (const c of b.columns) {
    const p = columnNameProblem(c.name);
    if (p) return p;
    if (seen.has(c.name)) return `column ${JSON.stringify(c.name.slice(0, 80))} appears twice`;
    seen.add(c.name);
  }
  for (const [i, r] of b.rows.entries()) {
    if (!Number.isSafeInteger(r.timestampMs) || r.timestampMs < 0 || r.timestampMs > nowMs + 24 * 3600 * 1000) return `row ${i}: timestampMs ${r.timestampMs} is not a plausible time`;
    if (r.segment !== null && (r.segment.length > MAX_SEGMENT_LENGTH || CONTROL_CHARS.test(r.segment) || !r.segment.isWellFormed())) return `row ${i}: invalid segment`;
    if (r.values.length !== b.columns.length) return `row ${i} has ${r.values.length} values for ${b.columns.length} columns`;
    for (let j = 0; j < r.values.length; j++) {
      const v = r.values[j];
      if (v === null) continue;
      const col = b.columns[j]!;
      if (col.type === 'NUMERICAL' && typeof v !== 'number') return `row ${i}, column ${JSON.stringify(col.name.slice(0, 80))}: a numerical column needs a number or null`;
      if (col.type === 'CATEGORICAL') {
        if (typeof v !== 'string') return `row ${i}, column ${JSON.stringify(col.name.slice(0, 80))}: a categorical column needs a string or null`;
        if (v.length > MAX_CATEGORY_LENGTH || !v.isWellFormed()) return `row ${i}, column ${JSON.stringify(col.name.slice(0, 80))}: category longer than ${MAX_CATEGORY_LENGTH} characters or invalid UTF-16`;
      }
    }
  }
  return undefined;
}
