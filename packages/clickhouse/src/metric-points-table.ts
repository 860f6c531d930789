// metric_points_v1: what a stored point is, and its insert. The only writer of this table is the ingest worker.
//
// Rows arrive in units — the points of one Kafka message, which share entity, producer and source position — and
// are encoded column by column straight into one Native block: per-unit values are written once and repeated,
// metric keys are encoded once per batch. No per-row objects on the hot path.
import { insertNative, type ClickHouse } from './clickhouse-client.ts';
import { GrowableBuffer } from './native-format.ts';

export const METRIC_POINTS_TABLE = 'metric_points_v1';

export const ENTITY_KIND_CODE = { RUN: 1, MODEL_VERSION: 2 } as const;
export const ENTITY_KIND_NAME = { RUN: 'run', MODEL_VERSION: 'model_version' } as const;
const ENTITY_KIND_TYPE = "Enum8('run' = 1, 'model_version' = 2)";

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

export const METRIC_POINT_COLUMNS: readonly string[] = [
  'entity_kind', 'entity_id', 'key', 'value', 'step', 'timestamp_ms', 'producer', 'ingested_at', 'src_topic', 'src_partition', 'src_offset', 'point_index',
];

function stringBytes(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  const head = new GrowableBuffer(10);
  head.varUInt(body.length);
  return Buffer.concat([head.toBuffer(), body]);
}

const TWO_32 = 4294967296;

/** Encodes units as one Native block; `ingestedAt` (unix seconds) is the same for the whole batch. */
export function encodeMetricPointUnits(units: readonly MetricPointUnit[], ingestedAt: number): Buffer {
  let n = 0;
  for (const u of units) n += u.points.length;
  const out = new GrowableBuffer(n * 80 + 4096);
  out.varUInt(METRIC_POINT_COLUMNS.length);
  out.varUInt(n);
  const header = (name: string, type: string) => {
    out.string(name);
    out.string(type);
  };
  // Repeats `pattern` `count` times (Buffer.fill repeats a buffer value).
  const repeat = (pattern: Buffer, count: number) => {
    const bytes = pattern.length * count;
    out.ensure(bytes);
    if (bytes > 0) out.buf.fill(pattern, out.length, out.length + bytes);
    out.length += bytes;
  };
  const perUnitString = (name: string, get: (u: MetricPointUnit) => string) => {
    header(name, 'String');
    for (const u of units) repeat(stringBytes(get(u)), u.points.length);
  };
  // Numeric columns are filled in typed arrays (little-endian, like Native) and copied in one go.
  const copyTyped = (arr: Float64Array | Int32Array | Uint32Array) => {
    const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
    out.ensure(bytes.length);
    bytes.copy(out.buf, out.length);
    out.length += bytes.length;
  };
  const int64s = (name: string, type: string, get: (p: PointValues) => number) => {
    header(name, type);
    const halves = new Int32Array(2 * n);
    let i = 0;
    for (const u of units) {
      for (const p of u.points) {
        const v = get(p);
        const hi = Math.floor(v / TWO_32);
        halves[i++] = (v - hi * TWO_32) | 0;
        halves[i++] = hi;
      }
    }
    copyTyped(halves);
  };

  header('entity_kind', ENTITY_KIND_TYPE);
  for (const u of units) repeat(Buffer.from([ENTITY_KIND_CODE[u.entityKind]]), u.points.length);

  perUnitString('entity_id', (u) => u.entityId);

  header('key', 'String');
  const keyCache = new Map<string, Buffer>();
  for (const u of units) {
    for (const p of u.points) {
      let k = keyCache.get(p.key);
      if (!k) keyCache.set(p.key, (k = stringBytes(p.key)));
      out.ensure(k.length);
      // Keys are short: a byte loop beats Buffer#copy's per-call overhead.
      const b = out.buf;
      const at = out.length;
      for (let j = 0; j < k.length; j++) b[at + j] = k[j]!;
      out.length = at + k.length;
    }
  }

  header('value', 'Float64');
  const values = new Float64Array(n);
  {
    let i = 0;
    for (const u of units) for (const p of u.points) values[i++] = p.value;
  }
  copyTyped(values);

  int64s('step', 'Int64', (p) => p.step);
  int64s('timestamp_ms', 'Int64', (p) => p.timestampMs);
  perUnitString('producer', (u) => u.producer);

  header('ingested_at', 'DateTime');
  const at32 = Buffer.alloc(4);
  at32.writeUInt32LE(ingestedAt);
  repeat(at32, n);

  perUnitString('src_topic', (u) => u.srcTopic);

  header('src_partition', 'UInt32');
  for (const u of units) {
    const p = Buffer.alloc(4);
    p.writeUInt32LE(u.srcPartition);
    repeat(p, u.points.length);
  }

  header('src_offset', 'UInt64');
  for (const u of units) {
    const o = Buffer.alloc(8);
    o.writeBigUInt64LE(BigInt(u.srcOffset));
    repeat(o, u.points.length);
  }

  header('point_index', 'UInt32');
  const indexes = new Uint32Array(n);
  {
    let i = 0;
    for (const u of units) {
      const first = u.firstPointIndex ?? 0;
      for (let j = 0; j < u.points.length; j++) indexes[i++] = first + j;
    }
  }
  copyTyped(indexes);
  return out.toBuffer();
}

/** Row-shaped convenience (tests, tools): each row becomes a unit of one point. */
export function encodeMetricPointRows(rows: readonly MetricPointRow[]): Buffer {
  const ingestedAt = rows[0]?.ingestedAt ?? Math.floor(Date.now() / 1000);
  return encodeMetricPointUnits(rows.map((r) => ({ ...r, points: [r], firstPointIndex: r.pointIndex })), ingestedAt);
}

/** Inserts one Native block: all of its rows are stored, or none. */
export async function insertMetricPoints(ch: ClickHouse, block: Buffer, queryId?: string): Promise<void> {
  await insertNative(ch, METRIC_POINTS_TABLE, METRIC_POINT_COLUMNS, block, { queryId });
}
