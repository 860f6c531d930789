// Builds the Fastify application (used by main.ts and by the tests).
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

// Liveness and monitoring are never rate limited; they and the API document never wait for a data slot.
const UNLIMITED = new Set(['/health', '/metrics']);
const UNGATED = new Set([...UNLIMITED, '/openapi.json']);
/** The web UI's shell and bundle: static, cheap, and needed to show the page that explains a 503. */
const isUiAsset = (url: string): boolean => url === '/ui' || url.startsWith('/ui/');
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import type { Logger } from '@runstream/config';
import type { ClickHouse } from '@runstream/clickhouse';
import { actorOf, mlflowErrorBody, requireScope, type ApiToken } from './auth.ts';
import { registerMlflowRoutes } from './mlflow/mlflow-routes.ts';
import type { FenceScope, ReadFence, TrackingWriter } from '@runstream/tracking';
import { installErrorHandler } from './api-errors.ts';
import { registerHealthRoutes, type HealthChecks } from './routes/health-routes.ts';
import { registerMetricRoutes } from './routes/metric-routes.ts';
import { registerRankRoutes } from './routes/rank-routes.ts';
import { registerTrackingRoutes } from './routes/tracking-routes.ts';
import { registerSeriesRoutes } from './routes/series-routes.ts';
import { registerCompareRoutes } from './routes/compare-routes.ts';
import { registerDataRoutes } from './routes/data-routes.ts';
import { registerGcRoutes } from './routes/gc-routes.ts';
import { registerStorageRoutes } from './routes/storage-routes.ts';
import { installStorageMetrics } from './storage-metrics.ts';
import type { PurgeRunner } from './gc/purge-job.ts';
import { registerMonitorRoutes } from './routes/monitor-routes.ts';
import { MonitorEvaluator } from './monitoring/monitor-evaluator.ts';
import type { WebhookOptions } from './monitoring/webhook-sender.ts';
import { registerUiRoutes } from './ui/ui-routes.ts';
import { RateLimiter } from './rate-limiter.ts';
import { ConcurrencyGate, DEFAULT_GATE, LagController, type GateOptions } from './concurrency-gate.ts';
import { installServiceMetrics } from './service-metrics.ts';
import { authenticate } from './auth.ts';

export interface ServiceDeps {
  log: Logger;
  ch: ClickHouse;
  tokens: ApiToken[];
  health: HealthChecks;
  /** Tracking writes (MLflow API); without it the service is read-only. */
  writer?: TrackingWriter;
  /**
   * Read-your-writes: reads wait (only while the ingest worker is behind) for the writes acknowledged before them.
   * Required with a writer; without one the service reads what is stored.
   */
  fence?: ReadFence;
  /** Directory of the MLflow artifact store. */
  artifactRoot?: string;
  requestTimeoutMs?: number;
  /** Requests per second per token (per client address when the API is open), with bursts. */
  rateLimit?: { ratePerSec: number; burst: number };
  /** Admission control of data requests (see concurrency-gate.ts). */
  concurrency?: GateOptions;
  /** Permanent deletion (POST /api/v1/gc, tokens with the admin scope); without it the routes are not served. */
  purge?: PurgeRunner;
  /** Evaluate every monitor this often (needs a writer); 0 or absent = only on request. */
  monitorEvaluateIntervalMs?: number;
  /** Alert webhook retries (tests shorten them). */
  webhook?: WebhookOptions;
}

