// The model registry through the real MLflow client (test/mlflow/registry_flow.py) on the real pipeline, plus
// MLflow's error shapes for registry requests over plain HTTP.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, startPipelineService, type PipelineService } from './support/pipeline-fixture.ts';
import { ensurePythonPackages, PYTHON } from './support/python-deps.ts';

const run = promisify(execFile);
const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '20' });
let pipeline: PipelineService;

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${pipeline.base}/api/2.0/mlflow/${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  [pipeline] = await Promise.all([
    startPipelineService(env),
    ensurePythonPackages([{ spec: 'mlflow==3.17.2', module: 'mlflow' }, { spec: 'scikit-learn==1.9.1', module: 'sklearn' }]),
  ]);
}, 600_000);

afterAll(async () => pipeline?.close());

describe('MLflow model registry', () => {
  it('registers through log_model and loads by version, alias, stage and latest; aliases, tags, stages, search, rename, delete', async () => {
    const { stdout } = await run(PYTHON, ['test/mlflow/registry_flow.py'], {
      env: { ...process.env, MLFLOW_TRACKING_URI: pipeline.base, GIT_PYTHON_REFRESH: 'quiet' },
      timeout: 400_000,
      maxBuffer: 16 << 20,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`registry_flow.py failed: ${err.stderr?.split('\n').slice(-25).join('\n') || err.message}`);
    });
    const summary = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(summary).toEqual({
      model_id: true,
      by_version: true,
      alias_errors: ['RESOURCE_DOES_NOT_EXIST', 'INVALID_PARAMETER_VALUE', 'RESOURCE_DOES_NOT_EXIST'],
      model_info_id: true,
      bad_stage: 'INVALID_PARAMETER_VALUE',
      bad_filter: 'INVALID_PARAMETER_VALUE',
      recreated_version: '1',
      bad_names: ['INVALID_PARAMETER_VALUE', 'INVALID_PARAMETER_VALUE'],
    });
  }, 600_000);

  it("answers bad registry requests with MLflow's error shape", async () => {
    const name = `http-${Date.now()}`;
    expect((await call('POST', 'registered-models/create', { name })).status).toBe(200);
    const cases: [string, string, unknown, number, string][] = [
      ['GET', `registered-models/alias?name=${name}&alias=x`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['GET', `model-versions/get-download-uri?name=${name}&version=1`, undefined, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['GET', `model-versions/get?name=${name}&version=one`, undefined, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', 'model-versions/transition-stage', { name, version: '1', stage: 'nope' }, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', 'registered-models/rename', { name, new_name: 'a/b' }, 400, 'INVALID_PARAMETER_VALUE'],
      ['POST', 'registered-models/rename', { name: `${name}-missing`, new_name: 'x' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
      ['GET', `registered-models/search?filter=${encodeURIComponent("name = 'x' OR name = 'y'")}`, undefined, 400, 'INVALID_PARAMETER_VALUE'],
      ['GET', `model-versions/search?order_by=${encodeURIComponent('owner DESC')}`, undefined, 400, 'INVALID_PARAMETER_VALUE'],
      ['GET', 'registered-models/search?page_token=garbage', undefined, 400, 'INVALID_PARAMETER_VALUE'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await call(method, path, body);
      expect([path, res.status, res.body.error_code]).toEqual([path, status, code]);
    }
    const source = 'mlflow-artifacts:/0/abc/artifacts/model';
    const created = await call('POST', 'model-versions/create', { name, source });
    expect(created.body.model_version).toMatchObject({ version: '1', aliases: [], current_stage: 'None' });
    expect((await call('GET', `model-versions/get-download-uri?name=${name}&version=1`)).body).toEqual({ artifact_uri: source });
    const same = await call('POST', 'registered-models/rename', { name, new_name: name });
    expect([same.status, same.body.registered_model?.name]).toEqual([200, name]);
    expect((await call('DELETE', 'registered-models/delete', { name })).status).toBe(200);
    expect((await call('GET', `registered-models/get?name=${name}`)).status).toBe(404);
  });
});
