// Property-based fuzzing of the whole HTTP API from its own OpenAPI document with Schemathesis (PyPI): generated
// and mutated requests for every operation, on the real pipeline. Zero 5xx, zero hangs. The run itself
// (test/support/api-fuzz.ts) is shared with the chaos suite's report.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTokens } from '../services/query-service/src/auth.ts';
import { runApiFuzz } from './support/api-fuzz.ts';
import { isolatedEnv, startPipelineService, type PipelineService } from './support/pipeline-fixture.ts';
import { SCHEMATHESIS, ensurePythonPackages } from './support/python-deps.ts';

const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '10' });
const TOKEN = 'fuzzer-token-0123456789abcdef';
const MAX_EXAMPLES = Number(process.env.API_FUZZ_EXAMPLES ?? 25);

let pipeline: PipelineService;

beforeAll(async () => {
  await ensurePythonPackages([SCHEMATHESIS]);
  pipeline = await startPipelineService(env, { tokens: parseTokens(`fuzzer:${TOKEN}:read+write`), rateLimit: { ratePerSec: 100_000, burst: 100_000 } });
}, 300_000);

afterAll(async () => pipeline?.close());

it(`answers ${MAX_EXAMPLES} generated requests per operation without a server error or a hang`, async () => {
  const r = await runApiFuzz({ base: pipeline.base, token: TOKEN, maxExamples: MAX_EXAMPLES, reportDir: 'test-artifacts' });
  const summary = { operations: r.operations, testCases: r.testCases, serverErrors: r.serverErrors, serverErrorsByService: r.serverErrorsByService, timeouts: r.timeouts, errors: r.errors };
  expect(r.operations, JSON.stringify(summary)).toBeGreaterThan(20);
  expect(r.testCases, JSON.stringify(summary)).toBeGreaterThan(r.operations * 5);
  expect({ serverErrors: r.serverErrors, serverErrorsByService: r.serverErrorsByService, timeouts: r.timeouts, errors: r.errors }, r.tail).toEqual({ serverErrors: 0, serverErrorsByService: 0, timeouts: 0, errors: 0 });
  expect(r.clean ? '' : r.tail).toBe('');
}, 900_000);
