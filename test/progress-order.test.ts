// Ingest progress is written by a view of the same insert; it must run after every other view of that insert, so a
// reader that waits for progress (read-your-writes) finds summaries, rollups and entity views filled, and an insert
// that fails part-way leaves no progress behind. ClickHouse 18.16 runs an insert's views in the alphabetical order
// of their names (shown here: a view that fails stops the ones after it), which migrations 0009 and 0014 rely on.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { command, ident, queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import { clickhouseFor } from './support/pipeline-fixture.ts';

let admin: ClickHouse;
beforeAll(() => {
  admin = clickhouseFor('admin');
});
afterAll(async () => admin?.close());

it('runs the progress views after every other view of metric points and tracking events', async () => {
  const rows = await queryRows<{ name: string; views: string[] }>(
    admin,
    sql`SELECT name, dependencies_table AS views FROM system.tables WHERE database = currentDatabase() AND name IN ('metric_entry_v1', 'tracking_events_v1') ORDER BY name`,
  );
  const [metrics, tracking] = rows;
  // Metric points enter through metric_entry_v1 (migration 0014, partitioned tables since 0060); its views are numbered in their order.
  expect(metrics!.views).toEqual(['metric_entry_1_points_mv_v2', 'metric_entry_2_summary_mv_v1', 'metric_entry_3_rollup_step_mv_v2', 'metric_entry_4_rollup_time_mv_v2', 'metric_entry_9_progress_mv_v1']);
  expect(tracking!.views.at(-1)).toBe('tracking_progress_mv_v2');
  // Every view sorts before the progress view, whatever order the migrations created them in.
  for (const { views } of rows) expect([...views].sort()).toEqual(views);
});

it('executes the views of one insert in that order (a failing view stops the later ones)', async () => {
  const db = `order_probe_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  await command(admin, sql`CREATE DATABASE ${ident(db)}`);
  try {
    const t = (name: string) => sql`${ident(db)}.${ident(name)}`;
    for (const name of ['src', 'early', 'late']) await command(admin, sql`CREATE TABLE ${t(name)} (x UInt64) ENGINE = MergeTree ORDER BY x`);
    // Created in the opposite order of their names.
    await command(admin, sql`CREATE MATERIALIZED VIEW ${t('z_progress_mv')} TO ${t('late')} AS SELECT x FROM ${t('src')}`);
    await command(admin, sql`CREATE MATERIALIZED VIEW ${t('a_summary_mv')} TO ${t('early')} AS SELECT throwIf(x > 0) + x AS x FROM ${t('src')}`);
    await expect(command(admin, sql`INSERT INTO ${t('src')} VALUES (1)`)).rejects.toThrow();
    const [counts] = await queryRows<{ late: string }>(admin, sql`SELECT count() AS late FROM ${t('late')}`);
    expect(counts!.late).toBe('0');
  } finally {
    await command(admin, sql`DROP DATABASE ${ident(db)}`);
  }
});
