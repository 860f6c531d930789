// Property-based fuzzing of the HTTP API from its own OpenAPI document with Schemathesis (PyPI), shared by
// test/api-fuzz.test.ts and the chaos suite. Counts come from Schemathesis's NDJSON event report (one
// ScenarioFinished event per scenario, recording every generated case and its request/response), and 5xx are
// also counted by the service itself (runstream_api_requests_total), so neither side alone is trusted.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PYTHON, SCHEMATHESIS, ensurePythonPackages } from './python-deps.ts';

const run = promisify(execFile);

export interface ApiFuzzCounts {
  operations: number;
  /** Generated test cases (one request each) Schemathesis recorded. */
  testCases: number;
  /** Responses with status >= 500 in Schemathesis's recorded interactions. */
  serverErrors: number;
  /** The same, counted by the service (runstream_api_requests_total with a 5xx status). */
  serverErrorsByService: number;
  /** Requests without an answer within the request timeout. */
  timeouts: number;
  /** Other errors Schemathesis reported (schema problems, connection errors). */
  errors: number;
  seconds: number;
}

export interface ApiFuzzRun extends ApiFuzzCounts {
  /** Schemathesis exited 0: no check failed, nothing errored. */
  clean: boolean;
  /** The end of its output, for failure messages. */
  tail: string;
}

export interface ApiFuzzOptions {
  /** Base URL of a running query service; its document is `${base}/openapi.json`. */
  base: string;
  /** Bearer token with read and write scopes. */
  token: string;
  maxExamples: number;
  seed?: number;
  /** Where the NDJSON and JUnit reports go. */
  reportDir: string;
  requestTimeoutSec?: number;
  /** Bound on the whole Schemathesis run. */
  timeoutMs?: number;
}

/** Total of runstream_api_requests_total samples with a 5xx status, from the service's /metrics. */
export async function serviceServerErrors(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^runstream_api_requests_total\{[^}]*status="5\d\d"[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

interface Recorder {
  label?: string;
  cases?: Record<string, unknown>;
  interactions?: Record<string, { response?: { status_code?: number } | null }>;
}

/** Counts from a Schemathesis NDJSON event report. */
export function countNdjson(text: string): Omit<ApiFuzzCounts, 'serverErrorsByService' | 'seconds'> {
  const labels = new Set<string>();
  let selected: number | undefined;
  let testCases = 0;
  let serverErrors = 0;
  let timeouts = 0;
  let errors = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Record<string, Record<string, unknown>>;
    const loaded = event.LoadingFinished as { statistic?: { operations?: { selected?: number } } } | undefined;
    if (loaded) selected = loaded.statistic?.operations?.selected;
    const finished = event.ScenarioFinished as { recorder?: Recorder } | undefined;
    if (finished?.recorder) {
      const r = finished.recorder;
      if (r.label) labels.add(r.label);
      testCases += Object.keys(r.cases ?? {}).length;
      for (const i of Object.values(r.interactions ?? {})) {
        if (!i.response) errors++; // sent, but no response recorded
        else if ((i.response.status_code ?? 0) >= 500) serverErrors++;
      }
    }
    // Transport errors (a read timeout is a ReadTimeout, "Read timed out after N seconds").
    const error = event.NonFatalError as { value?: { type?: string; message?: string } } | undefined;
    if (error) {
      if (/timeout|timed out/i.test(`${error.value?.type} ${error.value?.message}`)) timeouts++;
      else errors++;
    }
  }
  // Operations in the document (the loader's count); the scenario labels as a fallback.
  return { operations: selected ?? labels.size, testCases, serverErrors, timeouts, errors };
}

/**
 * Runs Schemathesis (installed from PyPI when missing) against every operation of the service's OpenAPI
 * document with the not_a_server_error check, all phases (examples, coverage, fuzzing).
 */
export async function runApiFuzz(o: ApiFuzzOptions): Promise<ApiFuzzRun> {
  await ensurePythonPackages([SCHEMATHESIS]);
  mkdirSync(o.reportDir, { recursive: true });
  const ndjson = join(o.reportDir, 'api-fuzz-events.ndjson');
  const errorsBefore = await serviceServerErrors(o.base);
  const t0 = Date.now();
  const args = [
    '-m', 'schemathesis.cli', 'run', `${o.base}/openapi.json`,
    '--checks', 'not_a_server_error',
    '--max-examples', String(o.maxExamples),
    '--request-timeout', String(o.requestTimeoutSec ?? 20),
    '-H', `Authorization: Bearer ${o.token}`,
    '--seed', String(o.seed ?? 1),
    '--phases', 'examples,coverage,fuzzing',
    '--report', 'ndjson,junit',
    '--report-ndjson-path', ndjson,
    '--report-junit-path', join(o.reportDir, 'api-fuzz-junit.xml'),
  ];
  const result = await run(PYTHON, args, { timeout: o.timeoutMs ?? 600_000, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } })
    .then((r) => ({ ...r, clean: true }))
    .catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '', clean: false }));
  const seconds = (Date.now() - t0) / 1000;
  const counts = countNdjson(readFileSync(ndjson, 'utf8'));
  return {
    ...counts,
    serverErrorsByService: (await serviceServerErrors(o.base)) - errorsBefore,
    seconds,
    clean: result.clean,
    tail: `${result.stdout}\n${result.stderr}`.split('\n').slice(-60).join('\n'),
  };
}
