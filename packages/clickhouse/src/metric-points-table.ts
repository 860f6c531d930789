// What a stored point is, and how a batch of them is inserted. The only writer is the ingest worker.
//
// Points arrive in units — the points of one Kafka message, which share entity, producer and source position. A
// batch is one Native block of metric_entry_v1 (migration 0014): per unit one row carrying its points as arrays
// (ClickHouse expands them into metric_points_v2), one row of its fine buckets (from which the summaries and
// rollups are merged), and one marker per source partition. Numeric arrays are filled in typed arrays and copied in
// one go; strings are written once per message, not once per point.
import { insertNative, type ClickHouse } from './clickhouse-client.ts';
import { fineBuckets, type FineBucket } from './fine-buckets.ts';
import { GrowableBuffer } from './native-format.ts';

export const METRIC_POINTS_TABLE = 'metric_points_v2';
/** Where batches enter (migration 0014): a Null table whose views feed the points, summaries, rollups and progress. */
export const METRIC_ENTRY_TABLE = 'metric_entry_v1';

export const ENTITY_KIND_CODE = { RUN: 1, MODEL_VERSION: 2 } as const;
export const ENTITY_KIND_NAME = { RUN: 'run', MODEL_VERSION: 'model_version' } as const;
const ENTRY_KIND_TYPE = "Enum8('run' = 1, 'model_version' = 2, 'marker' = 3)";

export interface PointValues {
  key: string;
  value: number;
  step: number;
  timestampMs: number;
}

/** The points of one source message. */
export interface MetricPointUnit {
  entityKind: keyof typeof ENTITY_KIND_CODE;
  entityId: string;
  producer: string;
  srcTopic: string;
  srcPartition: number;
  srcOffset: number;
  /** Point i is stored with point_index firstPointIndex + i: with the source offset, a unique id for every point. */
  points: readonly PointValues[];
  firstPointIndex?: number;
}

/** One stored point, for callers that think in rows (tests, tools). */
export interface MetricPointRow extends PointValues {
  entityKind: keyof typeof ENTITY_KIND_CODE;
  entityId: string;
  producer: string;
  ingestedAt: number;
  srcTopic: string;
  srcPartition: number;
  srcOffset: number;
  pointIndex: number;
}

/** Columns of metric_entry_v1 (migration 0014), in the order of the Native block. */
export const METRIC_ENTRY_COLUMNS: readonly string[] = [
  'row_kind', 'feed', 'entity_kind', 'entity_id', 'producer', 'ingested_at', 'src_topic', 'src_partition', 'src_offset', 'first_point_index',
  'keys', 'p_key', 'p_value', 'p_step', 'p_ts',
  'b_key', 'b_step', 'b_time', 'b_n', 'b_nans', 'b_min', 'b_max', 'b_sum', 'b_last', 'b_last_step', 'b_last_ts', 'b_first_step', 'b_first_ts', 'b_max_ts',
];

/** The tables a batch feeds, one bit each in the entry rows' `feed` (the progress view takes every marker). */
export const FEED = { points: 1, summary: 2, rollupStep: 4, rollupTime: 8 } as const;
export const FEED_ALL = FEED.points | FEED.summary | FEED.rollupStep | FEED.rollupTime;
/** The tables that keep a marker (the raw points are found by their own rows). */
export const FEED_AGGREGATED = FEED.summary | FEED.rollupStep | FEED.rollupTime;

const TWO_32 = 4294967296;
const ROW_POINTS = 1;
const ROW_BUCKETS = 2;
const KIND_MARKER = 3;

interface EntryRow {
  kind: number;
  feed: number;
  entityKind: number;
  entityId: string;
  producer: string;
  topic: string;
  partition: number;
  offset: number;
  firstPointIndex: number;
  keys: string[];
  /** 'points' rows. */
  points?: { key: Uint32Array; value: Float64Array; step: readonly number[]; ts: readonly number[] };
  /** 'buckets' rows (markers included). */
  buckets?: FineBucket[];
}

