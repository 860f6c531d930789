// One run, many ranks: the points of a metric grouped by step with the rank that logged each, and the cross-rank
// summary of every step (the straggler view). The rank travels in the batch's producer id, which the Python SDK
// writes as `rank=<r>/<world> …`; points without it count as rank -1.
import { floatFromBits, queryRows, sql, type ClickHouse, type SqlFragment } from '@runstream/clickhouse';

export interface RankPoint {
  rank: number;
  value: number;
  timestampMs: number;
}

export interface RankStep {
  step: number;
  /** The latest point of each rank at this step, by rank. */
  points: RankPoint[];
  /** Over the ranks' values that are not NaN; NaN when every value is. */
  min: number;
  mean: number;
  max: number;
  minRank: number;
  maxRank: number;
  /** The rank whose point for this step was logged last. */
  slowestRank: number;
  /** Milliseconds between the first and the last rank reaching this step. */
  spreadMs: number;
}

export function rankStepsSql(runId: string, key: string, afterStep: number | undefined, limit: number): SqlFragment {
  const after = afterStep === undefined ? sql`` : sql` AND step > ${afterStep}`;
  return sql`SELECT step, groupArray(rank) AS ranks, groupArray(bits) AS bits, groupArray(timestamp_ms) AS ts
        FROM (
          SELECT step, timestamp_ms, hex(reinterpretAsString(value)) AS bits,
                 if(extract(producer, '^rank=([0-9]+)') = '', -1, toInt32OrZero(extract(producer, '^rank=([0-9]+)'))) AS rank
          FROM metric_points_v2
          WHERE entity_kind = 'run' AND entity_id = ${runId} AND key = ${key}${after}
        )
        GROUP BY step
        ORDER BY step
        LIMIT ${limit + 1}`;
}

/** The cross-rank summary of one step from its raw points (several points of one rank: the latest counts). */
export function summariseStep(step: number, raw: readonly RankPoint[]): RankStep {
  const latest = new Map<number, RankPoint>();
  for (const p of raw) {
    const seen = latest.get(p.rank);
    if (!seen || p.timestampMs >= seen.timestampMs) latest.set(p.rank, p);
  }
  const points = [...latest.values()].sort((a, b) => a.rank - b.rank);
  let min = NaN;
  let max = NaN;
  let sum = 0;
  let n = 0;
  let minRank = -1;
  let maxRank = -1;
  let slowest = points[0]!;
  let first = points[0]!.timestampMs;
  for (const p of points) {
    if (p.timestampMs > slowest.timestampMs) slowest = p;
    first = Math.min(first, p.timestampMs);
    if (Number.isNaN(p.value)) continue;
    if (n === 0 || p.value < min) [min, minRank] = [p.value, p.rank];
    if (n === 0 || p.value > max) [max, maxRank] = [p.value, p.rank];
    sum += p.value;
    n++;
  }
  return { step, points, min, mean: n === 0 ? NaN : sum / n, max, minRank, maxRank, slowestRank: slowest.rank, spreadMs: slowest.timestampMs - first };
}

export async function rankSteps(ch: ClickHouse, runId: string, key: string, afterStep: number | undefined, limit: number): Promise<{ steps: RankStep[]; more: boolean }> {
  const rows = await queryRows<{ step: string; ranks: number[]; bits: string[]; ts: string[] }>(ch, rankStepsSql(runId, key, afterStep, limit));
  const steps = rows.slice(0, limit).map((r) =>
    summariseStep(
      Number(r.step),
      r.ranks.map((rank, i) => ({ rank: Number(rank), value: floatFromBits(r.bits[i]!), timestampMs: Number(r.ts[i]) })),
    ),
  );
  return { steps, more: rows.length > limit };
}
