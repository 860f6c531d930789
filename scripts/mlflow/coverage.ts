// `npm run mlflow:coverage`: which of MLflow's tracking, registry and logged-model REST endpoints Runstream serves.
// The endpoint list comes from the installed mlflow package's own protos (scripts/mlflow/proto_endpoints.py, run
// with $PYTHON or python3); what Runstream serves comes from the query service's OpenAPI document, generated from
// its route schemas. The service is built without connecting to anything (no request is sent). Traces, prompts,
// evaluation datasets, scorers, gateway, workspaces and the other GenAI services are out of scope and listed apart.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectClickHouse } from '@runstream/clickhouse';
import { createLogger } from '@runstream/config';
import { topicNames, type Producer } from '@runstream/kafka';
import { TrackingWriter, type ReadFence } from '@runstream/tracking';
import { buildService } from '../../services/query-service/src/build-service.ts';

interface Endpoint {
  service: string;
  rpc: string;
  method: string;
  path: string;
}

/** Endpoints of experiments, runs, metrics, run artifacts, logged models and the registry. */
const IN_SCOPE = /^\/api\/2\.0\/mlflow\/(experiments|runs|metrics|artifacts|logged-models|registered-models|model-versions)(\/|$)/;
/** Endpoints that may answer MLflow's "not supported" error (presigned URLs: MLflow refuses them for proxied storage). */
const MAY_BE_UNSUPPORTED = /\/artifacts\/presigned-/;

const python = process.env.PYTHON ?? 'python3';
const script = fileURLToPath(new URL('./proto_endpoints.py', import.meta.url));
const endpoints = JSON.parse(execFileSync(python, [script], { encoding: 'utf8' })) as Endpoint[];
const mlflowVersion = execFileSync(python, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' }).trim();

const NONE = { user: 'none', password: '' };
const unused = (): never => {
  throw new Error('the coverage script sends no request');
};
const app = await buildService({
  log: createLogger({ name: 'mlflow-coverage', level: 'warn' }),
  tokens: [],
  ch: connectClickHouse({ url: 'http://127.0.0.1:1', database: 'unused', admin: NONE, ingest: NONE, query: NONE, requestTimeoutMs: 1000 }, 'query'),
  writer: new TrackingWriter({ producer: { send: unused, disconnect: unused } as unknown as Producer, topics: topicNames('coverage.') }),
  fence: {} as ReadFence,
  health: { clickhouse: unused, kafka: unused },
});
const doc = app.swagger() as { paths: Record<string, Record<string, { summary?: string }>> };
await app.close();

const served = (e: Endpoint) => doc.paths[e.path.replace(/\{([^}]+)\}/g, '{$1}')]?.[e.method.toLowerCase()];
const scoped = endpoints.filter((e) => IN_SCOPE.test(e.path));
const rows = scoped.map((e) => {
  const route = served(e);
  const status = !route ? 'MISSING' : MAY_BE_UNSUPPORTED.test(e.path) && /not supported/i.test(route.summary ?? '') ? 'not supported (MLflow error)' : 'served';
  return { ...e, status };
});
const width = Math.max(...rows.map((r) => `${r.method} ${r.path}`.length));
console.log(`MLflow ${mlflowVersion}: tracking, registry and logged-model endpoints declared by its protos\n`);
for (const r of rows) console.log(`${`${r.method} ${r.path}`.padEnd(width)}  ${r.rpc.padEnd(34)} ${r.status}`);
const ok = rows.filter((r) => r.status !== 'MISSING').length;
console.log(`\n${ok} of ${rows.length} served (${rows.filter((r) => r.status.startsWith('not supported')).length} answering MLflow's "not supported" error); ${endpoints.length - scoped.length} GenAI endpoints (traces, prompts, datasets, scorers, gateway, …) out of scope`);
if (ok < rows.length) process.exitCode = 1;
