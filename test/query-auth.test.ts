// Bearer tokens and scopes on the query service, against the real ClickHouse.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { ClickHouse } from '@runstream/clickhouse';
import { parseTokens } from '../services/query-service/src/auth.ts';
import { buildService } from '../services/query-service/src/build-service.ts';
import { loadServiceConfig } from '../services/query-service/src/service-config.ts';
import { clickhouseFor, log } from './support/pipeline-fixture.ts';

const READ = 'reader-token-0123456789';
const WRITE = 'writer-token-0123456789';
let ch: ClickHouse;
let app: FastifyInstance;

beforeAll(async () => {
  ch = clickhouseFor('query');
  app = await buildService({
    log,
    ch,
    tokens: parseTokens(`analyst:${READ}:read,trainer:${WRITE}:write`),
    health: { clickhouse: async () => undefined, kafka: async () => undefined },
  });
});
afterAll(async () => {
  await app?.close();
  await ch?.close();
});

it('requires a token with the read scope on data routes', async () => {
  const url = '/api/v1/runs';
  expect((await app.inject({ url })).statusCode).toBe(401);
  expect((await app.inject({ url, headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(401);
  expect((await app.inject({ url, headers: { authorization: `Basic ${READ}` } })).statusCode).toBe(401);
  const forbidden = await app.inject({ url, headers: { authorization: `Bearer ${WRITE}` } });
  expect(forbidden.statusCode).toBe(403);
  expect(forbidden.json().error.message).toMatch(/read scope/);
  expect((await app.inject({ url, headers: { authorization: `Bearer ${READ}` } })).statusCode).toBe(200);
  expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
});

it('limits each token to its rate with 429 and Retry-After, and counts requests in /metrics', async () => {
  const limited = await buildService({
    log,
    ch,
    tokens: parseTokens(`analyst:${READ}:read,trainer:${WRITE}:write`),
    health: { clickhouse: async () => undefined, kafka: async () => undefined },
    rateLimit: { ratePerSec: 1, burst: 3 },
  });
  try {
    const asReader = () => limited.inject({ url: '/api/v1/runs', headers: { authorization: `Bearer ${READ}` } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await asReader()).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await asReader();
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().error.code).toBe('RESOURCE_EXHAUSTED');
    // Another token has its own budget; health and metrics are never limited.
    expect((await limited.inject({ url: '/api/v1/runs', headers: { authorization: `Bearer ${WRITE}` } })).statusCode).toBe(403);
    for (let i = 0; i < 5; i++) expect((await limited.inject({ url: '/health' })).statusCode).toBe(200);
    const metrics = await limited.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/runstream_api_requests_total\{method="GET",route="\/api\/v1\/runs",status="429"\} 3/);
    expect(metrics.body).toMatch(/runstream_api_requests_total\{method="GET",route="\/api\/v1\/runs",status="200"\} 3/);
  } finally {
    await limited.close();
  }
});

it('bounds concurrent data requests: the overflow gets 503 + Retry-After at once, health is never gated', async () => {
  const tight = await buildService({
    log,
    ch,
    tokens: [],
    health: { clickhouse: async () => undefined, kafka: async () => undefined },
    concurrency: { maxActive: 1, callerShare: 1, maxQueued: 0, waitBudgetMs: 1_000, queueTimeoutMs: 10 },
  });
  try {
    const responses = await Promise.all(Array.from({ length: 20 }, () => tight.inject({ url: '/api/v1/runs' })));
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    const refused = responses.find((r) => r.statusCode === 503)!;
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().error.code).toBe('UNAVAILABLE');
    expect((await tight.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await tight.inject({ url: '/metrics' })).body).toMatch(/runstream_api_shed_total\{reason="queue_full"\} \d+/);
    // Slots are released: a request after the burst is served.
    expect((await tight.inject({ url: '/api/v1/runs' })).statusCode).toBe(200);
  } finally {
    await tight.close();
  }
});

it('refuses to listen beyond loopback without tokens, and rejects malformed token lists', () => {
  expect(() => loadServiceConfig({ HOST: '0.0.0.0' })).toThrow(/refusing to listen/);
  expect(() => loadServiceConfig({ HOST: '0.0.0.0', RUNSTREAM_API_TOKENS: `a:${READ}:read` })).not.toThrow();
  expect(() => loadServiceConfig({ RUNSTREAM_API_TOKENS: 'a:short:read' })).toThrow(/shorter than 16/);
  expect(() => loadServiceConfig({ RUNSTREAM_API_TOKENS: `a:${READ}:owner` })).toThrow(/unknown scope/);
  expect(() => loadServiceConfig({ PORT: 'eighty', CLICKHOUSE_URL: 'ftp://x' })).toThrow(/CLICKHOUSE_URL: must be an http\(s\) URL\n  - PORT: must be an integer/);
});