/** Units → their entry rows; `feedOf` says which tables still miss a unit (0: none, the unit is left out). */
function entryRows(units: readonly MetricPointUnit[], feedOf: (u: MetricPointUnit) => number): { rows: EntryRow[]; markers: Map<string, { topic: string; partition: number; offset: number; feed: number }> } {
  const rows: EntryRow[] = [];
  const markers = new Map<string, { topic: string; partition: number; offset: number; feed: number }>();
  for (const u of units) {
    const id = `${u.srcTopic}\u0000${u.srcPartition}`;
    const feed = feedOf(u);
    const m = markers.get(id);
    if (!m) markers.set(id, { topic: u.srcTopic, partition: u.srcPartition, offset: u.srcOffset, feed: feed & FEED_AGGREGATED });
    else {
      m.offset = Math.max(m.offset, u.srcOffset);
      m.feed |= feed & FEED_AGGREGATED;
    }
    if (feed === 0 || u.points.length === 0) continue;
    const keys: string[] = [];
    const keyIndex = new Map<string, number>();
    const n = u.points.length;
    const key = new Uint32Array(n);
    const value = new Float64Array(n);
    const step: number[] = new Array(n);
    const ts: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const p = u.points[i]!;
      let k = keyIndex.get(p.key);
      if (k === undefined) {
        keys.push(p.key);
        keyIndex.set(p.key, (k = keys.length));
      }
      key[i] = k;
      value[i] = p.value;
      step[i] = p.step;
      ts[i] = p.timestampMs;
    }
    const base = { feed, entityKind: ENTITY_KIND_CODE[u.entityKind], entityId: u.entityId, producer: u.producer, topic: u.srcTopic, partition: u.srcPartition, offset: u.srcOffset, firstPointIndex: u.firstPointIndex ?? 0, keys };
    if (feed & FEED.points) rows.push({ ...base, kind: ROW_POINTS, points: { key, value, step, ts } });
    if (feed & FEED_AGGREGATED) rows.push({ ...base, kind: ROW_BUCKETS, buckets: fineBuckets({ key, value, step, ts }) });
  }
  return { rows, markers };
}

/** A marker: a one-bucket fake series whose last step (and last x on both axes) is the batch's highest offset. */
function markerRow(m: { topic: string; partition: number; offset: number; feed: number }): EntryRow {
  const o = m.offset;
  return {
    kind: ROW_BUCKETS, feed: m.feed, entityKind: KIND_MARKER, entityId: m.topic, producer: '', topic: m.topic, partition: m.partition, offset: o, firstPointIndex: 0,
    keys: [String(m.partition)],
    buckets: [{ key: 1, stepBucket: 0, timeBucket: 0, n: 0, nans: 0, min: NaN, max: NaN, sum: 0, last: 0, lastStep: o, lastTs: 0, firstStep: o, firstTs: o, maxTs: o }],
  };
}

/**
 * Encodes units as one Native block of metric_entry_v1: per unit a row of points and a row of fine buckets, then one
 * marker per source partition. `ingestedAt` (unix seconds) is the same for the whole batch; `feedOf` (default: every
 * table) leaves out what a table already holds after a partly failed insert.
 */
