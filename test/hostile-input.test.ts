// Hostile HTTP input on the real pipeline: deep JSON, oversized bodies, invalid JSON numbers, control and unicode
// characters, SQL injection in every string parameter. Each gets a clear 4xx or is stored verbatim — never a 5xx,
// never executed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryRows, sql } from '@runstream/clickhouse';
import { isolatedEnv, startPipelineService, type PipelineService } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '10' });
const INJECTIONS = [
  "'; DROP TABLE runs_v1; --",
  "\\'; DROP TABLE runs_v1; --",
  "x' OR '1'='1",
  '`runs_v1`',
  "') UNION ALL SELECT * FROM system.users --",
  'a\\',
  '\u0000nul',
  '😀 ü 精度 \u202e',
];

let pipeline: PipelineService;
let base: string;

async function post(path: string, body: string | object) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
}
async function get(path: string) {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json().catch(() => ({}))) as any };
}

beforeAll(async () => {
  pipeline = await startPipelineService(env);
  base = pipeline.base;
}, 120_000);

afterAll(async () => pipeline?.close());

it('rejects malformed, deep, oversized and non-JSON bodies with 4xx', async () => {
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  const cases: [string, string][] = [
    ['deep nesting', `{"run_id": ${deep}}`],
    ['invalid JSON', '{"run_id": "x", '],
    ['NaN literal', '{"run_id": "x", "key": "k", "value": NaN, "timestamp": 1}'],
    ['Infinity literal', '{"run_id": "x", "key": "k", "value": Infinity, "timestamp": 1}'],
    ['oversized', JSON.stringify({ run_id: 'x', tags: [{ key: 'k', value: 'v'.repeat(3 * 1024 * 1024) }] })],
    ['not an object', '"just a string"'],
    ['array', '[1,2,3]'],
  ];
  for (const [name, body] of cases) {
    const r = await post('/api/2.0/mlflow/runs/log-batch', body);
    expect({ name, status: r.status >= 400 && r.status < 500 }).toEqual({ name, status: true });
  }
});

it('stores injection strings verbatim in every stored string, and executes none of them', async () => {
  for (const [i, s] of INJECTIONS.entries()) {
    const exp = await post('/api/2.0/mlflow/experiments/create', { name: `hostile-${Date.now()}-${i}-${s}` });
    expect(exp.status, JSON.stringify(exp.body)).toBe(200);
    const run = await post('/api/2.0/mlflow/runs/create', { experiment_id: exp.body.experiment_id, run_name: s, tags: [{ key: 'note', value: s }] });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    const runId = run.body.run.info.run_id;
    expect((await post('/api/2.0/mlflow/runs/log-parameter', { run_id: runId, key: 'p', value: s })).status).toBe(200);
    const back = await get(`/api/2.0/mlflow/runs/get?run_id=${runId}`);
    expect(back.body.run.info.run_name).toBe(s);
    expect(back.body.run.data.params).toEqual([{ key: 'p', value: s }]);
    expect(back.body.run.data.tags).toEqual(expect.arrayContaining([{ key: 'note', value: s }]));
    const byName = await get(`/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(`hostile-${exp.body.experiment_id}`)}`);
    expect(byName.status).toBe(404);
    // As filter values they are data, never SQL.
    const found = await post('/api/2.0/mlflow/runs/search', { experiment_ids: [exp.body.experiment_id], filter: `params.p = '${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.runs.map((r: any) => r.info.run_id)).toEqual([runId]);
  }
  const tables = await queryRows<{ name: string }>(pipeline.ch, sql`SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'runs_v1'`);
  expect(tables).toHaveLength(1);
});

it('answers injection and control characters in keys, paths and query parameters with 4xx', async () => {
  for (const s of INJECTIONS) {
    const e = encodeURIComponent(s);
    for (const path of [
      `/api/v1/runs/${e}/metric-history?key=${e}`,
      `/api/v1/runs/x/metric-history?key=loss&page_token=${e}`,
      `/api/v1/runs?page_token=${e}`,
      `/api/2.0/mlflow/metrics/get-history?run_id=${e}&metric_key=${e}`,
      `/api/2.0/mlflow/runs/get?run_id=${e}`,
    ]) {
      const r = await get(path);
      expect({ path, ok: r.status >= 400 && r.status < 500 }).toEqual({ path, ok: true });
    }
    const badKey = await post('/api/2.0/mlflow/runs/log-metric', { run_id: 'x', key: s, value: 1, timestamp: Date.now() });
    expect(badKey.status).toBeGreaterThanOrEqual(400);
    expect(badKey.status).toBeLessThan(500);
    const badFilter = await post('/api/2.0/mlflow/runs/search', { experiment_ids: ['0'], filter: s });
    expect(badFilter.status).toBe(400);
  }
});
