// The ClickHouse users of the local stack hold only the privileges their process needs (deploy/local/clickhouse/users.xml).
import { expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';

const settings = toClickHouseSettings(loadEnv(clickhouseEnv));
const db = settings.database;

async function as(user: string, password: string, query: string, params: Record<string, string> = {}): Promise<{ ok: boolean; text: string }> {
  const url = new URL(settings.url);
  url.search = new URLSearchParams({ user, password, database: db, ...params }).toString();
  const res = await fetch(url, { method: 'POST', body: query });
  return { ok: res.ok, text: await res.text() };
}

const ingest = (q: string, p?: Record<string, string>) => as(settings.ingest.user, settings.ingest.password, q, p);
const query = (q: string, p?: Record<string, string>) => as(settings.query.user, settings.query.password, q, p);
const bi = (q: string, p?: Record<string, string>) => as(process.env.CLICKHOUSE_BI_USER ?? 'runstream_bi', process.env.CLICKHOUSE_BI_PASSWORD ?? 'bi_local', q, p);

it('ingest user: may insert and read, may not create, alter or drop', async () => {
  expect((await ingest('SELECT count() FROM ingest_progress_v1')).ok).toBe(true);
  const insert = await ingest(
    "INSERT INTO metric_points_v2 (entity_kind, entity_id, key, value, step, timestamp_ms) VALUES ('run', 'privilege-check', 'k', 1, 0, 1795000000000)",
  );
  expect(insert.ok, insert.text).toBe(true);
  for (const ddl of ['CREATE TABLE sneaky (a UInt8) ENGINE = Memory', 'DROP TABLE metric_points_v2', 'ALTER TABLE metric_points_v2 DROP COLUMN producer']) {
    const r = await ingest(ddl);
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/DDL queries are prohibited/);
  }
  expect((await ingest('SELECT 1 FROM system.one', { database: 'default' })).ok).toBe(false);
});

it('query user: reads, may tune settings, never writes', async () => {
  expect((await query('SELECT count() FROM metric_points_v2', { max_threads: '1' })).ok).toBe(true);
  const insert = await query("INSERT INTO metric_points_v2 (entity_id) VALUES ('x')");
  expect(insert.ok).toBe(false);
  expect(insert.text).toMatch(/readonly/i);
  expect((await query('CREATE TABLE sneaky (a UInt8) ENGINE = Memory')).ok).toBe(false);
  expect((await query('DROP TABLE metric_points_v2')).ok).toBe(false);
});

const BI_VIEWS = ['bi_runs', 'bi_run_params', 'bi_run_params_wide', 'bi_run_tags', 'bi_model_versions', 'bi_metric_summaries', 'bi_metric_points', 'bi_metric_rollups'];

it('BI user: selects the BI views, cannot insert, alter, drop, create or change settings', async () => {
  for (const view of BI_VIEWS) {
    const r = await bi(`SELECT * FROM ${view} LIMIT 1`);
    expect(r.ok, `${view}: ${r.text}`).toBe(true);
  }
  for (const statement of [
    "INSERT INTO runs_v1 (run_id) VALUES ('x')",
    "INSERT INTO bi_run_params (run_id, key, value) VALUES ('x', 'k', 'v')",
    'ALTER TABLE metric_points_v2 DELETE WHERE 1',
    'DROP TABLE bi_runs',
    'CREATE VIEW sneaky AS SELECT 1',
    'TRUNCATE TABLE metric_points_v2',
  ]) {
    const r = await bi(statement);
    expect(r.ok, statement).toBe(false);
    expect(r.text, statement).toMatch(/readonly/i);
  }
  expect((await bi('SELECT 1', { max_threads: '1' })).ok).toBe(false);
  // ClickHouse 18.16 has no per-table grants: there the BI user can also read the tables behind the views (read only).
  // Current ClickHouse restricts it to the views with deploy/clickhouse/grants.sql.
});
