// Migration 0014 builds the v2 summaries and rollups from the stored points. Interrupted half-way and run again (a
// migration is recorded only once all of it ran), it must not count anything twice: it starts over from a TRUNCATE
// and backfills in slices.
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import { command, connectClickHouse, ident, loadMigrations, migrate, queryRows, sql } from '@runstream/clickhouse';
import { clickhouseFor, log } from './support/pipeline-fixture.ts';

const database = `runstream_rerun_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const server = clickhouseFor('admin');
const ch = connectClickHouse(toClickHouseSettings(loadEnv(clickhouseEnv)), 'admin', { database });

afterAll(async () => {
  await command(server, sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await ch.close();
  await server.close();
});

/** Per (entity, key): what the raw points say, and what each derived table says. */
async function tally() {
  const raw = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT entity_id, key, count() AS n, countIf(isNaN(value)) AS nans, minIf(value, NOT isNaN(value)) AS mn, max(step) AS ls
        FROM metric_points_v1 GROUP BY entity_id, key ORDER BY entity_id, key`,
  );
  const summary = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT entity_id, key, sumMerge(points) AS n, sumMerge(nan_points) AS nans, minIfMerge(min_value) AS mn, maxMerge(last_step) AS ls
        FROM metric_summary_v2 WHERE entity_kind = 'run' GROUP BY entity_id, key ORDER BY entity_id, key`,
  );
  const levels = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT axis, granularity, entity_id, key, sumMerge(points) AS n, sumMerge(nan_points) AS nans, minIfMerge(min_value) AS mn
        FROM metric_rollup_v2 WHERE entity_kind = 'run' AND granularity > 0 GROUP BY axis, granularity, entity_id, key ORDER BY axis, granularity, entity_id, key`,
  );
  return { raw, summary, levels };
}

it('counts every stored point once after an interrupted run of 0014 is run again', async () => {
  const all = loadMigrations();
  const before = all.filter((m) => m.version < 14);
  const m14 = all.find((m) => m.version === 14)!;
  await migrate(ch, server, log, before);
  await command(
    ch,
    sql`INSERT INTO metric_points_v1 (entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index)
        SELECT 'run', concat('run-', toString(number % 40)), if(number % 3 = 0, 'acc', 'loss'), if(number % 101 = 0, nan, sin(number)),
               intDiv(number, 40), 1767225600000 + number * 37, 'p', now(), 't', 0, number, 0
        FROM numbers(200000)`,
  );
  // Interrupted after the first two slices of the summary backfill.
  const firstBackfill = m14.statements.findIndex((s) => s.startsWith('INSERT INTO metric_summary_v2'));
  for (const statement of m14.statements.slice(0, firstBackfill + 2)) await command(ch, statement);
  expect((await queryRows(ch, sql`SELECT 1 FROM schema_migrations WHERE version = 14`)).length).toBe(0);

  expect(await migrate(ch, server, log, [...before, m14])).toEqual([14]);
  const { raw, summary, levels } = await tally();
  expect(raw).toHaveLength(80);
  expect(summary).toEqual(raw);
  // Every level of both axes holds every point once, NaN counted apart, the same minimum.
  expect(levels).toHaveLength(6 * 80);
  for (const l of levels) {
    const r = raw.find((x) => x.entity_id === l.entity_id && x.key === l.key)!;
    expect([l.n, l.nans, l.mn]).toEqual([r.n, r.nans, r.mn]);
  }
  // Recorded: a further run applies nothing.
  expect(await migrate(ch, server, log, [...before, m14])).toEqual([]);
}, 180_000);
