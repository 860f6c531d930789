// A tracking server that does no work: it answers every MLflow REST request at once with the smallest valid response.
// Timing the MLflow client against it measures the client's own cost per call — the limit no server can beat on
// that path — for scripts/bench/mlflow-bench.ts.
import { createServer, type Server } from 'node:http';

const EXPERIMENT_ID = '1';
const RUN_ID = '0123456789abcdef0123456789abcdef';

function runInfo(): Record<string, unknown> {
  return {
    run_id: RUN_ID,
    run_uuid: RUN_ID,
    run_name: 'stub',
    experiment_id: EXPERIMENT_ID,
    user_id: 'bench',
    status: 'RUNNING',
    start_time: Date.now(),
    artifact_uri: 'mlflow-artifacts:/stub',
    lifecycle_stage: 'active',
  };
}

const experiment = { experiment_id: EXPERIMENT_ID, name: 'stub', artifact_location: 'mlflow-artifacts:/stub', lifecycle_stage: 'active', tags: [] };

/** The answer to one request path; anything not listed (log-metric, log-batch, set-tag, …) answers `{}` as MLflow does. */
function answer(path: string): unknown {
  if (path.endsWith('/experiments/get-by-name') || path.endsWith('/experiments/get')) return { experiment };
  if (path.endsWith('/experiments/create')) return { experiment_id: EXPERIMENT_ID };
  if (path.endsWith('/runs/create') || path.endsWith('/runs/get')) return { run: { info: runInfo(), data: {}, inputs: {} } };
  if (path.endsWith('/runs/update')) return { run_info: { ...runInfo(), status: 'FINISHED', end_time: Date.now() } };
  if (path.endsWith('/metrics/get-history')) return { metrics: [] };
  return {};
}

export interface StubServer {
  url: string;
  /** Requests answered, by path: shows which calls the client made. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

export async function startMlflowStub(): Promise<StubServer> {
  const requests = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    // Answer without waiting for the body: the stub never reads it, and reading it would only add our own time.
    req.resume();
    const body = JSON.stringify(answer(path));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
