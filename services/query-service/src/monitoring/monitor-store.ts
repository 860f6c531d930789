// Monitor definitions and alert events are small documents written through Kafka like every other write (the topic
// is the audit trail; exactly once; read-your-writes through the datasets fence): each is a row of a reserved
// dataset, its JSON cut into categorical columns part_000, part_001, … of at most 1000 characters (the codec's limit
// for one category). The newest row of a name (Kafka order: the reserved dataset is one key, one partition) wins; a
// row with deleted = 1 removes it. Users cannot write the reserved datasets (data-routes.ts), and the dataset list
// leaves them out.
import { queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import { MAX_CATEGORY_LENGTH, type DatasetRowsBatch } from '@runstream/codec';
import type { TrackingWriter } from '@runstream/tracking';

/** Datasets whose name starts with this are the service's own. */
export const RESERVED_DATASET_PREFIX = '_runstream.';
export const MONITORS_DATASET = `${RESERVED_DATASET_PREFIX}monitors`;
export const ALERTS_DATASET = `${RESERVED_DATASET_PREFIX}alerts`;
const MAX_DOCUMENT_CHARS = 64 * 1024;

export interface StoredDocument {
  name: string;
  json: string;
  timestampMs: number;
}

export class DocumentTooLargeError extends Error {}

/** The row that stores (or with `json` null, deletes) one document. */
export function documentBatch(dataset: string, name: string, json: string | null, timestampMs: number): DatasetRowsBatch {
  if (json !== null && json.length > MAX_DOCUMENT_CHARS) throw new DocumentTooLargeError(`the document is ${json.length} characters, the limit is ${MAX_DOCUMENT_CHARS}`);
  const parts: string[] = [];
  for (let i = 0; json !== null && i < json.length; i += MAX_CATEGORY_LENGTH) parts.push(json.slice(i, i + MAX_CATEGORY_LENGTH));
  const partNames = parts.map((_, i) => `part_${String(i).padStart(3, '0')}`);
  return {
    dataset,
    version: '',
    columns: [
      { name: 'name', type: 'CATEGORICAL' },
      { name: 'deleted', type: 'NUMERICAL' },
      ...partNames.map((n) => ({ name: n, type: 'CATEGORICAL' as const })),
    ],
    rows: [{ timestampMs, segment: null, values: [name, json === null ? 1 : 0, ...parts] }],
    producer: 'query-service',
  };
}

export async function writeDocument(writer: TrackingWriter, dataset: string, name: string, json: string | null): Promise<void> {
  await writer.emitDatasetRows(documentBatch(dataset, name, json, Date.now()));
}

/** The live documents of a reserved dataset (optionally one name), newest version of each. */
export async function readDocuments(ch: ClickHouse, dataset: string, name?: string): Promise<StoredDocument[]> {
  const rows = sql`SELECT anyIf(cat_value, column = 'name') AS doc_name, anyIf(num_value, column = 'deleted') AS doc_deleted,
      arraySort(x -> x.1, groupArrayIf((column, cat_value), startsWith(column, 'part_'))) AS doc_parts,
      any(timestamp_ms) AS doc_ts, (src_partition, src_offset, row_index) AS arrival
    FROM dataset_rows_v2 WHERE dataset = ${dataset}
    GROUP BY src_topic, src_partition, src_offset, row_index`;
  const filter = name === undefined ? sql`` : sql` WHERE doc_name = ${name}`;
  const latest = await queryRows<{ doc_name: string; deleted: number; parts: [string, string][]; ts: string }>(
    ch,
    sql`SELECT doc_name, argMax(doc_deleted, arrival) AS deleted, argMax(doc_parts, arrival) AS parts, argMax(doc_ts, arrival) AS ts FROM (${rows})${filter} GROUP BY doc_name ORDER BY doc_name`,
  );
  return latest.filter((r) => Number(r.deleted) !== 1).map((r) => ({ name: r.doc_name, json: r.parts.map((p) => p[1]).join(''), timestampMs: Number(r.ts) }));
}
