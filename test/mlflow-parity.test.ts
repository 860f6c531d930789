// MLflow semantics beyond the common flows, with the real MLflow client on the real pipeline: metric points re-sent
// by log_model, experiments' lifecycle and search, validation differences, GenAI endpoints' error shape.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, startPipelineService, type PipelineService } from './support/pipeline-fixture.ts';
import { ensurePythonPackages, PYTHON } from './support/python-deps.ts';

const run = promisify(execFile);
const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '20' });
let pipeline: PipelineService;

async function python(script: string): Promise<any> {
  const { stdout } = await run(PYTHON, [script], {
    env: { ...process.env, MLFLOW_TRACKING_URI: pipeline.base, GIT_PYTHON_REFRESH: 'quiet' },
    timeout: 400_000,
    maxBuffer: 16 << 20,
  }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${script} failed: ${err.stderr?.split('\n').slice(-25).join('\n') || err.message}`);
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

beforeAll(async () => {
  [pipeline] = await Promise.all([
    startPipelineService(env),
    ensurePythonPackages([{ spec: 'mlflow==3.17.2', module: 'mlflow' }, { spec: 'scikit-learn==1.9.1', module: 'sklearn' }]),
  ]);
}, 600_000);

afterAll(async () => pipeline?.close());

describe('MLflow parity', () => {
  it('stores the points log_model re-sends once, and fills the logged models metrics', async () => {
    const s = await python('test/mlflow/model_metrics_flow.py');
    expect(s.loss).toEqual([[0, 1], [1, 0.5], [2, 1 / 3]]);
    expect(s.acc).toEqual([[0, 0.9], [1, 0.9]]);
    expect(s.first_metrics).toEqual([['acc', 0, 0.9], ['acc', 1, 0.9], ['loss', 0, 1]]);
    expect(s.second_metrics).toEqual([['acc', 0, 0.9], ['loss', 0, 1]]);
    expect(s.run_latest).toEqual({ loss: 1 / 3, acc: 0.9 });
    expect(s.artifacts).toEqual(expect.arrayContaining(['MLmodel', 'requirements.txt']));
  }, 600_000);

  it('deletes, restores, renames and tags experiments; searches them with filters, order_by and pages past the first', async () => {
    const s = await python('test/mlflow/experiments_flow.py');
    const name = (i: number) => expect.stringMatching(new RegExp(`^exp-[0-9a-f]{8}-${i}$`));
    expect(s.pages).toEqual([[name(4), name(3)], [name(2), name(1)], [name(0)]]);
    expect(s.vision).toEqual([name(0), name(2), name(4)]);
    expect(s.by_name_asc).toEqual([0, 1, 2, 3, 4].map(name));
    expect(s.newer).toEqual([name(3), name(4)]);
    expect(s.bad_filter).toBe('INVALID_PARAMETER_VALUE');
    expect(s.tags).toEqual({ team: 'vision', stage: 'prod' });
    expect(s.missing_tag).toBe('RESOURCE_DOES_NOT_EXIST');
    expect([s.renamed, s.old_name_gone, s.rename_taken]).toEqual([true, true, 'RESOURCE_ALREADY_EXISTS']);
    expect(s.deleted_stage).toEqual(['deleted', 'deleted']);
    expect(s.deleted_search).toEqual([name(4)]);
    expect(s.active_search).toEqual([name(0), name(2), name(3)]);
    expect(s.delete_twice).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(s.restored_stage).toEqual(['active', 'active']);
  }, 600_000);

  it('accepts what MLflow accepts: early and future timestamps, negative steps, colons, long values, big bodies; inputs in search', async () => {
    const s = await python('test/mlflow/validation_flow.py');
    expect(s.early).toEqual([[0, 5], [1, expect.any(Number)]]);
    expect(s.early[1][1]).toBeLessThan(2_000_000_000);
    expect(s.future).toEqual([true]);
    expect(s.negative).toEqual([[-5, 4]]);
    expect(s.colon).toEqual([0.5, 'adam']);
    expect(s.lengths).toEqual([8000, 6000, 8000, 20000]);
    expect(s.search_inputs).toEqual(['train-set']);
    expect(s.traced).toBe(2);
    const get = async (path: string, init?: RequestInit) => (await fetch(`${pipeline.base}/api/2.0/mlflow/${path}`, init)).json() as Promise<any>;
    const listed = await get(`artifacts/list?run_id=${s.run_id}&path=notes`);
    expect(listed.files).toEqual([{ path: 'notes/a.txt', is_dir: false, file_size: 5 }]);
    expect(listed.root_uri).toMatch(/^mlflow-artifacts:\/.*\/artifacts$/);
    const post = (path: string, body: unknown) => get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('experiments/search-datasets', { experiment_ids: [s.experiment_id] })).dataset_summaries).toEqual([
      { experiment_id: s.experiment_id, name: 'train-set', digest: expect.any(String), context: 'training' },
    ]);
    expect((await post('artifacts/presigned-download-url', { run_id: s.run_id, path: 'notes/a.txt' })).message).toMatch(/^Presigned download is not supported for runs with proxied artifact storage/);
    expect((await post('artifacts/presigned-upload-url', { run_id: s.run_id, model_id: 'm-1', path: 'x' })).error_code).toBe('INVALID_PARAMETER_VALUE');
  }, 600_000);

  it('answers get-history without max_results with every point, records runs/log-model, and answers GenAI endpoints with ENDPOINT_NOT_FOUND', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${pipeline.base}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const exp = await call('POST', '/api/2.0/mlflow/experiments/create', { name: `history-${Date.now()}` });
    const runId = (await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp.body.experiment_id })).body.run.info.run_id;
    for (let batch = 0; batch < 26; batch++) {
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: i, timestamp: 1_700_000_000_000 + batch * 1000 + i, step: batch * 1000 + i }));
      expect((await call('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics })).status).toBe(200);
    }
    const all = await call('GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect([all.body.metrics.length, all.body.next_page_token]).toEqual([26_000, undefined]);
    const paged = await call('GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=25000`);
    expect([paged.body.metrics.length, typeof paged.body.next_page_token]).toEqual([25_000, 'string']);

    // A point logged twice by hand (no model_id) is stored twice but answered once, on every page.
    for (const value of [7, 7, 8, 7]) expect((await call('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'dup', value, timestamp: 5, step: 1 })).status).toBe(200);
    const once = await call('GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=dup`);
    expect(once.body.metrics.map((m: any) => m.value)).toEqual([7, 8]);
    const pagedValues: number[] = [];
    let token: string | undefined;
    do {
      const page = await call('GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=dup&max_results=1${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
      pagedValues.push(...page.body.metrics.map((m: any) => m.value));
      token = page.body.next_page_token;
    } while (token);
    expect(pagedValues).toEqual([7, 8]);
    const bulk = await call('GET', `/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=dup`);
    expect(bulk.body.metrics.map((m: any) => m.value)).toEqual([7, 8]);

    const model = { artifact_path: 'model', flavors: { sklearn: {} }, utc_time_created: '2026-01-01 00:00:00.000000', run_id: runId };
    expect((await call('POST', '/api/2.0/mlflow/runs/log-model', { run_id: runId, model_json: JSON.stringify(model) })).status).toBe(200);
    expect((await call('POST', '/api/2.0/mlflow/runs/log-model', { run_id: runId, model_json: JSON.stringify({ ...model, artifact_path: 'second' }) })).status).toBe(200);
    const bad = await call('POST', '/api/2.0/mlflow/runs/log-model', { run_id: runId, model_json: '{"flavors": {}}' });
    expect([bad.status, bad.body.error_code]).toEqual([400, 'INVALID_PARAMETER_VALUE']);
    const tags = (await call('GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`)).body.run.data.tags;
    expect(JSON.parse(tags.find((t: any) => t.key === 'mlflow.log-model.history').value).map((m: any) => m.artifact_path)).toEqual(['model', 'second']);

    for (const [method, path] of [['POST', '/api/3.0/mlflow/traces'], ['GET', '/api/3.0/mlflow/traces/tr-1'], ['POST', '/api/2.0/mlflow/traces'], ['POST', '/v1/traces'], ['POST', '/ajax-api/3.0/mlflow/traces/search']] as const) {
      const res = await call(method, path, method === 'POST' ? {} : undefined);
      expect([path, res.status, res.body.error_code]).toEqual([path, 404, 'ENDPOINT_NOT_FOUND']);
    }
  }, 600_000);
});

