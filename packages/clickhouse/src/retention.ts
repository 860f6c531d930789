// Retention: raw points and rollups are kept for a configured number of days after the month they were ingested in
// (their partition, migration 0060), so old runs still compare at coarse resolution after their raw points are gone.
// ClickHouse 18.16 has no TTL: whole expired partitions are dropped (`npm run retention`, run periodically).
// ClickHouse 19.6 and later: the same rule as a table TTL, one value per partition, with ttl_only_drop_parts so
// that whole parts go at once — the server then expires data by itself.
import { command, queryRows, type ClickHouse } from './clickhouse-client.ts';
import { ident, sql, type SqlFragment } from './sql-literal.ts';

export interface RetentionPolicy {
  /** Days raw points are kept after the end of their ingest month; 0 = forever. */
  metricPointsDays: number;
  /** The same for the rollups; 0 = forever. */
  metricRollupsDays: number;
}

/** The tables retention applies to, and the column their partition (an ingest month) is derived from. */
export const RETENTION_TABLES = [
  { policy: 'metricPointsDays', table: 'metric_points_v2', column: 'ingested_at' },
  { policy: 'metricRollupsDays', table: 'metric_rollup_v3', column: 'ingest_month' },
] as const;

/** Problems with a policy (empty when valid): rollups must outlive raw points, or old series would lose every level at once. */
export function retentionProblems(p: RetentionPolicy): string[] {
  const problems: string[] = [];
  for (const [name, days] of Object.entries(p)) {
    if (!Number.isInteger(days) || days < 0 || days > 36_500) problems.push(`${name} must be a whole number of days from 0 (forever) to 36500, got ${days}`);
  }
  if (p.metricPointsDays === 0 && p.metricRollupsDays > 0) problems.push('rollups cannot expire while raw points are kept forever');
  if (p.metricPointsDays > 0 && p.metricRollupsDays > 0 && p.metricRollupsDays < p.metricPointsDays) {
    problems.push(`rollups (${p.metricRollupsDays} days) must be kept at least as long as raw points (${p.metricPointsDays} days)`);
  }
  return problems;
}

/**
 * Partitions (YYYYMM ingest months) whose whole month ended at least `days` days before `nowMs` (UTC, as the
 * server's toYYYYMM on a UTC server). Pure.
 */
export function expiredMonths(partitions: readonly string[], days: number, nowMs: number): string[] {
  if (days <= 0) return [];
  const cutoff = nowMs - days * 86_400_000;
  return partitions.filter((p) => {
    const m = /^(\d{4})(\d{2})$/.exec(p);
    if (!m) return false;
    const monthEnd = Date.UTC(Number(m[1]), Number(m[2]), 1); // the first moment of the next month
    return monthEnd <= cutoff;
  });
}

/** The TTL of a table on current ClickHouse: each row expires `days` after the end of its ingest month, as its partition does on 18.16. */
export function retentionTtlStatements(table: string, column: string, days: number): SqlFragment[] {
  if (days === 0) return [sql`ALTER TABLE ${ident(table)} REMOVE TTL`];
  return [
    sql`ALTER TABLE ${ident(table)} MODIFY SETTING ttl_only_drop_parts = 1`,
    sql`ALTER TABLE ${ident(table)} MODIFY TTL toStartOfMonth(${ident(column)}) + toIntervalMonth(1) + toIntervalDay(${days})`,
  ];
}

/** TTL arrived in ClickHouse 19.6. */
export async function serverHasTtl(ch: ClickHouse): Promise<boolean> {
  const [row] = await queryRows<{ v: string }>(ch, sql`SELECT version() AS v`);
  const [major = 0, minor = 0] = row!.v.split('.').map(Number);
  return major > 19 || (major === 19 && minor >= 6);
}

export interface RetentionOutcome {
  table: string;
  days: number;
  /** 18.16: the partitions dropped. */
  dropped?: string[];
  /** Current ClickHouse: the TTL set (or removed). */
  ttl?: string;
}

/** Applies a policy: drops expired partitions (18.16) or sets the tables' TTL (19.6+). Needs the admin role. */
export async function applyRetention(ch: ClickHouse, policy: RetentionPolicy, nowMs: number, opts: { useTtl?: boolean } = {}): Promise<RetentionOutcome[]> {
  const problems = retentionProblems(policy);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const useTtl = opts.useTtl ?? (await serverHasTtl(ch));
  const out: RetentionOutcome[] = [];
  for (const { policy: name, table, column } of RETENTION_TABLES) {
    const days = policy[name];
    if (useTtl) {
      const statements = retentionTtlStatements(table, column, days);
      for (const s of statements) await command(ch, s);
      out.push({ table, days, ttl: statements.map((s) => s.text).join('; ') });
      continue;
    }
    const parts = await queryRows<{ p: string }>(
      ch,
      sql`SELECT DISTINCT partition_id AS p FROM system.parts WHERE database = currentDatabase() AND table = ${table} AND active ORDER BY p`,
    );
    const dropped = expiredMonths(parts.map((r) => r.p), days, nowMs);
    for (const month of dropped) await command(ch, sql`ALTER TABLE ${ident(table)} DROP PARTITION ${Number(month)}`);
    out.push({ table, days, dropped });
  }
  return out;
}
