// Property-based fuzzing of the whole HTTP API from its own OpenAPI document with Schemathesis (PyPI): generated
// and mutated requests for every operation, on the real pipeline. Zero 5xx, zero hangs.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseTokens } from '../services/query-service/src/auth.ts';
import { isolatedEnv, startPipelineService, type PipelineService } from './support/pipeline-fixture.ts';
import { ensurePythonPackages } from './support/python-deps.ts';

const run = promisify(execFile);
const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '10' });
const TOKEN = 'fuzzer-token-0123456789abcdef';
const MAX_EXAMPLES = Number(process.env.API_FUZZ_EXAMPLES ?? 25);

let pipeline: PipelineService;
let base: string;

beforeAll(async () => {
  await ensurePythonPackages([{ spec: 'schemathesis==4.32.5', module: 'schemathesis' }]);
  pipeline = await startPipelineService(env, { tokens: parseTokens(`fuzzer:${TOKEN}:read+write`), rateLimit: { ratePerSec: 100_000, burst: 100_000 } });
  base = pipeline.base;
}, 300_000);

afterAll(async () => pipeline?.close());

it(`answers ${MAX_EXAMPLES} generated requests per operation without a server error or a hang`, async () => {
  mkdirSync('test-artifacts', { recursive: true });
  const report = 'test-artifacts/api-fuzz-junit.xml';
  const result = await run(
    'schemathesis',
    ['run', `${base}/openapi.json`, '--checks', 'not_a_server_error', '--max-examples', String(MAX_EXAMPLES), '--request-timeout', '20', '-H', `Authorization: Bearer ${TOKEN}`, '--seed', '1', '--report', 'junit', '--report-junit-path', report, '--phases', 'examples,coverage,fuzzing'],
    { timeout: 600_000, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } },
  ).catch((err: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '', failed: true }));
  const out = `${result.stdout}\n${result.stderr}`;
  const junit = readFileSync(report, 'utf8');
  const cases = Number(/tests="(\d+)"/.exec(junit)?.[1] ?? 0);
  expect(cases, 'schemathesis exercised the operations').toBeGreaterThan(20);
  expect('failed' in result ? out.split('\n').slice(-60).join('\n') : '').toBe('');
}, 900_000);
