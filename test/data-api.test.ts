// The data metrics API end to end: rows in over HTTP (through Kafka and the worker, readable on return), datasets
// listed, the quality view with class balance and category changes, drift over time windows, scopes and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { parseTokens } from '../services/query-service/src/auth.ts';
import { encodeDatasetRows } from '@runstream/codec';
import { busFor, isolatedEnv, readTopic, startPipelineService, topicsFor, type PipelineService } from './support/pipeline-fixture.ts';

const READ = 'data-reader-token-0123456789';
const WRITE = 'data-writer-token-0123456789';
const T0 = Date.UTC(2026, 10, 1);
const HOUR = 3600_000;

describe('data metrics API', () => {
  let svc: PipelineService;
  const env = isolatedEnv();
  const dataset = `api-${randomUUID().slice(0, 8)} "churn" ü`;
  const call = async (method: string, path: string, body?: unknown, token = READ) => {
    const res = await fetch(`${svc.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const path = `/api/v1/datasets/${encodeURIComponent(dataset)}`;

  beforeAll(async () => {
    svc = await startPipelineService(env, { tokens: parseTokens(`analyst:${READ}:read,trainer:${WRITE}:read+write`) });
    // Reference: hour 0, current: hours 1 and 2 (the second shifted), with missing and non-finite values.
    const rows = [];
    for (let h = 0; h < 3; h++) {
      for (let i = 0; i < 300; i++) {
        rows.push({
          timestamp_ms: T0 + h * HOUR + i * 1000,
          segment: i % 2 ? 'eu' : 'us',
          values: {
            score: i % 50 === 0 ? 'NaN' : i === 7 ? 'Infinity' : ((i * 37) % 101) / 10 + (h === 2 ? 3 : 0),
            plan: i % 40 === 0 ? null : ['free', 'pro', 'team', ...(h === 2 ? ['enterprise'] : [])][i % (h === 2 ? 4 : 3)]!,
            label: i % 3 === 0 ? 'churned' : 'stayed',
          },
        });
      }
    }
    const write = await call('POST', `${path}/rows`, { version: 'v1', columns: { score: 'numerical' }, rows }, WRITE);
    expect(write).toEqual({ status: 200, body: { dataset, rows: 900 } });
  }, 180_000);
  afterAll(async () => svc?.close());

  it('needs the write scope to add rows and the read scope to read', async () => {
    expect((await call('POST', `${path}/rows`, { rows: [{ values: { a: 1 } }] }, READ)).status).toBe(403);
    expect((await call('POST', `${path}/rows`, { rows: [{ values: { a: 1 } }] }, 'nope-nope-nope-nope-nope')).status).toBe(401);
    expect((await call('POST', '/api/v1/drift', { reference: { dataset }, current: { dataset } }, 'nope-nope-nope-nope-nope')).status).toBe(401);
  });

  it('reports a column stored as numbers in some rows and categories in others without a score, saying why', async () => {
    const mixed = `${dataset} mixed`;
    const rows = (m: number | string) => Array.from({ length: 20 }, (_, i) => ({ timestamp_ms: T0 + i, values: { m, x: ['p', 'q'][i % 2]! } }));
    const mixedPath = `/api/v1/datasets/${encodeURIComponent(mixed)}/rows`;
    expect((await call('POST', mixedPath, { columns: { m: 'numerical' }, rows: rows(1) }, WRITE)).status).toBe(200);
    expect((await call('POST', mixedPath, { columns: { m: 'categorical' }, rows: rows('one') }, WRITE)).status).toBe(200);
    const { status, body } = await call('POST', '/api/v1/drift', { reference: { dataset: mixed }, current: { dataset: mixed } });
    expect(status).toBe(200);
    const m = body.columns.find((c: { column: string }) => c.column === 'm');
    expect(m).toMatchObject({ score: null, drifted: false });
    expect(m.note).toMatch(/categorical and numerical/);
    expect(body.columns.find((c: { column: string }) => c.column === 'x')).toMatchObject({ method: 'z', drifted: false });
  });

  it('lists the dataset with its rows, versions, columns and time range', async () => {
    const { status, body } = await call('GET', '/api/v1/datasets?max_results=1000');
    expect(status).toBe(200);
    const d = body.datasets.find((x: { dataset: string }) => x.dataset === dataset);
    expect(d).toMatchObject({ rows: 900, versions: ['v1'], first_timestamp_ms: T0, last_timestamp_ms: T0 + 2 * HOUR + 299_000 });
    expect(d.columns).toEqual([
      { name: 'label', type: 'categorical', values: 900 },
      { name: 'plan', type: 'categorical', values: 900 },
      { name: 'score', type: 'numerical', values: 900 },
    ]);
  });

  it('serves the quality view with class balance and new categories against a reference window', async () => {
    const { status, body } = await call('POST', `${path}/quality`, {
      from_ms: T0 + 2 * HOUR,
      to_ms: T0 + 3 * HOUR,
      label_column: 'label',
      reference: { dataset, from_ms: T0, to_ms: T0 + HOUR },
    });
    expect(status).toBe(200);
    expect(body.rows).toBe(300);
    const score = body.columns.find((c: { column: string }) => c.column === 'score');
    expect(score).toMatchObject({ type: 'numerical', rows: 300, missing: 6, missing_share: 0.02, max: 'Infinity' });
    expect(score.std).toBe('NaN');
    const plan = body.columns.find((c: { column: string }) => c.column === 'plan');
    expect(plan).toMatchObject({ missing: 8, new_categories: ['enterprise'], vanished_categories: [] });
    expect(body.class_balance.classes).toEqual([
      { value: 'stayed', count: 200, share: 200 / 300 },
      { value: 'churned', count: 100, share: 100 / 300 },
    ]);
  });

  it('reports drift per window: the shifted hour drifts, the unchanged one does not', async () => {
    const { status, body } = await call('POST', '/api/v1/drift/over-time', {
      reference: { dataset, from_ms: T0, to_ms: T0 + HOUR },
      current: { dataset, from_ms: T0 + HOUR, to_ms: T0 + 3 * HOUR },
      window_ms: HOUR,
      columns: ['score', 'plan'],
    });
    expect(status).toBe(200);
    expect(body.windows.map((w: { from_ms: number }) => w.from_ms)).toEqual([T0 + HOUR, T0 + 2 * HOUR]);
    const [same, shifted] = body.windows.map((w: any) => w.report);
    expect(same.dataset_drift).toBe(false);
    expect(same.columns.map((c: any) => [c.column, c.method, c.drifted])).toEqual([['plan', 'chisquare', false], ['score', 'ks', false]]);
    expect(shifted.dataset_drift).toBe(true);
    expect(shifted.number_of_drifted_columns).toBe(2);
    const score = shifted.columns.find((c: any) => c.column === 'score');
    expect(score.reference_histogram.edges).toEqual(score.current_histogram.edges);
    expect(score.reference_histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(score.reference_rows);
    const plan = shifted.columns.find((c: any) => c.column === 'plan');
    expect(plan.current_histogram.values).toEqual(['enterprise', 'free', 'pro', 'team']);
  });

  it('dead-letters invalid dataset batches sent straight to Kafka, with the reason', async () => {
    const producer = await busFor(env).producer({ idempotent: true });
    const typeMismatch = encodeDatasetRows({ dataset, version: '', producer: null, columns: [{ name: 'x', type: 'NUMERICAL' }], rows: [{ timestampMs: T0, segment: null, values: ['text'] }] });
    await producer.send(topicsFor(env).datasets, [{ key: 'k', value: Buffer.from('not avro') }, { key: 'k', value: typeMismatch }]);
    await producer.disconnect();
    const dead = await readTopic(env, topicsFor(env).datasetsDeadLetter, 2);
    expect(dead.map((m) => m.headers['runstream-dlq-reason']).sort()).toEqual(['invalid_rows', 'malformed']);
    expect(dead.find((m) => m.headers['runstream-dlq-reason'] === 'invalid_rows')!.headers['runstream-dlq-detail']).toMatch(/numerical column needs a number/);
  });

  it('answers bad requests with 400s and a reason', async () => {
    const bad = async (p: string, body: unknown) => {
      const r = await call('POST', p, body, WRITE);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      return r.body.error.message as string;
    };
    expect(await bad('/api/v1/drift', { reference: { dataset }, current: { dataset }, methods: { plan: { method: 'ks' } } })).toMatch(/does not apply/);
    expect(await bad('/api/v1/drift', { reference: { dataset, from_ms: 5, to_ms: 1 }, current: { dataset } })).toMatch(/from_ms/);
    expect(await bad('/api/v1/drift', { reference: { dataset }, current: { dataset }, methods: { nope: { method: 'psi' } } })).toMatch(/nope/);
    expect(await bad('/api/v1/drift/over-time', { reference: { dataset }, current: { dataset, from_ms: 0, to_ms: 1e9 }, window_ms: 1 })).toMatch(/windows/);
    expect(await bad(`${path}/rows`, { columns: { x: 'numerical' }, rows: [{ values: { x: 'abc' } }] })).toMatch(/numerical column needs a number/);
    expect(await bad(`${path}/rows`, { rows: [{ values: {} }] })).toMatch(/no columns/);
    expect(await bad(`${path}/rows`, { rows: [{ values: { x: 1 } }, { values: { x: { nested: true } } }] })).toMatch(/number, a string or null/);
    expect(await bad(`${path}/rows`, { rows: [{ values: { x: 'a'.repeat(1001) } }] })).toMatch(/longer than 1000/);
    expect((await call('POST', '/api/v1/drift', { reference: { dataset: 'no-such-dataset' }, current: { dataset: 'no-such-dataset' } })).status).toBe(404);
  });
});
