// The real MLflow Python client (from PyPI) against Runstream's MLflow-compatible API, on the real pipeline:
// API → Kafka → ingest worker → ClickHouse → API. Plus the API's limits, auth and error shapes over plain HTTP.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTokens } from '../services/query-service/src/auth.ts';
import { isolatedEnv, startPipelineService, type PipelineService } from './support/pipeline-fixture.ts';
import { ensurePythonPackages, PYTHON } from './support/python-deps.ts';

const run = promisify(execFile);
const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '20' });
const WRITE = 'trainer-token-0123456789';
const READ = 'analyst-token-0123456789';

let pipeline: PipelineService;
let base: string;
let summary: any;

async function call(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, token: string | null = WRITE) {
  const res = await fetch(`${base}/api/2.0/mlflow/${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  [pipeline] = await Promise.all([
    startPipelineService(env, { tokens: parseTokens(`trainer:${WRITE}:read+write,analyst:${READ}:read`) }),
    ensurePythonPackages([{ spec: 'mlflow==3.17.2', module: 'mlflow' }, { spec: 'scikit-learn==1.9.1', module: 'sklearn' }]),
  ]);
  base = pipeline.base;
}, 600_000);

afterAll(async () => pipeline?.close());

describe('MLflow compatibility', () => {
  it('runs the MLflow Python client unchanged: experiments, runs, params, metrics (sync and async), tags, search, autolog', async () => {
    const { stdout } = await run(PYTHON, ['test/mlflow/client_flow.py'], {
      env: { ...process.env, MLFLOW_TRACKING_URI: base, MLFLOW_TRACKING_TOKEN: WRITE, GIT_PYTHON_REFRESH: 'quiet' },
      timeout: 300_000,
      maxBuffer: 16 << 20,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`client_flow.py failed: ${err.stderr?.split('\n').slice(-25).join('\n') || err.message}`);
    });
    summary = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(summary.immutable_param_error).toBe('INVALID_PARAMETER_VALUE');
    expect(summary.run_a.history_points).toBe(10);
    expect(summary.edge_values).toBe(2);
    expect(summary.search).toEqual(['sweep-0.01', 'sweep-0.001']);
    expect(summary.autolog.metrics).toContain('training_accuracy_score');
    // MLflow 3 logged models: autolog with log_models on, log_model, load_model, tags, search.
    expect(summary.logged_models).toEqual({ count: 2, explicit_loaded: [0] });
  }, 600_000);

  it('serves the native API with traceability: model version → run → params, inputs and metrics', async () => {
    expect(summary, 'needs the client flow above').toBeDefined();
    const { model, v1_run: runId, experiment_id: experimentId } = summary.registry;
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${READ}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const version = await get(`/api/v1/models/${encodeURIComponent(model)}/versions/1`);
    expect(version.status).toBe(200);
    expect(version.body.version).toMatchObject({ name: model, version: '1', run_id: runId, status: 'READY' });
    expect(version.body.run.info).toMatchObject({ run_id: runId, experiment_id: experimentId, run_name: 'sweep-0.01', status: 'FINISHED' });
    expect(version.body.run.params).toEqual(expect.arrayContaining([{ key: 'lr', value: '0.01' }, { key: 'model', value: 'resnet' }]));
    expect(version.body.run.latest_metrics).toEqual([expect.objectContaining({ key: 'val_acc', value: 0.92, step: 1 })]);
    const run = await get(`/api/v1/runs/${runId}`);
    expect(run.body.model_versions).toEqual([expect.objectContaining({ name: model, version: '1' })]);
    const models = await get('/api/v1/models?max_results=1000');
    expect(models.body.items.find((m: any) => m.name === model).versions.map((v: any) => v.version)).toEqual(['1', '2']);
    const experiment = await get(`/api/v1/experiments/${experimentId}`);
    expect(experiment.body.name).toMatch(/^compat-/);
    expect((await get('/api/v1/models/nope/versions/1')).status).toBe(404);

    // Metrics logged on the version itself (an evaluation job), queryable as soon as the call returns.
    const post = (token: string, body: unknown) =>
      fetch(`${base}/api/v1/models/${encodeURIComponent(model)}/versions/2/metrics`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post(READ, { metrics: [{ key: 'recall', value: 0.8 }] })).status).toBe(403);
    expect((await post(WRITE, { metrics: [{ key: 'bad key!', value: 0.8 }] })).status).toBe(400);
    const logged = await post(WRITE, { metrics: [{ key: 'recall', value: 0.8 }, { key: 'fairness/dp_diff', value: 'NaN', step: 1 }] });
    expect(logged.status).toBe(200);
    const v2 = await get(`/api/v1/models/${encodeURIComponent(model)}/versions/2`);
    expect(v2.body.version_metrics).toEqual([
      expect.objectContaining({ key: 'fairness/dp_diff', value: 'NaN', step: 1 }),
      expect.objectContaining({ key: 'recall', value: 0.8, step: 0 }),
    ]);
    expect((await get('/api/v1/runs/nope')).status).toBe(404);
    const openapi = await get('/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/api/v1/runs/{runId}', '/api/v1/models/{model}/versions/{version}', '/api/2.0/mlflow/runs/log-batch']));
  });

  it('requires tokens: none → 401, read-only token writing → 403, in MLflow error shape', async () => {
    const none = await call('POST', 'experiments/create', { name: 'x' }, null);
    expect(none.status).toBe(401);
    expect(none.body.error_code).toBe('UNAUTHENTICATED');
    const readOnly = await call('POST', 'experiments/create', { name: 'x' }, READ);
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.error_code).toBe('PERMISSION_DENIED');
    const reading = await call('GET', 'experiments/get-by-name?experiment_name=Default', undefined, READ);
    expect(reading.status).toBe(200);
    expect(reading.body.experiment.experiment_id).toBe('0');
  });

  it("enforces MLflow's limits and answers bad input with 4xx in MLflow's error shape", async () => {
    const exp = await call('POST', 'experiments/create', { name: `limits-${Date.now()}` });
    expect(exp.status).toBe(200);
    const created = await call('POST', 'runs/create', { experiment_id: exp.body.experiment_id, start_time: Date.now() });
    expect(created.status).toBe(200);
    const runId = created.body.run.info.run_id;

    const tooMany = await call('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: Date.now(), step: i })),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/at most 1000 metrics/) });

    expect((await call('POST', 'runs/log-parameter', { run_id: runId, key: 'p', value: 'a' })).status).toBe(200);
    const changed = await call('POST', 'runs/log-parameter', { run_id: runId, key: 'p', value: 'b' });
    expect(changed.status).toBe(400);
    expect(changed.body.message).toMatch(/Changing param values is not allowed/);

    const malformed = await call('POST', 'runs/log-metric', '{"run_id": "x", "key": ');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error_code).toBeDefined();

    // MLflow has no effective body cap; Runstream's guard is 32 MiB (a long tag value is stored truncated, as MLflow does).
    expect((await call('POST', 'runs/set-tag', { run_id: runId, key: 'big', value: 'x'.repeat(2 * 1024 * 1024) })).status).toBe(200);
    const huge = await call('POST', 'runs/set-tag', { run_id: runId, key: 'big', value: 'x'.repeat(33 * 1024 * 1024) });
    expect(huge.status).toBe(413);

    expect((await call('GET', `runs/get?run_id=${'f'.repeat(32)}`)).status).toBe(404);
    expect((await call('POST', 'runs/log-metric', { run_id: runId, key: 'bad key!', value: 1, timestamp: Date.now() })).status).toBe(400);
    expect((await call('POST', 'runs/search', { experiment_ids: [exp.body.experiment_id], filter: "params.p = 'a' OR OR" })).status).toBe(400);
    expect((await call('POST', 'runs/search', { experiment_ids: [exp.body.experiment_id], filter: "metrics.m LIKE '%'" })).status).toBe(400);
    const auth = { authorization: `Bearer ${WRITE}` };
    expect((await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/x/missing.txt`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${encodeURIComponent('../../etc/passwd')}`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${base}/api/2.0/mlflow/artifacts/list?run_id=${runId}`, { headers: auth })).status).toBe(200);
    const unknown = await call('POST', 'experiments/no-such-endpoint', { experiment_id: exp.body.experiment_id });
    expect(unknown).toEqual({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND', message: expect.stringMatching(/no-such-endpoint/) } });
    expect((await call('POST', 'logged-models', { experiment_id: 'nope' })).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await call('GET', 'logged-models/m-nope')).status).toBe(404);
    const pending = await call('POST', 'logged-models', { experiment_id: exp.body.experiment_id, name: 'm' });
    expect((await call('PATCH', `logged-models/${pending.body.model.info.model_id}`, { status: 'DONE' })).status).toBe(400);
    expect((await call('POST', 'logged-models/search', { experiment_ids: [exp.body.experiment_id], filter: "name LIKE 'x' OR 1=1" })).status).toBe(400);
  });

  it('accepts what MLflow accepts: timestamp 0, negative steps, colons in names, long values truncated, duplicates as MLflow', async () => {
    const exp = await call('POST', 'experiments/create', { name: `accepts-${Date.now()}`, tags: [{ key: 'note', value: 'e'.repeat(20_000) }] });
    expect(exp.status).toBe(200);
    const created = await call('POST', 'runs/create', { experiment_id: exp.body.experiment_id, start_time: 0 });
    expect(created.status).toBe(200);
    const runId = created.body.run.info.run_id;

    const logged = await call('POST', 'runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'val:loss', value: 0.5, timestamp: 0, step: -1 },
        { key: 'val:loss', value: 0.5, timestamp: 0, step: -1 }, // identical: stored once, as MLflow does
        { key: 'val:loss', value: 'Infinity', timestamp: '4102444800000', step: '2' }, // 2100-01-01: no clock check
      ],
      params: [{ key: 'opt:lr', value: 'p'.repeat(7000) }],
      tags: [{ key: 'long', value: 't'.repeat(9000) }],
    });
    expect(logged).toEqual({ status: 200, body: {} });
    const history = await call('GET', `metrics/get-history?run_id=${runId}&metric_key=${encodeURIComponent('val:loss')}`);
    expect(history.status).toBe(200);
    expect(history.body.metrics).toEqual([
      { key: 'val:loss', value: 0.5, timestamp: 0, step: -1 },
      { key: 'val:loss', value: 'Infinity', timestamp: 4102444800000, step: 2 },
    ]);
    const run = (await call('GET', `runs/get?run_id=${runId}`)).body.run;
    expect(run.info.start_time).toBe(0);
    expect(run.data.params.find((p: any) => p.key === 'opt:lr').value).toHaveLength(6000);
    expect(run.data.tags.find((t: any) => t.key === 'long').value).toHaveLength(8000);
    const experiment = (await call('GET', `experiments/get?experiment_id=${exp.body.experiment_id}`)).body.experiment;
    expect(experiment.tags.find((t: any) => t.key === 'note').value).toHaveLength(20_000);

    const negative = await call('POST', 'runs/log-batch', { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: -1 }] });
    expect(negative.status).toBe(400);
    expect(negative.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(/'metrics\[0\]\.timestamp'.*nonnegative/) });
    const twice = await call('POST', 'runs/log-batch', { run_id: runId, params: [{ key: 'a', value: '1' }, { key: 'a', value: '1' }] });
    expect(twice.status).toBe(400);
    expect(twice.body.message).toBe("Duplicate parameter keys have been submitted: ['a']. Please ensure the request contains only one param value per param key.");
  });
});
