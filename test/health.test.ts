// /health reports what the service will actually do: its ClickHouse user reading its database, its Kafka topics.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import { connectClickHouse, type ClickHouse } from '@runstream/clickhouse';
import type { Admin } from '@runstream/kafka';
import { buildService } from '../services/query-service/src/build-service.ts';
import { serviceHealthChecks } from '../services/query-service/src/health-checks.ts';
import { busFor, ensureTopics, isolatedEnv, log, topicsFor } from './support/pipeline-fixture.ts';

const env = isolatedEnv();
const topics = topicsFor(env);
const settings = toClickHouseSettings(loadEnv(clickhouseEnv));
let admin: Admin;
const opened: ClickHouse[] = [];

beforeAll(async () => {
  await ensureTopics(env);
  admin = await busFor(env).admin();
}, 60_000);

afterAll(async () => {
  await admin?.disconnect();
  await Promise.all(opened.map((c) => c.close()));
});

async function health(database: string, produceTo: string[]) {
  const ch = connectClickHouse(settings, 'query', { database });
  opened.push(ch);
  const app = await buildService({ log, ch, tokens: [], health: serviceHealthChecks(ch, admin, produceTo) });
  try {
    const res = await app.inject({ method: 'GET', url: '/health' });
    return { status: res.statusCode, body: res.json() };
  } finally {
    await app.close();
  }
}

it('is ok when the query user reads the configured database and the topics exist', async () => {
  const { status, body } = await health(settings.database, [topics.metrics, topics.tracking]);
  expect(status, JSON.stringify(body)).toBe(200);
  expect(body).toMatchObject({ status: 'ok', checks: { clickhouse: { ok: true }, kafka: { ok: true } } });
});

it('is 503 with the reason when the query user may not use the configured database (a server set up for another)', async () => {
  // The local stack's users may use runstream, runstream_test and runstream_bench only.
  const database = `runstream_elsewhere_${randomUUID().slice(0, 8)}`;
  const { status, body } = await health(database, [topics.metrics, topics.tracking]);
  expect(status).toBe(503);
  expect(body.status).toBe('degraded');
  expect(body.checks.kafka.ok).toBe(true);
  expect(body.checks.clickhouse).toMatchObject({ ok: false, error: expect.stringContaining(`the query user cannot read database ${database}`) });
  expect(body.checks.clickhouse.error).toMatch(new RegExp(`Access denied to database ${database} for user ${settings.query.user}`));
});

it('is 503 naming the topic when a topic the service produces to is missing', async () => {
  const missing = `${env.KAFKA_TOPIC_PREFIX}nothing-here.v1`;
  const { status, body } = await health(settings.database, [topics.metrics, missing]);
  expect(status).toBe(503);
  expect(body.checks.clickhouse.ok).toBe(true);
  expect(body.checks.kafka).toMatchObject({ ok: false, error: expect.stringContaining(missing) });
});