export function encodeMetricPointUnits(units: readonly MetricPointUnit[], ingestedAt: number, feedOf: (u: MetricPointUnit) => number = () => FEED_ALL): Buffer {
  const { rows, markers } = entryRows(units, feedOf);
  for (const m of markers.values()) rows.push(markerRow(m));
  let pointCount = 0;
  let bucketCount = 0;
  for (const r of rows) {
    pointCount += r.points?.key.length ?? 0;
    bucketCount += r.buckets?.length ?? 0;
  }
  const out = new GrowableBuffer(pointCount * 40 + bucketCount * 120 + rows.length * 200 + 4096);
  out.varUInt(METRIC_ENTRY_COLUMNS.length);
  out.varUInt(rows.length);
  const header = (name: string, type: string) => {
    out.string(name);
    out.string(type);
  };
  const copyTyped = (arr: Float64Array | Int32Array | Uint32Array | BigUint64Array) => {
    const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    out.ensure(bytes.length);
    bytes.copy(out.buf, out.length);
    out.length += bytes.length;
  };
  const u8 = (name: string, type: string, get: (r: EntryRow) => number) => {
    header(name, type);
    out.ensure(rows.length);
    for (const r of rows) out.buf[out.length++] = get(r);
  };
  const u32 = (name: string, type: string, get: (r: EntryRow) => number) => {
    header(name, type);
    const a = new Uint32Array(rows.length);
    rows.forEach((r, i) => (a[i] = get(r)));
    copyTyped(a);
  };
  const str = (name: string, get: (r: EntryRow) => string) => {
    header(name, 'String');
    for (const r of rows) out.string(get(r));
  };
  /** Array offsets: cumulative element counts, one UInt64 per row. */
  const offsets = (lengthOf: (r: EntryRow) => number) => {
    const a = new BigUint64Array(rows.length);
    let total = 0;
    rows.forEach((r, i) => (a[i] = BigInt((total += lengthOf(r)))));
    copyTyped(a);
    return total;
  };
  const int64Halves = (total: number, fill: (put: (v: number) => void) => void) => {
    const halves = new Int32Array(2 * total);
    let i = 0;
    fill((v) => {
      const hi = Math.floor(v / TWO_32);
      halves[i++] = (v - hi * TWO_32) | 0;
      halves[i++] = hi;
    });
    copyTyped(halves);
  };
  const pLen = (r: EntryRow) => r.points?.key.length ?? 0;
  const bLen = (r: EntryRow) => r.buckets?.length ?? 0;
  const pointArray = (name: string, type: string, pick: 'key' | 'value' | 'step' | 'ts') => {
    header(name, `Array(${type})`);
    const total = offsets(pLen);
    if (pick === 'key') {
      const a = new Uint32Array(total);
      let i = 0;
      for (const r of rows) if (r.points) (a.set(r.points.key, i), (i += r.points.key.length));
      copyTyped(a);
    } else if (pick === 'value') {
      const a = new Float64Array(total);
      let i = 0;
      for (const r of rows) if (r.points) (a.set(r.points.value, i), (i += r.points.value.length));
      copyTyped(a);
    } else {
      int64Halves(total, (put) => {
        for (const r of rows) if (r.points) for (const v of r.points[pick]) put(v);
      });
    }
  };
  const bucketArray = (name: string, type: 'UInt32' | 'UInt64' | 'Int64' | 'Float64', get: (b: FineBucket) => number) => {
    header(name, `Array(${type})`);
    const total = offsets(bLen);
    if (type === 'Float64') {
      const a = new Float64Array(total);
      let i = 0;
      for (const r of rows) for (const b of r.buckets ?? []) a[i++] = get(b);
      copyTyped(a);
    } else if (type === 'UInt32') {
      const a = new Uint32Array(total);
      let i = 0;
      for (const r of rows) for (const b of r.buckets ?? []) a[i++] = get(b);
      copyTyped(a);
    } else {
      int64Halves(total, (put) => {
        for (const r of rows) for (const b of r.buckets ?? []) put(get(b));
      });
    }
  };

  u8('row_kind', "Enum8('points' = 1, 'buckets' = 2)", (r) => r.kind);
  u8('feed', 'UInt8', (r) => r.feed);
  u8('entity_kind', ENTRY_KIND_TYPE, (r) => r.entityKind);
  str('entity_id', (r) => r.entityId);
  str('producer', (r) => r.producer);
  u32('ingested_at', 'DateTime', () => ingestedAt);
  str('src_topic', (r) => r.topic);
  u32('src_partition', 'UInt32', (r) => r.partition);
  header('src_offset', 'UInt64');
  int64Halves(rows.length, (put) => rows.forEach((r) => put(r.offset)));
  u32('first_point_index', 'UInt32', (r) => r.firstPointIndex);
  header('keys', 'Array(String)');
  offsets((r) => r.keys.length);
  for (const r of rows) for (const k of r.keys) out.string(k);
  pointArray('p_key', 'UInt32', 'key');
  pointArray('p_value', 'Float64', 'value');
  pointArray('p_step', 'Int64', 'step');
  pointArray('p_ts', 'Int64', 'ts');
  bucketArray('b_key', 'UInt32', (b) => b.key);
  bucketArray('b_step', 'Int64', (b) => b.stepBucket);
  bucketArray('b_time', 'Int64', (b) => b.timeBucket);
  bucketArray('b_n', 'UInt64', (b) => b.n);
  bucketArray('b_nans', 'UInt64', (b) => b.nans);
  bucketArray('b_min', 'Float64', (b) => b.min);
  bucketArray('b_max', 'Float64', (b) => b.max);
  bucketArray('b_sum', 'Float64', (b) => b.sum);
  bucketArray('b_last', 'Float64', (b) => b.last);
  bucketArray('b_last_step', 'Int64', (b) => b.lastStep);
  bucketArray('b_last_ts', 'Int64', (b) => b.lastTs);
  bucketArray('b_first_step', 'Int64', (b) => b.firstStep);
  bucketArray('b_first_ts', 'Int64', (b) => b.firstTs);
  bucketArray('b_max_ts', 'Int64', (b) => b.maxTs);
  return out.toBuffer();
}

/** Row-shaped convenience (tests, tools): each row becomes a unit of one point. */
export function encodeMetricPointRows(rows: readonly MetricPointRow[]): Buffer {
  const ingestedAt = rows[0]?.ingestedAt ?? Math.floor(Date.now() / 1000);
  return encodeMetricPointUnits(rows.map((r) => ({ ...r, points: [r], firstPointIndex: r.pointIndex })), ingestedAt);
}

/**
 * Inserts one Native block of metric_entry_v1. Each table fed by it stores its share in one part; a table whose
 * view fails keeps nothing of the batch, and its marker says so (metric-targets.ts).
 */
export async function insertMetricPoints(ch: ClickHouse, block: Buffer, queryId?: string): Promise<void> {
  await insertNative(ch, METRIC_ENTRY_TABLE, METRIC_ENTRY_COLUMNS, block, { queryId, settings: ONE_PART_PER_VIEW });
}

/**
 * A view's output is squashed into blocks of at least min_insert_block_size_rows before it is written; above that a
 * view would write one batch as several parts, which would no longer be atomic. Batches stay far below this.
 */
const ONE_PART_PER_VIEW = { min_insert_block_size_rows: '100000000', min_insert_block_size_bytes: '4294967296' } as const;
