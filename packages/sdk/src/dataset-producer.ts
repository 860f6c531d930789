// The SDK's dataset calls: rows of a named dataset (training data, serving inputs, predictions, labels) for data
// quality and drift. A call is validated here, split into batches and resolves once Kafka has acknowledged every
// batch (acks=all, idempotent producer); the ingest worker stores them.
import { datasetRowsProblem, encodeDatasetRows, MAX_VALUES_PER_BATCH, type DatasetColumnSpec, type DatasetColumnType, type DatasetRow, type DatasetValue } from '@runstream/codec';
import type { Producer } from '@runstream/kafka';

export class InvalidDatasetRowsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDatasetRowsError';
  }
}

export interface DatasetRowInput {
  /** Column name → a number (numerical; NaN and ±Infinity allowed), a string (categorical) or null (missing). */
  values: Record<string, DatasetValue>;
  /** Milliseconds since the epoch; default now. */
  timestampMs?: number;
  segment?: string;
}

export interface LogRowsOptions {
  version?: string;
  /** Column types; a column not listed is numerical when its first non-null value is a number, else categorical. */
  columns?: Record<string, DatasetColumnType>;
}

export class DatasetProducer {
  private readonly producer: Producer;
  private readonly topic: string;
  private readonly producerId: string | null;
  private readonly now: () => number;
  private readonly maxMessageBytes: number;

  /**
   * `maxMessageBytes`: the largest message sent (default 900 KB; brokers reject a record batch over their
   * max.message.bytes, 1 MiB by default); a larger batch is split in halves until it fits.
   */
  constructor(opts: { producer: Producer; topic: string; producerId?: string; now?: () => number; maxMessageBytes?: number }) {
    this.producer = opts.producer;
    this.topic = opts.topic;
    this.producerId = opts.producerId ?? null;
    this.now = opts.now ?? Date.now;
    this.maxMessageBytes = opts.maxMessageBytes ?? 900_000;
  }

  /** Sends the rows; resolves once Kafka has them. Throws InvalidDatasetRowsError before sending anything invalid. */
  async logRows(dataset: string, rows: readonly DatasetRowInput[], opts: LogRowsOptions = {}): Promise<void> {
    if (rows.length === 0) return;
    const columns = columnSpecs(rows, opts.columns ?? {});
    const now = this.now();
    const encoded: DatasetRow[] = rows.map((r) => ({
      timestampMs: r.timestampMs ?? now,
      segment: r.segment ?? null,
      values: columns.map((c) => (c.name in r.values ? (r.values[c.name] ?? null) : null)),
    }));
    const perBatch = Math.max(1, Math.floor(MAX_VALUES_PER_BATCH / columns.length / 4));
    const messages: { key: string; value: Buffer }[] = [];
    const add = (rows: DatasetRow[]) => {
      const batch = { dataset, version: opts.version ?? '', columns, rows, producer: this.producerId };
      const problem = datasetRowsProblem(batch, now);
      if (problem) throw new InvalidDatasetRowsError(problem);
      const value = encodeDatasetRows(batch);
      // Too many bytes for one message (long strings, many columns): halves, until each fits or holds one row.
      if (value.length > this.maxMessageBytes && rows.length > 1) {
        add(rows.slice(0, rows.length >> 1));
        add(rows.slice(rows.length >> 1));
      } else messages.push({ key: `dataset:${dataset}`, value });
    };
    for (let i = 0; i < encoded.length; i += perBatch) add(encoded.slice(i, i + perBatch));
    for (const m of messages) await this.producer.send(this.topic, [m]);
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

function columnSpecs(rows: readonly DatasetRowInput[], declared: Record<string, DatasetColumnType>): DatasetColumnSpec[] {
  const types = new Map<string, DatasetColumnType | undefined>(Object.entries(declared));
  for (const r of rows) {
    for (const [name, v] of Object.entries(r.values)) {
      if (types.get(name) !== undefined) continue;
      types.set(name, v === null ? undefined : typeof v === 'number' ? 'NUMERICAL' : 'CATEGORICAL');
    }
  }
  return [...types.entries()].map(([name, type]) => ({ name, type: type ?? 'CATEGORICAL' }));
}
