// One metric of a run logged by many ranks, downsampled for a chart: the step range cut into equal buckets, per
// bucket and rank the min, max and mean of that rank's values (NaN left out) — enough to draw each rank as a line
// with its band, or all ranks as one band. The rank is read from the producer id as in rank-steps.ts.
import { floatFromBits, queryRows, sql, type ClickHouse, type SqlFragment } from '@runstream/clickhouse';

export interface RankBucket {
  /** Position on the bucket grid shared by all ranks: steps [from + i·width, from + (i+1)·width). */
  index: number;
  /** First and last step of the rank's points in this bucket. */
  firstStep: number;
  lastStep: number;
  min: number;
  max: number;
  mean: number;
  points: number;
}

export interface RankBuckets {
  ranks: { rank: number; buckets: RankBucket[] }[];
}

const RANK = sql`if(extract(producer, '^rank=([0-9]+)') = '', -1, toInt32OrZero(extract(producer, '^rank=([0-9]+)')))`;

function where(runId: string, key: string, from: number | undefined, to: number | undefined): SqlFragment {
  const lo = from === undefined ? sql`` : sql` AND step >= ${from}`;
  const hi = to === undefined ? sql`` : sql` AND step <= ${to}`;
  return sql`entity_kind = 'run' AND entity_id = ${runId} AND key = ${key}${lo}${hi}`;
}

export function rankStepRangeSql(runId: string, key: string, from: number | undefined, to: number | undefined): SqlFragment {
  return sql`SELECT min(step) AS lo, max(step) AS hi, count() AS n FROM metric_points_v2 WHERE ${where(runId, key, from, to)}`;
}

export function rankBucketsSql(runId: string, key: string, lo: number, width: number, to: number | undefined): SqlFragment {
  const bits = (expr: SqlFragment) => sql`hex(reinterpretAsString(${expr}))`;
  return sql`SELECT intDiv(step - ${lo}, ${width}) AS b, rank, min(step) AS s0, max(step) AS s1, count() AS n, countIf(NOT isNaN(value)) AS finite_or_inf,
               ${bits(sql`minIf(value, NOT isNaN(value))`)} AS min_bits, ${bits(sql`maxIf(value, NOT isNaN(value))`)} AS max_bits, ${bits(sql`avgIf(value, NOT isNaN(value))`)} AS mean_bits
        FROM (SELECT step, value, ${RANK} AS rank FROM metric_points_v2 WHERE ${where(runId, key, lo, to)})
        GROUP BY b, rank
        ORDER BY rank, b`;
}

/** Buckets of `buckets` equal step ranges over [from, to] (default: the series' extent). */
export async function rankBuckets(ch: ClickHouse, runId: string, key: string, buckets: number, from?: number, to?: number): Promise<RankBuckets> {
  const [range] = await queryRows<{ lo: string; hi: string; n: string }>(ch, rankStepRangeSql(runId, key, from, to));
  if (!range || Number(range.n) === 0) return { ranks: [] };
  const lo = from ?? Number(range.lo);
  const hi = to ?? Number(range.hi);
  const width = Math.max(1, Math.ceil((hi - lo + 1) / buckets));
  const rows = await queryRows<{ b: string; rank: number; s0: string; s1: string; n: string; finite_or_inf: string; min_bits: string; max_bits: string; mean_bits: string }>(ch, rankBucketsSql(runId, key, lo, width, to));
  const byRank = new Map<number, RankBucket[]>();
  for (const r of rows) {
    const rank = Number(r.rank);
    let list = byRank.get(rank);
    if (!list) byRank.set(rank, (list = []));
    const allNaN = Number(r.finite_or_inf) === 0;
    list.push({
      index: Number(r.b),
      firstStep: Number(r.s0),
      lastStep: Number(r.s1),
      min: allNaN ? NaN : floatFromBits(r.min_bits),
      max: allNaN ? NaN : floatFromBits(r.max_bits),
      mean: allNaN ? NaN : floatFromBits(r.mean_bits),
      points: Number(r.n),
    });
  }
  return { ranks: [...byRank.entries()].map(([rank, list]) => ({ rank, buckets: list })) };
}
