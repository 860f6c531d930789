// Storage visibility on the real server: GET /api/v1/storage and the Prometheus gauges report the rows, bytes on
// disk and compression of every table, and the points of each experiment, for a database with known contents.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import { command, connectClickHouse, encodeMetricPointUnits, ident, insertMetricPoints, insertTrackingEvents, migrate, sql, type ClickHouse, type TrackingEventUnit } from '@runstream/clickhouse';
import type { FastifyInstance } from 'fastify';
import { parseTokens } from '../services/query-service/src/auth.ts';
import { buildService } from '../services/query-service/src/build-service.ts';
import { clickhouseFor, log } from './support/pipeline-fixture.ts';

const database = `runstream_storage_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const server = clickhouseFor('admin');
const ch: ClickHouse = connectClickHouse(toClickHouseSettings(loadEnv(clickhouseEnv)), 'admin', { database });
const READ = 'analyst-token-0123456789';
let app: FastifyInstance;

beforeAll(async () => {
  await migrate(ch, server, log);
  // Two runs of experiment 7 (30,000 and 10,000 points) and one run without a tracked experiment (5,000).
  for (const [i, [run, n]] of ([['s-a', 30_000], ['s-b', 10_000], ['s-c', 5_000]] as const).entries()) {
    const points = Array.from({ length: n }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), step, timestampMs: 1_764_547_200_000 + step * 500 }));
    await insertMetricPoints(ch, encodeMetricPointUnits([{ entityKind: 'RUN', entityId: run, producer: 'p', srcTopic: 't', srcPartition: 0, srcOffset: i, points }], 1_796_601_600));
  }
  const runEvent = (run: string, offset: number): TrackingEventUnit => ({
    event: {
      eventId: `e-${run}`, eventType: 'RUN_UPSERTED', timestampMs: 1_796_601_600_000, actor: '', experimentId: '7', runId: run, key: '', value: '',
      experiment: null, dataset: null, registeredModel: null, modelVersion: null, loggedModel: null,
      run: { runName: run, userId: '', status: 'RUNNING', startTimeMs: 0, endTimeMs: null, artifactUri: '', lifecycleStage: 'active' },
    },
    srcTopic: 'tracking',
    srcPartition: 0,
    srcOffset: offset,
  });
  await insertTrackingEvents(ch, [runEvent('s-a', 1), runEvent('s-b', 2)], 1_796_601_600);
  app = await buildService({ log, ch, tokens: parseTokens(`analyst:${READ}:read`), health: { clickhouse: async () => undefined, kafka: async () => undefined } });
});

afterAll(async () => {
  await app?.close();
  await command(server, sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await ch.close();
  await server.close();
});

it('reports rows, bytes and compression per table and points per experiment, to token holders', async () => {
  expect((await app.inject({ method: 'GET', url: '/api/v1/storage' })).statusCode).toBe(401);
  const res = await app.inject({ method: 'GET', url: '/api/v1/storage?experiments=5', headers: { authorization: `Bearer ${READ}` } });
  expect(res.statusCode).toBe(200);
  const body = res.json();
  const points = body.tables.find((t: { table: string }) => t.table === 'metric_points_v2');
  expect(points).toMatchObject({ rows: 45_000, parts: 3, partitions: 1 });
  expect(points.bytes_on_disk).toBeGreaterThan(0);
  expect(points.compression_ratio).toBeGreaterThan(1);
  expect(points.bytes_per_row).toBeCloseTo(points.bytes_on_disk / 45_000, 6);
  expect(body.experiments.map((e: Record<string, unknown>) => [e.experiment_id, e.runs, e.points])).toEqual([['7', 2, 40_000], ['', 1, 5_000]]);
  expect(body.experiments[0].estimated_point_bytes).toBe(Math.floor((40_000 * points.bytes_on_disk) / 45_000));
  expect((await app.inject({ method: 'GET', url: '/api/v1/storage?experiments=5000', headers: { authorization: `Bearer ${READ}` } })).statusCode).toBe(400);

  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  expect(metrics).toContain('runstream_storage_rows{table="metric_points_v2"} 45000');
  expect(metrics).toMatch(new RegExp(`runstream_storage_bytes_on_disk\\{table="metric_points_v2"\\} ${points.bytes_on_disk}\\b`));
  expect(metrics).toContain('runstream_storage_experiment_points{experiment_id="7"} 40000');
});
