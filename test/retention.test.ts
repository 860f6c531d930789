// Retention (packages/clickhouse/src/retention.ts): on ClickHouse 18.16 whole expired ingest-month partitions are
// dropped — raw points first, rollups later — and the series API answers an old run from the rollups that remain;
// on current ClickHouse (chdb) the same rule is a TTL, checked by letting the server expire the same rows itself.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import {
  applyRetention,
  command,
  connectClickHouse,
  encodeMetricPointUnits,
  ident,
  insertMetricPoints,
  loadMigrations,
  migrate,
  queryRows,
  retentionTtlStatements,
  RETENTION_TABLES,
  sql,
  type ClickHouse,
  type MetricPointUnit,
} from '@runstream/clickhouse';
import type { FastifyInstance } from 'fastify';
import { buildService } from '../services/query-service/src/build-service.ts';
import { clickhouseFor, log } from './support/pipeline-fixture.ts';
import { ensurePythonPackages, PYTHON } from './support/python-deps.ts';

const database = `runstream_retention_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const server = clickhouseFor('admin');
const ch: ClickHouse = connectClickHouse(toClickHouseSettings(loadEnv(clickhouseEnv)), 'admin', { database });
let app: FastifyInstance;

const DAY = 86_400_000;
const NOW = Date.now();
const STEPS = 5000;
/** Ingested 400 days ago (its month ended well over 90 days ago), and now. */
const OLD_AT = Math.floor((NOW - 400 * DAY) / 1000);
const NEW_AT = Math.floor(NOW / 1000);

function units(run: string, offset: number): MetricPointUnit[] {
  const points = Array.from({ length: STEPS }, (_, step) => ({ key: 'loss', value: 10 + Math.sin(step) * (step === 4321 ? 5 : 1), step, timestampMs: NOW - 500 * DAY + step * 1000 }));
  return [{ entityKind: 'RUN', entityId: run, producer: 'p', srcTopic: 't', srcPartition: 0, srcOffset: offset, points }];
}

async function series(body: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: '/api/v1/series', payload: { keys: ['loss'], ...body } });
  expect(res.statusCode).toBe(200);
  return res.json().series[0];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

beforeAll(async () => {
  await migrate(ch, server, log);
  await insertMetricPoints(ch, encodeMetricPointUnits(units('old-run', 1), OLD_AT));
  await insertMetricPoints(ch, encodeMetricPointUnits(units('new-run', 2), NEW_AT));
  app = await buildService({ log, ch, tokens: [], health: { clickhouse: async () => undefined, kafka: async () => undefined } });
});

afterAll(async () => {
  await app?.close();
  await command(server, sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await ch.close();
  await server.close();
});

it('drops expired raw partitions and then rollup partitions on 18.16; the series API falls back to the rollups', async () => {
  const before = await series({ runs: ['old-run'], buckets: 1000 });
  expect([before.resolution, sum(before.count)]).toEqual(['bucketed', STEPS]);
  const peak = Math.max(...before.max);

  // Raw points 90 days, rollups two years: the old run's raw partition goes, its rollups stay; the new run keeps all.
  const outcome = await applyRetention(ch, { metricPointsDays: 90, metricRollupsDays: 730 }, NOW);
  const oldMonth = new Date(OLD_AT * 1000).toISOString().slice(0, 7).replace('-', '');
  expect(outcome).toEqual([
    { table: 'metric_points_v2', days: 90, dropped: [oldMonth] },
    { table: 'metric_rollup_v3', days: 730, dropped: [] },
  ]);
  const counts = await queryRows<{ entity_id: string; n: string }>(ch, sql`SELECT entity_id, count() AS n FROM metric_points_v2 GROUP BY entity_id ORDER BY entity_id`);
  expect(counts).toEqual([{ entity_id: 'new-run', n: String(STEPS) }]);

  // Downsampled (would have read raw points: 5 steps a bucket), whole (5000 points ≤ 10000 buckets) and zoomed: all
  // answered from the 64-step rollups, every point counted, the spike kept. A zoom reads the rollup buckets inside
  // its range (here steps 4032..4991, fifteen buckets of 64).
  for (const body of [{ buckets: 1000 }, { buckets: 10_000 }, { buckets: 100, from: 4032, to: 4991 }]) {
    const s = await series({ runs: ['old-run'], ...body });
    expect(s.resolution).toBe('bucketed');
    expect(s.x_first[1] - s.x_first[0]).toBeGreaterThanOrEqual(64);
    expect(sum(s.count)).toBe('from' in body ? 960 : STEPS);
    expect(Math.max(...s.max)).toBe(peak);
  }
  // The new run is read as before: raw when whole.
  const fresh = await series({ runs: ['new-run'], buckets: 10_000 });
  expect([fresh.resolution, sum(fresh.count)]).toEqual(['raw', STEPS]);

  // Three years on, the rollups of the old run's month expire too: its series is empty (its summary stays).
  const later = await applyRetention(ch, { metricPointsDays: 90, metricRollupsDays: 730 }, NOW + 3 * 365 * DAY);
  expect(later[1]!.dropped).toContain(oldMonth);
  const gone = await series({ runs: ['old-run'], buckets: 1000 });
  expect(gone.points).toBe(0);
  const [summary] = await queryRows<{ n: string }>(ch, sql`SELECT sumMerge(points) AS n FROM metric_summary_v2 WHERE entity_id = 'old-run'`);
  expect(summary!.n).toBe(String(STEPS));

  // Refused before anything is dropped: rollups shorter-lived than raw points.
  await expect(applyRetention(ch, { metricPointsDays: 90, metricRollupsDays: 30 }, NOW)).rejects.toThrow(/at least as long as raw points/);
}, 120_000);

it('expresses the same rule as a TTL on current ClickHouse (chdb), which expires the old month by itself', async () => {
  await ensurePythonPackages(['chdb-core==26.9.0']);
  const point = (run: string, at: number) =>
    sql`INSERT INTO metric_points_v2 (entity_kind, entity_id, key, value, step, timestamp_ms, producer, ingested_at, src_topic, src_partition, src_offset, point_index)
        SELECT 'run', ${run}, 'loss', number, number, number, 'p', toDateTime(${at}), 't', 0, number, 0 FROM numbers(100)`;
  const job = {
    statements: [
      ...loadMigrations().flatMap((m) => m.statements),
      ...RETENTION_TABLES.flatMap((t) => retentionTtlStatements(t.table, t.column, t.table === 'metric_points_v2' ? 90 : 730).map((s) => s.text)),
      point('old-run', OLD_AT).text,
      point('new-run', NEW_AT).text,
      'OPTIMIZE TABLE metric_points_v2 FINAL',
    ],
    queries: [
      { name: 'left', sql: 'SELECT entity_id, count() AS n FROM metric_points_v2 GROUP BY entity_id ORDER BY entity_id' },
      { name: 'ttl', sql: "SELECT name, position(create_table_query, ' TTL ') > 0 AS has_ttl, create_table_query AS ddl FROM system.tables WHERE database = currentDatabase() AND name IN ('metric_points_v2', 'metric_rollup_v3') ORDER BY name" },
    ],
  };
  const result = await new Promise<{ results: Record<string, Record<string, unknown>[]> }>((resolve, reject) => {
    const child = spawn(PYTHON, [fileURLToPath(new URL('./support/chdb-runner.py', import.meta.url))], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`chdb runner exited with ${code}: ${err.slice(0, 3000)}`))));
    child.stdin.end(JSON.stringify(job));
  });
  expect(result.results.ttl!.map((r) => [r.name, Number(r.has_ttl)]), JSON.stringify(result.results.ttl)).toEqual([['metric_points_v2', 1], ['metric_rollup_v3', 1]]);
  expect(result.results.left!.map((r) => [r.entity_id, Number(r.n)])).toEqual([['new-run', 100]]);
}, 300_000);
