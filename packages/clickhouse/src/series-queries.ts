// Series reads for comparisons: many entities x keys, downsampled into aligned buckets (min, max, mean, last, count)
// from the rollups (migrations 0006, 0014), or the raw points when a series is short enough to send whole.
import { parseFloatField, queryNumericRows, queryRowBinary, queryRows, type ClickHouse } from './clickhouse-client.ts';
import { ENTITY_KIND_NAME } from './metric-points-table.ts';
import type { EntityKindName } from './metric-queries.ts';
import { bucketIndex, planBuckets, ROLLUP_GRANULARITIES, type BucketPlan } from './series-plan.ts';
import { joinSql, sql, sqlArray, type SqlFragment } from './sql-literal.ts';

/** step; time = wall-clock ms since the epoch; relative = ms since the entity's first point among the keys read. */
export type SeriesXAxis = 'step' | 'time' | 'relative';

export interface SeriesRequest {
  kind: EntityKindName;
  entityIds: readonly string[];
  keys: readonly string[];
  axis: SeriesXAxis;
  buckets: number;
  /** Inclusive x range, in the axis' units. */
  from?: number;
  to?: number;
}

export interface SeriesData {
  entityId: string;
  key: string;
  /** Points of the series in the buckets returned. */
  points: number;
  /** raw: every point is its own bucket (the series has no more points than buckets asked for). */
  resolution: 'raw' | 'bucketed';
  xFirst: number[];
  xLast: number[];
  count: number[];
  /** min, max and mean skip NaN; a bucket of nothing but NaN has NaN there. */
  min: number[];
  max: number[];
  mean: number[];
  /** Value of the point with the highest step, then time. */
  last: number[];
}

export interface SeriesResult {
  plan: BucketPlan;
  series: SeriesData[];
}

interface SeriesExtent {
  points: number;
  firstStep: number;
  lastStep: number;
  firstTs: number;
  lastTs: number;
}

const id = (entityId: string, key: string): string => JSON.stringify([entityId, key]);

