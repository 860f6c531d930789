// SDK → Kafka → ingest worker (real process) → ClickHouse → query service over HTTP, on the real servers.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { encodeMetricBatch, metricBatchSchemas } from '@runstream/codec';
import type { ClickHouse } from '@runstream/clickhouse';
import type { Admin, Producer } from '@runstream/kafka';
import { createMetricsProducer, type MetricsProducer } from '@runstream/sdk';
import { buildService } from '../services/query-service/src/build-service.ts';
import { DLQ_HEADERS } from '../services/ingest-worker/src/batch-decoder.ts';
import { busFor, clickhouseFor, ensureTopics, isolatedEnv, log, readTopic, spawnWorker, stopWorker, topicsFor, waitFor, type WorkerProcess } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ LOG_LEVEL: 'info' });
const topics = topicsFor(env);
const run = `e2e-${randomUUID()}`;
const model = `churn-clf-${randomUUID().slice(0, 8)}`;
const NOW = Date.now();

let worker: WorkerProcess;
let sdk: MetricsProducer;
let raw: Producer;
let admin: Admin;
let chQuery: ClickHouse;
let app: FastifyInstance;
let base: string;

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  await ensureTopics(env);
  worker = spawnWorker(env);
  sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, lingerMs: 10, producerId: 'e2e-test', logger: log });
  raw = await busFor(env).producer({ idempotent: true });
  admin = await busFor(env).admin();
  chQuery = clickhouseFor('query');
  app = await buildService({
    log,
    ch: chQuery,
    tokens: [],
    health: {
      clickhouse: async () => {
        const r = await chQuery.client.ping();
        if (!r.success) throw r.error;
      },
      kafka: () => admin.ping(),
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await sdk?.close();
  await raw?.disconnect();
  if (worker) await stopWorker(worker);
  await app?.close();
  await admin?.disconnect();
  await chQuery?.close();
});

describe('end to end', () => {
  it('reports health of Kafka and ClickHouse', async () => {
    const { status, body } = await get('/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', checks: { clickhouse: { ok: true }, kafka: { ok: true } } });
  });

  it('makes SDK points queryable over HTTP with exact values, NaN and infinities included', async () => {
    const values = [0.5, NaN, Infinity, -Infinity, -0.125, 1e-300, 123456789.123456789];
    for (let step = 0; step < values.length; step++) await sdk.logMetric({ run }, 'loss', values[step]!, { step, timestampMs: NOW + step });
    for (let step = 0; step < 1500; step++) await sdk.logMetrics({ run }, { 'eval/acc': step / 1500, 'lr schedule.v2': 0.001 }, { step, timestampMs: NOW + step });
    await sdk.logMetric({ modelVersion: { name: model, version: 3 } }, 'recall', 0.91, { timestampMs: NOW });
    await sdk.flush();

    const keys = await waitFor('run metrics', async () => {
      const r = await get(`/api/v1/runs/${encodeURIComponent(run)}/metrics`);
      return r.status === 200 && r.body.metrics.find((m: any) => m.key === 'eval/acc')?.points === 1500 && r.body.metrics.length === 3 ? r.body : undefined;
    });
    const loss = keys.metrics.find((m: any) => m.key === 'loss');
    expect(loss).toMatchObject({ points: 7, first_step: 0, last_step: 6, last_value: 123456789.123456789, last_timestamp_ms: NOW + 6 });

    const history = await get(`/api/v1/runs/${encodeURIComponent(run)}/metric-history?key=loss`);
    expect(history.status).toBe(200);
    expect(history.body.points).toEqual(values.map((v, step) => ({ step, timestamp_ms: NOW + step, value: Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v })));
    expect(Object.is(history.body.points[4].value, -0.125)).toBe(true);

    const mv = await waitFor('model version metrics', async () => {
      const r = await get(`/api/v1/models/${model}/versions/3/metrics`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(mv.metrics).toEqual([expect.objectContaining({ key: 'recall', points: 1, last_value: 0.91 })]);
    const runs = await get('/api/v1/runs?max_results=1000');
    expect(runs.body.items.find((r: any) => r.id === run)).toMatchObject({ metric_keys: 3, points: 3007 });
  });

  it('pages through a long history without skipping or repeating a point', async () => {
    const seen: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await get(`/api/v1/runs/${encodeURIComponent(run)}/metric-history?key=${encodeURIComponent('eval/acc')}&max_results=400${token ? `&page_token=${token}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.points.map((p: any) => p.step));
      token = r.body.next_page_token;
      pages++;
    } while (token);
    expect(pages).toBe(4);
    expect(seen).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    const ranged = await get(`/api/v1/runs/${encodeURIComponent(run)}/metric-history?key=${encodeURIComponent('eval/acc')}&start_step=10&end_step=12`);
    expect(ranged.body.points.map((p: any) => p.step)).toEqual([10, 11, 12]);
  });

  it('answers bad input with 400 and a clear message, unknown things with 404', async () => {
    const cases: [string, number, RegExp][] = [
      [`/api/v1/runs/${run}/metric-history`, 400, /key/],
      [`/api/v1/runs/${run}/metric-history?key=loss&max_results=0`, 400, /max_results/],
      [`/api/v1/runs/${run}/metric-history?key=loss&max_results=abc`, 400, /max_results/],
      [`/api/v1/runs/${run}/metric-history?key=loss&page_token=not-a-token`, 400, /page_token/],
      [`/api/v1/runs/${run}/metric-history?key=${encodeURIComponent("x' OR 1=1 --")}`, 400, /metric key/],
      [`/api/v1/runs/${run}/metric-history?key=loss&start_step=5&end_step=1`, 400, /start_step/],
      [`/api/v1/runs/${run}/metric-history?key=loss&bogus=1`, 400, /additional/],
      [`/api/v1/runs?max_results=5000`, 400, /max_results/],
      [`/api/v1/runs/${encodeURIComponent("nope' OR '1'='1")}/metrics`, 404, /no metrics/],
      ['/api/v1/nothing-here', 404, /no route/],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(path);
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(r.body.error.message).toMatch(message);
    }
  });

  it('dead-letters malformed bytes, unknown schemas and invalid points while storing valid data from the same stream', async () => {
    const dlqRun = `dlq-${randomUUID()}`;
    const valid = (id: string, version?: number) =>
      encodeMetricBatch({ entityKind: 'RUN', entityId: id, points: [{ key: 'acc', value: 0.75, step: 1, timestampMs: NOW }] }, version);
    const unknownSchema = valid(dlqRun);
    unknownSchema.writeBigUInt64LE(0xdeadbeefn, 2);
    const badKey = encodeMetricBatch({ entityKind: 'RUN', entityId: dlqRun, points: [{ key: 'bad key!', value: 1, step: 0, timestampMs: NOW }] });
    const negativeTimestamp = encodeMetricBatch({ entityKind: 'RUN', entityId: dlqRun, points: [{ key: 'ok', value: 1, step: -5, timestampMs: -1 }] });
    await raw.send(topics.metrics, [
      { key: dlqRun, value: Buffer.from('\x00\x01 definitely not avro') },
      { key: dlqRun, value: valid(dlqRun) },
      { key: dlqRun, value: unknownSchema },
      { key: dlqRun, value: badKey },
      { key: dlqRun, value: valid(`${dlqRun}-v1`, 1) },
      { key: dlqRun, value: negativeTimestamp },
    ]);
    expect(metricBatchSchemas.version(1).fingerprint.equals(valid('x', 1).subarray(2, 10))).toBe(true);

    const dead = await readTopic(env, topics.metricsDeadLetter, 4);
    const reasons = dead.map((m) => m.headers[DLQ_HEADERS.reason]).sort();
    expect(reasons).toEqual(['invalid_point', 'invalid_point', 'malformed', 'unknown_schema']);
    const malformed = dead.find((m) => m.headers[DLQ_HEADERS.reason] === 'malformed')!;
    expect(malformed.value!.toString('latin1')).toBe('\x00\x01 definitely not avro');
    expect(malformed.headers[DLQ_HEADERS.topic]).toBe(topics.metrics);
    expect(Number(malformed.headers[DLQ_HEADERS.offset])).toBeGreaterThanOrEqual(0);
    expect(dead.find((m) => m.value!.equals(badKey))!.headers[DLQ_HEADERS.detail]).toMatch(/bad key!/);

    // The valid message and the v1-written one (read with the v2 reader) are both stored.
    for (const id of [dlqRun, `${dlqRun}-v1`]) {
      const r = await waitFor(`metrics of ${id}`, async () => {
        const res = await get(`/api/v1/runs/${encodeURIComponent(id)}/metric-history?key=acc`);
        return res.status === 200 && res.body.points.length > 0 ? res.body : undefined;
      });
      expect(r.points).toEqual([{ step: 1, timestamp_ms: NOW, value: 0.75 }]);
    }
    expect(worker.child.exitCode).toBeNull();
  });

  it('exposes Prometheus metrics of the worker: rows stored, dead letters by reason, batch sizes, insert latency', async () => {
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+\/metrics)"/.exec(worker.output())?.[1];
    expect(url, 'the worker logs its metrics URL').toBeDefined();
    const text = await (await fetch(url!)).text();
    const value = (line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop());
    expect(value(new RegExp(`^runstream_ingest_rows_stored_total\\{topic="${topics.metrics.replace(/\./g, '\\.')}"\\}`))).toBeGreaterThanOrEqual(3009);
    expect(value(/^runstream_ingest_dead_letters_total\{.*reason="invalid_point"/)).toBe(2);
    expect(value(/^runstream_ingest_dead_letters_total\{.*reason="malformed"/)).toBe(1);
    expect(value(/^runstream_ingest_dead_letters_total\{.*reason="unknown_schema"/)).toBe(1);
    expect(text).toMatch(/^runstream_ingest_insert_seconds_bucket/m);
    expect(text).toMatch(/^runstream_ingest_batch_rows_count/m);
    expect(text).toMatch(/^runstream_ingest_backpressure_seconds_total/m);
  });

  it('publishes an OpenAPI document generated from the route schemas', async () => {
    const { status, body } = await get('/openapi.json');
    expect(status).toBe(200);
    expect(Object.keys(body.paths)).toEqual(expect.arrayContaining(['/health', '/api/v1/runs', '/api/v1/runs/{runId}/metric-history']));
    expect(body.paths['/api/v1/runs/{runId}/metric-history'].get.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['key', 'page_token', 'max_results']));
  });
});