export async function buildService(deps: ServiceDeps): Promise<FastifyInstance> {
  // pino's Logger is a FastifyBaseLogger; the cast keeps the instance type the default one routes are written for.
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestTimeout: deps.requestTimeoutMs ?? 30_000,
    connectionTimeout: 60_000,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: true, allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Runstream API', version: '0.1.0', description: 'Metrics of ML runs and model versions.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  installErrorHandler(app);
  const metrics = installServiceMetrics(app);
  installStorageMetrics(metrics.registry, deps.ch, deps.log);
  const limiter = new RateLimiter(deps.rateLimit ?? { ratePerSec: 200, burst: 400 });
  // Unauthenticated callers share a bucket and a concurrency share per address, so guessing tokens is limited too.
  const callerOf = (req: FastifyRequest) => authenticate(deps.tokens, req.headers.authorization)?.name ?? `ip:${req.ip}`;
  app.addHook('onRequest', async (req, reply) => {
    if (UNLIMITED.has(req.url)) return;
    const decision = limiter.take(callerOf(req));
    if (!decision.allowed) {
      // One body for both kinds of client: the native error shape and MLflow's (whose clients back off on 429).
      return reply
        .code(429)
        .header('retry-after', String(decision.retryAfterSec))
        .send({ error: { code: 'RESOURCE_EXHAUSTED', message: `rate limit exceeded; retry in ${decision.retryAfterSec} s` }, error_code: 'REQUEST_LIMIT_EXCEEDED', message: `rate limit exceeded; retry in ${decision.retryAfterSec} s` });
    }
  });
  const gateOptions = deps.concurrency ?? DEFAULT_GATE;
  const gate = new ConcurrencyGate(gateOptions);
  if (gateOptions.targetLagMs) {
    // The event loop's worst delay every 250 ms, and whether requests waited, steer the number of slots (LagController).
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    // Never below a quarter of the slots (at least 2): a few requests in parallel keep ClickHouse and the event
    // loop busy at once (one request's query runs while another's JSON is built), and one slot stays for others.
    const controller = new LagController({ min: Math.min(gateOptions.maxActive, Math.max(2, Math.ceil(gateOptions.maxActive / 4))), max: gateOptions.maxActive, targetLagMs: gateOptions.targetLagMs });
    const timer = setInterval(() => {
      gate.setLimit(controller.update(lag.max / 1e6, gate.takePressure()));
      metrics.gateLimit.set(gate.currentLimit);
      lag.reset();
    }, 250);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      lag.disable();
    });
  }
  const releases = new WeakMap<object, () => void>();
  const waiting = new WeakMap<object, AbortController>();
  app.addHook('preHandler', async (req, reply) => {
    if (UNGATED.has(req.url) || isUiAsset(req.url)) return;
    const abort = new AbortController();
    waiting.set(req, abort);
    const admission = await gate.acquire(callerOf(req), abort.signal);
    waiting.delete(req);
    if (!admission.ok) {
      // The client left while queued: nobody to answer.
      if (admission.reason === 'aborted') return reply.hijack();
      metrics.shed.inc({ reason: admission.reason });
      const message = `the service is at capacity; retry in ${admission.retryAfterSec} s`;
      return reply
        .code(503)
        .header('retry-after', String(admission.retryAfterSec))
        .send({ error: { code: 'UNAVAILABLE', message }, error_code: 'TEMPORARILY_UNAVAILABLE', message });
    }
    releases.set(req, admission.release);
  });
  const release = async (req: FastifyRequest) => {
    releases.get(req)?.();
    releases.delete(req);
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', async (req) => {
    waiting.get(req)?.abort();
    await release(req);
  });
  registerHealthRoutes(app, deps.health);
  if (deps.writer && !deps.fence) throw new Error('a service that writes needs a read fence (read-your-writes)');
  // A read checks the token first, then waits for the writes acknowledged before it (read-fence.ts).
  const fencedRead = (scopes: FenceScope[], access: 'read' | 'write' = 'read') => {
    const scope = requireScope(deps.tokens, access);
    const fence = deps.fence;
    if (!fence) return scope;
    return async (req: FastifyRequest, reply: FastifyReply) => {
      await scope(req, reply);
      if (!reply.sent) await fence.wait(scopes);
    };
  };
  const topics = deps.writer?.topics;
  const metricReads = fencedRead(topics ? [{ topic: topics.tracking }, { topic: topics.metrics }] : []);
  registerMetricRoutes(app, { ch: deps.ch, preHandler: metricReads });
  registerRankRoutes(app, { ch: deps.ch, preHandler: metricReads });
  registerSeriesRoutes(app, { ch: deps.ch, preHandler: metricReads });
  registerCompareRoutes(app, { ch: deps.ch, preHandler: metricReads });
  registerTrackingRoutes(app, {
    ch: deps.ch,
    preHandler: metricReads,
    ...(deps.writer ? { writes: { writer: deps.writer, preHandler: fencedRead([{ topic: deps.writer.topics.tracking }], 'write'), actorOf: (req) => actorOf(deps.tokens, req) } } : {}),
  });
  registerDataRoutes(app, { ch: deps.ch, preHandler: fencedRead(topics ? [{ topic: topics.datasets }] : []), ...(deps.writer ? { writes: { writer: deps.writer, preHandler: requireScope(deps.tokens, 'write') } } : {}) });
  const datasetReads = fencedRead(topics ? [{ topic: topics.datasets }] : []);
  let evaluator: MonitorEvaluator | undefined;
  if (deps.writer) {
    evaluator = new MonitorEvaluator({ ch: deps.ch, writer: deps.writer, log: deps.log, registry: metrics.registry, ...(deps.webhook ? { webhook: deps.webhook } : {}) });
    if (deps.monitorEvaluateIntervalMs) evaluator.start(deps.monitorEvaluateIntervalMs);
    const running = evaluator;
    app.addHook('onClose', async () => running.stop());
  }
  registerMonitorRoutes(app, {
    ch: deps.ch,
    preHandler: datasetReads,
    // Evaluation reads what it writes: the fence on the datasets topic (monitors, alert events) comes first.
    ...(deps.writer && evaluator ? { writes: { writer: deps.writer, preHandler: fencedRead([{ topic: deps.writer.topics.datasets }], 'write'), evaluator } } : {}),
  });
  const writer = deps.writer;
  if (writer) {
    // Its own scope, so MLflow's error shape applies to MLflow routes only.
    await app.register(async (mlflow) =>
      registerMlflowRoutes(mlflow, {
        ch: deps.ch,
        writer,
        fence: deps.fence!,
        readScope: requireScope(deps.tokens, 'read', mlflowErrorBody),
        writeScope: requireScope(deps.tokens, 'write', mlflowErrorBody),
        actorOf: (req) => actorOf(deps.tokens, req),
        artifactRoot: deps.artifactRoot ?? join(tmpdir(), 'runstream-artifacts'),
        maxArtifactBytes: 1024 * 1024 * 1024,
      }),
    );
  }
  registerStorageRoutes(app, { ch: deps.ch, preHandler: requireScope(deps.tokens, 'read') });
  if (deps.purge) registerGcRoutes(app, { runner: deps.purge, preHandler: requireScope(deps.tokens, 'admin'), actorOf: (req) => actorOf(deps.tokens, req) });
  registerUiRoutes(app);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
