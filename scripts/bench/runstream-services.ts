// Runstream as a user runs it, for a benchmark: the real ingest worker and query service as separate Node
// processes on the local Kafka + ClickHouse, with topics and a consumer group of their own (nothing shared with
// `npm start`, the tests or another benchmark), on a free loopback port.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../local-stack.ts';
import { freePort, startChild, stopChild, waitHttpOk } from './child-processes.ts';

export interface RunstreamServices {
  url: string;
  topicPrefix: string;
  /** From spawn to the first MLflow write that was readable back. */
  startupMs: number;
  stop(): Promise<void>;
}

/** Writes an experiment through the MLflow API and reads it back: proves worker, topics and service are all up. */
async function probeWriteRead(url: string, id: string, timeoutMs: number): Promise<void> {
  const name = `mlflow-bench-probe-${id}`;
  const started = performance.now();
  let last = '';
  for (;;) {
    try {
      let res = await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(15_000) });
      if (res.ok) return;
      if (res.status === 404) {
        res = await fetch(`${url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }), signal: AbortSignal.timeout(15_000) });
      }
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (performance.now() - started > timeoutMs) throw new Error(`Runstream did not accept and return an MLflow write within ${timeoutMs / 1000} s: ${last}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `root`: the checkout whose worker and service run (this repository unless comparing with an earlier commit). */
export async function startRunstream(root: string = REPO_ROOT): Promise<RunstreamServices> {
  const id = randomUUID().slice(0, 8);
  const topicPrefix = `mlflowbench.${id}.`;
  const artifacts = mkdtempSync(join(tmpdir(), 'runstream-mlflow-bench-artifacts-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { RUNSTREAM_API_TOKENS: _tokens, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    INGEST_GROUP_ID: `mlflowbench-${id}`,
    // A fixed metrics port would clash with a worker of `npm start` or another benchmark.
    INGEST_METRICS_PORT: '0',
    HOST: '127.0.0.1',
    PORT: String(port),
    RUNSTREAM_ARTIFACT_DIR: artifacts,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const started = performance.now();
  // process.execPath: the Node 24 that npm runs this benchmark with (the .ts entry points need it).
  const worker = startChild('ingest-worker', process.execPath, [join(root, 'services/ingest-worker/src/main.ts')], { env, cwd: root, echoStderr: true });
  const service = startChild('query-service', process.execPath, [join(root, 'services/query-service/src/main.ts')], { env, cwd: root, echoStderr: true });
  const stop = async () => {
    // The service first: nothing new reaches Kafka while the worker finishes its batch and commits.
    await stopChild(service);
    await stopChild(worker);
    rmSync(artifacts, { recursive: true, force: true });
  };
  try {
    await waitHttpOk(service, `${url}/health`, 120_000);
    if (worker.process.exitCode !== null) throw new Error(`ingest worker exited with code ${worker.process.exitCode}: ${worker.outputTail()}`);
    await probeWriteRead(url, id, 120_000);
    return { url, topicPrefix, startupMs: performance.now() - started, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