async function extents(ch: ClickHouse, req: SeriesRequest): Promise<Map<string, SeriesExtent>> {
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT entity_id, key, sumMerge(points) AS points, minMerge(first_step) AS first_step, maxMerge(last_step) AS last_step,
               minMerge(first_timestamp_ms) AS first_ts, maxMerge(last_timestamp_ms) AS last_ts
        FROM metric_summary_v2
        WHERE entity_kind = ${ENTITY_KIND_NAME[req.kind]} AND entity_id IN ${req.entityIds} AND key IN ${req.keys}
        GROUP BY entity_id, key`,
  );
  return new Map(
    rows.map((r) => [
      id(r.entity_id!, r.key!),
      { points: Number(r.points), firstStep: Number(r.first_step), lastStep: Number(r.last_step), firstTs: Number(r.first_ts), lastTs: Number(r.last_ts) },
    ]),
  );
}

function emptySeries(entityId: string, key: string, resolution: SeriesData['resolution']): SeriesData {
  return { entityId, key, points: 0, resolution, xFirst: [], xLast: [], count: [], min: [], max: [], mean: [], last: [] };
}

/** The x range of a request over the series that exist, and each entity's origin on the relative axis. */
async function resolveRange(ch: ClickHouse, req: SeriesRequest) {
  const found = await extents(ch, req);
  const timeAxis = req.axis !== 'step';
  // relative: each entity's x starts at its first point among the keys read.
  const origins = new Map<string, number>();
  if (req.axis === 'relative') {
    for (const entityId of req.entityIds) {
      const firsts = req.keys.map((k) => found.get(id(entityId, k))?.firstTs).filter((t): t is number => t !== undefined);
      if (firsts.length > 0) origins.set(entityId, Math.min(...firsts));
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const entityId of req.entityIds) {
    for (const key of req.keys) {
      const e = found.get(id(entityId, key));
      if (!e) continue;
      const offset = origins.get(entityId) ?? 0;
      lo = Math.min(lo, (timeAxis ? e.firstTs : e.firstStep) - offset);
      hi = Math.max(hi, (timeAxis ? e.lastTs : e.lastStep) - offset);
    }
  }
  if (req.from !== undefined) lo = Math.max(lo, req.from);
  if (req.to !== undefined) hi = Math.min(hi, req.to);
  const all = req.entityIds.flatMap((entityId) => req.keys.map((key) => ({ entityId, key })));
  return { found, origins, lo, hi, all, timeAxis };
}

export async function readSeries(ch: ClickHouse, req: SeriesRequest): Promise<SeriesResult> {
  const { found, origins, lo, hi, all, timeAxis } = await resolveRange(ch, req);
  const plan = lo <= hi ? planBuckets(timeAxis ? 'time' : 'step', lo, hi, req.buckets) : { width: 1, granularity: 1 };
  if (lo > hi) return { plan, series: all.map((s) => emptySeries(s.entityId, s.key, 'raw')) };

  const ctx: SeriesQueryContext = { req, plan, lo, hi, origins };
  // Series with no more points than buckets are sent whole; the others are bucketed, and sent whole after all when
  // the range holds no more points than buckets.
  const short = all.filter((s) => (found.get(id(s.entityId, s.key))?.points ?? 0) <= req.buckets && found.has(id(s.entityId, s.key)));
  const long = all.filter((s) => (found.get(id(s.entityId, s.key))?.points ?? 0) > req.buckets);
  const bucketed = long.length > 0 ? await readBuckets(ch, ctx, long) : new Map<string, SeriesData>();
  const fewInRange = long.filter((s) => (bucketed.get(id(s.entityId, s.key))?.points ?? 0) <= req.buckets);
  const raw = await readRawPoints(ch, ctx, [...short, ...fewInRange]);
  const series = all.map((s) => raw.get(id(s.entityId, s.key)) ?? bucketed.get(id(s.entityId, s.key)) ?? emptySeries(s.entityId, s.key, 'raw'));
  // Raw points expire before the rollups (retention.ts): a series that has points but none left where they were read
  // is answered from the finest rollup level instead, in buckets at least that wide.
  const expired = series.filter((s) => s.points === 0 && found.has(id(s.entityId, s.key)));
  if (expired.length === 0) return { plan, series };
  const finest = ROLLUP_GRANULARITIES[timeAxis ? 'time' : 'step'][0]!;
  const coarse: BucketPlan = plan.granularity >= finest ? plan : { width: Math.ceil(plan.width / finest) * finest, granularity: finest };
  const fromRollups = await readBuckets(ch, { ...ctx, plan: coarse }, expired);
  return { plan, series: series.map((s) => fromRollups.get(id(s.entityId, s.key)) ?? s) };
}

/** Keyset position in a raw read of many series: unique per stored point. */
export interface RawSeriesCursor {
  e: number;
  k: number;
  step: number;
  timestampMs: number;
  partition: number;
  offset: number;
  index: number;
}

/**
 * Every point of the requested series inside the range, series after series, at most `limit` per page. Only series
 * with points on the page are returned; `next` continues after the last point.
 */
export async function readRawSeriesPage(
  ch: ClickHouse,
  req: SeriesRequest,
  page: { after?: RawSeriesCursor; limit: number },
): Promise<{ series: SeriesData[]; next: RawSeriesCursor | undefined }> {
  const { origins, lo, hi, all } = await resolveRange(ch, req);
  if (lo > hi) return { series: [], next: undefined };
  const ctx: SeriesQueryContext = { req, plan: { width: 1, granularity: 1 }, lo, hi, origins };
  const { ids, keys } = seriesIndexes(all);
  const rows = await queryNumericRows(ch, seriesPointsSql(ctx, all, page));
  const out = new Map<string, SeriesData>();
  for (const row of rows.slice(0, page.limit)) addRawPoint(ctx, out, ids[Number(row[0]) - 1]!, keys[Number(row[1]) - 1]!, row);
  const last = rows[page.limit - 1];
  return {
    series: [...out.values()],
    next:
      rows.length > page.limit && last
        ? { e: Number(last[0]), k: Number(last[1]), step: Number(last[4]), timestampMs: Number(last[5]), partition: Number(last[6]), offset: Number(last[7]), index: Number(last[8]) }
        : undefined,
  };
}

function addRawPoint(ctx: SeriesQueryContext, out: Map<string, SeriesData>, entityId: string, key: string, row: string[]): void {
  let s = out.get(id(entityId, key));
  if (!s) out.set(id(entityId, key), (s = emptySeries(entityId, key, 'raw')));
  const xValue = Number(row[2]) - offsetOf(ctx, entityId);
  const v = parseFloatField(row[3]!);
  s.points++;
  s.xFirst.push(xValue);
  s.xLast.push(xValue);
  s.count.push(1);
  s.min.push(v);
  s.max.push(v);
  s.mean.push(v);
  s.last.push(v);
}

/** What the SQL of one series read depends on. */
export interface SeriesQueryContext {
  req: SeriesRequest;
  plan: BucketPlan;
  /** Inclusive x range of the read, in the axis' units (relative: per entity, shifted by its origin). */
  lo: number;
  hi: number;
  /** relative axis: each entity's first timestamp. */
  origins: ReadonlyMap<string, number>;
}

const offsetOf = (ctx: SeriesQueryContext, entityId: string): number => ctx.origins.get(entityId) ?? 0;
const xColumnOf = (ctx: SeriesQueryContext): SqlFragment => (ctx.req.axis === 'step' ? sql`step` : sql`timestamp_ms`);

export interface SeriesRef {
  entityId: string;
  key: string;
}

/**
 * The entities, the keys and the x range (per entity when x is relative). `entity_id IN … AND key IN …` may select
 * series that were not asked for (the cross product); readers drop them. It reads the sort keys better than a tuple
 * IN, and the rollups are sorted by level, then key, then entity.
 */
function seriesFilter(ctx: SeriesQueryContext, refs: readonly SeriesRef[], range: (entityLo: number, entityHi: number) => SqlFragment): SqlFragment {
  const { ids, keys } = seriesIndexes(refs);
  const kind = sql`entity_kind = ${ENTITY_KIND_NAME[ctx.req.kind]}`;
  if (ctx.req.axis !== 'relative') return sql`${kind} AND key IN ${keys} AND entity_id IN ${ids} AND ${range(ctx.lo, ctx.hi)}`;
  const perEntity = ids.map((e) => sql`(entity_id = ${e} AND ${range(ctx.lo + offsetOf(ctx, e), ctx.hi + offsetOf(ctx, e))})`);
  return sql`${kind} AND key IN ${keys} AND entity_id IN ${ids} AND (${joinSql(perEntity, ' OR ')})`;
}

/** Aggregates of raw points per bucket over the x ranges `range` selects; same columns as rollupBucketsSql. */
function rawBucketsSql(ctx: SeriesQueryContext, refs: readonly SeriesRef[], series: SqlFragment, range: (from: number, to: number) => SqlFragment): SqlFragment {
  const { width } = ctx.plan;
  const x = xColumnOf(ctx);
  return sql`SELECT ${series}, intDiv(${x}, ${width}) - (modulo(${x}, ${width}) < 0) AS b,
                    count() AS n, countIf(isNaN(value)) AS nans, minIf(value, NOT isNaN(value)) AS mn, maxIf(value, NOT isNaN(value)) AS mx,
                    avgIf(value, NOT isNaN(value)) AS mean, argMax(value, tuple(step, timestamp_ms)) AS last, min(${x}) AS fx, max(${x}) AS lx
             FROM metric_points_v2
             WHERE ${seriesFilter(ctx, refs, range)}
             GROUP BY e, k, b`;
}

/** Buckets merged from the rollup level of the plan, over whole buckets between the bucket indexes `range` selects. */
function rollupBucketsSql(ctx: SeriesQueryContext, refs: readonly SeriesRef[], series: SqlFragment, range: (from: number, to: number) => SqlFragment): SqlFragment {
  const { width, granularity: g } = ctx.plan;
  const m = width / g;
  return sql`SELECT ${series}, intDiv(bucket, ${m}) - (modulo(bucket, ${m}) < 0) AS b,
                    sumMerge(points) AS n, sumMerge(nan_points) AS nans, minIfMerge(min_value) AS mn, maxIfMerge(max_value) AS mx,
                    if(n > nans, sumMerge(sum_value) / (n - nans), nan) AS mean, argMaxMerge(last_value) AS last, minMerge(first_x) AS fx, maxMerge(last_x) AS lx
             FROM metric_rollup_v3
             WHERE axis = ${ctx.req.axis === 'step' ? 'step' : 'time'} AND granularity = ${g} AND ${seriesFilter(ctx, refs, range)}
             GROUP BY e, k, b`;
}

const never = sql`0`;

/**
 * Buckets of the series `refs`, one row per (e, k, b) in no particular order (sorting on the server costs more than
 * sorting each series' buckets afterwards), every column fixed-width for RowBinary (BUCKET_ROW below): e and k are
 * 1-based positions in seriesIndexes(refs), looked up after the aggregation, once per bucket.
 */
export function seriesBucketsSql(ctx: SeriesQueryContext, refs: readonly SeriesRef[]): SqlFragment {
  const { ids, keys } = seriesIndexes(refs);
  const positions = (n: number) => sqlArray(Array.from({ length: n }, (_, i) => i + 1));
  return sql`SELECT toUInt32(transform(e, ${sqlArray(ids)}, ${positions(ids.length)}, 0)) AS e, toUInt32(transform(k, ${sqlArray(keys)}, ${positions(keys.length)}, 0)) AS k,
                    toInt64(b), toUInt64(n), toUInt64(nans), toFloat64(mn), toFloat64(mx), toFloat64(mean), toFloat64(last), toInt64(fx), toInt64(lx)
             FROM (${bucketRowsSql(ctx, refs)})`;
}

/** Buckets of the series `refs` (entity, key, bucket, then the aggregates), as the rollups or raw points give them. */
function bucketRowsSql(ctx: SeriesQueryContext, refs: readonly SeriesRef[]): SqlFragment {
  const { plan } = ctx;
  const w = plan.width;
  const series = sql`entity_id AS e, key AS k`;
  const x = xColumnOf(ctx);
  const rawRange = (from: number, to: number): SqlFragment => sql`${x} BETWEEN ${Math.ceil(from)} AND ${Math.floor(to)}`;
  let query: SqlFragment;
  if (plan.granularity === 1) {
    query = rawBucketsSql(ctx, refs, series, rawRange);
  } else {
    // Buckets wholly inside [from, to] come from the rollups; a bucket the range cuts (a zoom edge) is aggregated
    // from the raw points inside the range, so every bucket holds exactly the points of the range. Without a range
    // the data's extent is the range and no bucket is cut.
    const g = plan.granularity;
    const cut = ctx.req.from !== undefined || ctx.req.to !== undefined;
    const inner = (from: number, to: number): { first: number; last: number } =>
      cut ? { first: Math.ceil(from / w), last: Math.floor((to + 1) / w) - 1 } : { first: Math.floor(from / w), last: Math.floor(to / w) };
    const rollupRange = (from: number, to: number): SqlFragment => {
      const { first, last } = inner(from, to);
      return first <= last ? sql`bucket BETWEEN ${(first * w) / g} AND ${((last + 1) * w) / g - 1}` : never;
    };
    const edgeRange = (from: number, to: number): SqlFragment => {
      const { first, last } = inner(from, to);
      if (first > last) return rawRange(from, to);
      const edges: SqlFragment[] = [];
      if (first * w > from) edges.push(rawRange(from, first * w - 1));
      if ((last + 1) * w - 1 < to) edges.push(rawRange((last + 1) * w, to));
      return edges.length === 0 ? never : sql`(${joinSql(edges, ' OR ')})`;
    };
    query = cut
      ? sql`SELECT * FROM (${rollupBucketsSql(ctx, refs, series, rollupRange)} UNION ALL ${rawBucketsSql(ctx, refs, series, edgeRange)})`
      : rollupBucketsSql(ctx, refs, series, rollupRange);
  }
  return query;
}

export function seriesIndexes(refs: readonly SeriesRef[]): { ids: string[]; keys: string[] } {
  return { ids: [...new Set(refs.map((s) => s.entityId))], keys: [...new Set(refs.map((s) => s.key))] };
}

/** Bytes per row of seriesBucketsSql in RowBinary. */
const BUCKET_ROW = 4 + 4 + 8 + 8 + 8 + 4 * 8 + 8 + 8;
const int64At = (b: Buffer, at: number): number => b.readInt32LE(at + 4) * 4294967296 + b.readUInt32LE(at);

async function readBuckets(ch: ClickHouse, ctx: SeriesQueryContext, refs: readonly SeriesRef[]): Promise<Map<string, SeriesData>> {
  const { ids, keys } = seriesIndexes(refs);
  const wanted = new Set(refs.map((r) => id(r.entityId, r.key)));
  // Rows of each series, as offsets into the result; sorted by bucket below.
  const rowsBySeries = new Map<number, number[]>();
  const data = await queryRowBinary(ch, seriesBucketsSql(ctx, refs));
  if (data.length % BUCKET_ROW !== 0) throw new Error(`series buckets: ${data.length} bytes is not a whole number of ${BUCKET_ROW}-byte rows`);
  for (let at = 0; at + BUCKET_ROW <= data.length; at += BUCKET_ROW) {
    // Series id: entity position x 2^20 + key position (a request names far fewer keys).
    const series = data.readUInt32LE(at) * 1_048_576 + data.readUInt32LE(at + 4);
    let rows = rowsBySeries.get(series);
    if (!rows) rowsBySeries.set(series, (rows = []));
    rows.push(at);
  }
  const out = new Map<string, SeriesData>();
  for (const [series, rows] of rowsBySeries) {
    const entityId = ids[Math.floor(series / 1_048_576) - 1];
    const key = keys[(series % 1_048_576) - 1];
    // The filter selects every key of every entity asked for: series not asked for are left out.
    if (entityId === undefined || key === undefined || !wanted.has(id(entityId, key))) continue;
    const s = emptySeries(entityId, key, 'bucketed');
    out.set(id(entityId, key), s);
    rows.sort((a, b) => int64At(data, a + 8) - int64At(data, b + 8));
    const shift = offsetOf(ctx, entityId);
    for (const at of rows) {
      const n = int64At(data, at + 16);
      const allNaN = int64At(data, at + 24) === n;
      s.points += n;
      s.count.push(n);
      s.min.push(allNaN ? NaN : data.readDoubleLE(at + 32));
      s.max.push(allNaN ? NaN : data.readDoubleLE(at + 40));
      s.mean.push(allNaN ? NaN : data.readDoubleLE(at + 48));
      s.last.push(data.readDoubleLE(at + 56));
      s.xFirst.push(int64At(data, at + 64) - shift);
      s.xLast.push(int64At(data, at + 72) - shift);
    }
  }
  return out;
}

/**
 * Every point of the series `refs` inside the range, in order (e, k, x, value, then the keyset columns); with a
 * page, the points after its cursor, one more than the limit (which tells whether another page exists).
 */
export function seriesPointsSql(ctx: SeriesQueryContext, refs: readonly SeriesRef[], page?: { after?: RawSeriesCursor; limit: number }): SqlFragment {
  const { ids, keys } = seriesIndexes(refs);
  const x = xColumnOf(ctx);
  const range = (from: number, to: number): SqlFragment => sql`${x} BETWEEN ${Math.ceil(from)} AND ${Math.floor(to)}`;
  const a = page?.after;
  const after = a
    ? sql` AND (indexOf(${sqlArray(ids)}, entity_id), indexOf(${sqlArray(keys)}, key), step, timestamp_ms, src_partition, src_offset, point_index) > (${a.e}, ${a.k}, ${a.step}, ${a.timestampMs}, ${a.partition}, ${a.offset}, ${a.index})`
    : sql``;
  const limit = page ? sql` LIMIT ${page.limit + 1}` : sql``;
  return sql`SELECT indexOf(${sqlArray(ids)}, entity_id) AS e, indexOf(${sqlArray(keys)}, key) AS k, ${x} AS x, value,
               step, timestamp_ms, src_partition, src_offset, point_index
        FROM metric_points_v2
        WHERE ${seriesFilter(ctx, refs, range)}${after}
        ORDER BY e, k, step, timestamp_ms, src_partition, src_offset, point_index${limit}`;
}

async function readRawPoints(ch: ClickHouse, ctx: SeriesQueryContext, refs: readonly SeriesRef[]): Promise<Map<string, SeriesData>> {
  const out = new Map<string, SeriesData>();
  if (refs.length === 0) return out;
  const { ids, keys } = seriesIndexes(refs);
  const rows = await queryNumericRows(ch, seriesPointsSql(ctx, refs));
  for (const s of refs) out.set(id(s.entityId, s.key), emptySeries(s.entityId, s.key, 'raw'));
  for (const row of rows) addRawPoint(ctx, out, ids[Number(row[0]) - 1]!, keys[Number(row[1]) - 1]!, row);
  return out;
}

export interface ExportPoint {
  step: string;
  timestampMs: string;
  value: number;
}

/**
 * Every point of one series in order, read as a stream: memory stays constant whatever the length. Steps and times
 * stay decimal strings (Int64 as printed by ClickHouse).
 */
export async function* streamSeriesPoints(ch: ClickHouse, kind: EntityKindName, entityId: string, key: string): AsyncGenerator<ExportPoint> {
  const result = await ch.client.query({
    query: sql`SELECT step, timestamp_ms, value FROM metric_points_v2
               WHERE entity_kind = ${ENTITY_KIND_NAME[kind]} AND entity_id = ${entityId} AND key = ${key}
               ORDER BY step, timestamp_ms, src_partition, src_offset, point_index`.text,
    format: 'TabSeparated',
  });
  for await (const rows of result.stream()) {
    for (const row of rows as { text: string }[]) {
      const [step, ts, value] = row.text.split('\t');
      yield { step: step!, timestampMs: ts!, value: parseFloatField(value!) };
    }
  }
}
