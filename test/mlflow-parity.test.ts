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
});
