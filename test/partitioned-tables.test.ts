// Migration 0060 partitions raw points and rollups by the month a batch was ingested. A batch must still be one part
// per table (what makes it atomic, services/ingest-worker/README.md "Exactly once"): the worker's insert of one
// batch, whose points span years of their own time, adds exactly one new part per view to the tables it feeds. And 0060's
// copy of existing data, interrupted and run again, counts nothing twice.
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import {
  command,
  connectClickHouse,
  encodeMetricPointUnits,
  ident,
  DATASET_ROW_COLUMNS,
  encodeDatasetRowsUnits,
  insertDatasetRows,
  insertMetricPoints,
  insertNative,
  loadMigrations,
  migrate,
  queryRows,
  sql,
  type DatasetRowsUnit,
  type MetricPointUnit,
} from '@runstream/clickhouse';
import { clickhouseFor, log } from './support/pipeline-fixture.ts';

const server = clickhouseFor('admin');
const databases: string[] = [];
function freshDatabase(label: string) {
  const database = `runstream_${label}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  databases.push(database);
  return connectClickHouse(toClickHouseSettings(loadEnv(clickhouseEnv)), 'admin', { database });
}

afterAll(async () => {
  for (const database of databases) await command(server, sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await server.close();
});

const FED = ['ingest_progress_v1', 'metric_points_v2', 'metric_rollup_v3', 'metric_summary_v2'];

/** Parts written by inserts (level 0), active or already merged away, per table fed by metric_entry_v1. */
async function insertedParts(ch: ReturnType<typeof freshDatabase>, tables: readonly string[] = FED): Promise<Record<string, string[]>> {
  const rows = await queryRows<{ table: string; partition_id: string }>(
    ch,
    sql`SELECT table, partition_id FROM system.parts WHERE database = currentDatabase() AND level = 0 AND table IN ${tables} ORDER BY table, partition_id`,
  );
  const out: Record<string, string[]> = Object.fromEntries(tables.map((t) => [t, []]));
  for (const r of rows) out[r.table]!.push(r.partition_id);
  return out;
}

/** A batch as the worker builds it: 6 messages from 3 source partitions, points spread over three years. */
function batch(offsetBase: number): MetricPointUnit[] {
  const units: MetricPointUnit[] = [];
  for (let m = 0; m < 6; m++) {
    const points = [];
    for (let i = 0; i < 2000; i++) {
      const step = m * 2000 + i;
      // From 2024-01-01, 13/6 hours a step: the batch's points cover every month from January 2024 to December 2026.
      points.push({ key: i % 2 ? 'loss' : 'acc', value: Math.sin(step), step, timestampMs: 1704067200000 + step * 13 * 3600_000 / 6 });
    }
    units.push({ entityKind: 'RUN', entityId: `part-run-${m % 2}`, producer: 'p', srcTopic: 't', srcPartition: m % 3, srcOffset: offsetBase + m, points });
  }
  return units;
}

it('stores a batch as one part per table, in the partition of its ingest month, whatever the points’ own times', async () => {
  const ch = freshDatabase('parts');
  await migrate(ch, server, log);
  expect(await insertedParts(ch)).toEqual(Object.fromEntries(FED.map((t) => [t, []])));

  // 2026-12-07 and then 2026-11-30: two batches, two ingest months.
  await insertMetricPoints(ch, encodeMetricPointUnits(batch(0), 1796601600));
  const first = await insertedParts(ch);
  // The rollups are fed by two views (step and time axis), each storing its share and its markers as one part.
  expect(first).toEqual({ ingest_progress_v1: ['all'], metric_points_v2: ['202612'], metric_rollup_v3: ['202612', '202612'], metric_summary_v2: ['all'] });

  await insertMetricPoints(ch, encodeMetricPointUnits(batch(100), 1796601600 - 7 * 86400));
  expect(await insertedParts(ch)).toEqual({
    ingest_progress_v1: ['all', 'all'],
    metric_points_v2: ['202611', '202612'],
    metric_rollup_v3: ['202611', '202611', '202612', '202612'],
    metric_summary_v2: ['all', 'all'],
  });
  const [stored] = await queryRows<{ n: string; months: string }>(ch, sql`SELECT count() AS n, uniqExact(toYYYYMM(timestamp)) AS months FROM metric_points_v2`);
  expect(stored).toEqual({ n: '24000', months: '36' });
  await ch.close();
}, 120_000);

/** Per (entity, key): what the raw points say, and what the rollup levels say. */
async function tally(ch: ReturnType<typeof freshDatabase>) {
  const raw = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT entity_id, key, count() AS n, countIf(isNaN(value)) AS nans, minIf(value, NOT isNaN(value)) AS mn FROM metric_points_v2 GROUP BY entity_id, key ORDER BY entity_id, key`,
  );
  const levels = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT axis, granularity, entity_id, key, sumMerge(points) AS n, sumMerge(nan_points) AS nans, minIfMerge(min_value) AS mn
        FROM metric_rollup_v3 WHERE entity_kind = 'run' AND granularity > 0 GROUP BY axis, granularity, entity_id, key ORDER BY axis, granularity, entity_id, key`,
  );
  return { raw, levels };
}

it('copies existing points and rollups once when 0060 is interrupted and run again', async () => {
  const ch = freshDatabase('rerun60');
  const all = loadMigrations();
  const before = all.filter((m) => m.version < 60);
  const m60 = all.find((m) => m.version === 60)!;
  await migrate(ch, server, log, before);
  // Stored before 0060, through 0014's entry table: 3 ingest months.
  for (const [i, at] of [1788000000, 1790000000, 1796601600].entries()) {
    await insertMetricPoints(ch, encodeMetricPointUnits(batch(i * 10), at));
  }
  const [old] = await queryRows<{ n: string }>(ch, sql`SELECT count() AS n FROM metric_points_v1`);
  expect(old!.n).toBe('36000');

  // Interrupted after the first two slices of the points' copy and the first of the rollups'.
  const firstRollupCopy = m60.statements.findIndex((s) => s.startsWith('INSERT INTO metric_rollup_v3'));
  for (const statement of m60.statements.slice(0, firstRollupCopy + 1)) await command(ch, statement);
  expect((await queryRows(ch, sql`SELECT 1 FROM schema_migrations WHERE version = 60`)).length).toBe(0);

  expect(await migrate(ch, server, log, [...before, m60])).toEqual([60]);
  const { raw, levels } = await tally(ch);
  expect(raw.reduce((s, r) => s + Number(r.n), 0)).toBe(36000);
  expect(levels).toHaveLength(6 * raw.length);
  for (const l of levels) {
    const r = raw.find((x) => x.entity_id === l.entity_id && x.key === l.key)!;
    expect([l.n, l.nans, l.mn]).toEqual([r.n, r.nans, r.mn]);
  }
  // Points keep their ingest month.
  const months = await queryRows<{ p: string }>(ch, sql`SELECT DISTINCT toYYYYMM(ingested_at) AS p FROM metric_points_v2 ORDER BY p`);
  expect(months.map((m) => String(m.p))).toEqual(['202608', '202609', '202612']);
  // New batches reach the new tables only, once.
  await insertMetricPoints(ch, encodeMetricPointUnits(batch(1000), 1796601600));
  expect((await tally(ch)).raw.reduce((s, r) => s + Number(r.n), 0)).toBe(48000);
  expect(await migrate(ch, server, log, all)).toEqual(all.filter((m) => m.version > 60).map((m) => m.version));
  await ch.close();
}, 180_000);

const DATASET_FED = ['dataset_category_counts_v1', 'dataset_columns_v1', 'dataset_numeric_buckets_v1', 'dataset_numeric_extents_v1', 'dataset_numeric_values_v1', 'dataset_rows_v2', 'ingest_progress_v1'];

/** Dataset rows as the worker batches them: 3 messages, rows timed over two years. */
function datasetBatch(offsetBase: number): DatasetRowsUnit[] {
  return [0, 1, 2].map((m) => ({
    batch: {
      dataset: 'parts-ds',
      version: `v${m % 2}`,
      producer: null,
      columns: [{ name: 'x', type: 'NUMERICAL' }, { name: 'c', type: 'CATEGORICAL' }],
      rows: Array.from({ length: 500 }, (_, i) => ({ timestampMs: 1704067200000 + (m * 500 + i) * 42_000_000, segment: null, values: [Math.cos(i) * 100, `cat-${i % 7}`] })),
    },
    srcTopic: 'd',
    srcPartition: m,
    srcOffset: offsetBase + m,
  }));
}

it('stores a dataset batch as one part per table, in the partition of its ingest month (0063)', async () => {
  const ch = freshDatabase('dsparts');
  await migrate(ch, server, log);
  await insertDatasetRows(ch, datasetBatch(0), 1796601600);
  const one = Object.fromEntries(DATASET_FED.map((t) => [t, [t === 'dataset_rows_v2' ? '202612' : 'all']]));
  expect(await insertedParts(ch, DATASET_FED)).toEqual(one);
  const [stored] = await queryRows<{ n: string }>(ch, sql`SELECT count() AS n FROM dataset_rows_v2`);
  expect(stored!.n).toBe(String(3 * 500 * 2));
  await ch.close();
}, 120_000);

it('copies existing dataset rows once when 0063 is interrupted and run again, and the summaries count each row once', async () => {
  const ch = freshDatabase('rerun63');
  const all = loadMigrations();
  const before = all.filter((m) => m.version < 63);
  const m63 = all.find((m) => m.version === 63)!;
  await migrate(ch, server, log, before);
  // Before 0063 the worker inserted into dataset_rows_v1.
  for (const [offset, at] of [[0, 1790000000], [10, 1796601600]]) {
    await insertNative(ch, 'dataset_rows_v1', DATASET_ROW_COLUMNS, encodeDatasetRowsUnits(datasetBatch(offset!), at!));
  }
  const summaries = async () =>
    queryRows<Record<string, string>>(
      ch,
      sql`SELECT (SELECT sum(value_count) FROM dataset_numeric_buckets_v1) AS buckets, (SELECT countMerge(value_count) FROM dataset_numeric_extents_v1) AS extents,
                 (SELECT count() FROM dataset_numeric_values_v1) AS numeric_values, (SELECT sum(value_count) FROM dataset_category_counts_v1) AS categories,
                 (SELECT countMerge(value_count) FROM dataset_columns_v1) AS columns`,
    );
  expect(await summaries()).toEqual([{ buckets: '3000', extents: '3000', numeric_values: '3000', categories: '3000', columns: '6000' }]);

  const secondSlice = m63.statements.findIndex((s) => s.includes('% 4 = 1'));
  for (const statement of m63.statements.slice(0, secondSlice + 1)) await command(ch, statement);
  expect(await migrate(ch, server, log, [...before, m63])).toEqual([63]);
  const [copied] = await queryRows<{ n: string; months: string }>(ch, sql`SELECT count() AS n, uniqExact(toYYYYMM(ingested_at)) AS months FROM dataset_rows_v2`);
  expect(copied).toEqual({ n: '6000', months: '2' });
  expect(await summaries()).toEqual([{ buckets: '3000', extents: '3000', numeric_values: '3000', categories: '3000', columns: '6000' }]);
  // New rows reach the new table and every summary once.
  await insertDatasetRows(ch, datasetBatch(20), 1796601600);
  expect(await summaries()).toEqual([{ buckets: '4500', extents: '4500', numeric_values: '4500', categories: '4500', columns: '9000' }]);
  expect(await migrate(ch, server, log, all)).toEqual(all.filter((m) => m.version > 63).map((m) => m.version));
  await ch.close();
}, 180_000);
