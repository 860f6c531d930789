// Native read API over tracking metadata, with the traceability MLflow's API does not give in one call: a run with
// its params, inputs, latest metrics and the model versions it produced; a model version with the run, params and
// data behind it and the metrics logged on the version itself.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  experimentById,
  latestMetrics,
  listExperiments,
  listMetricKeys,
  modelVersions,
  registeredModels,
  runInputs,
  runParams,
  runsByIds,
  runTags,
  toJsonDouble,
  type ClickHouse,
  type ExperimentRow,
  type ModelVersionRow,
  type RunRow,
} from '@runstream/clickhouse';
import { pointProblem, type MetricPoint } from '@runstream/codec';
import type { TrackingWriter } from '@runstream/tracking';
import { ApiError, errorResponses as errors, jsonDoubleSchema as jsonDouble } from '../api-errors.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';

const keyValues = { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'string' } } } } as const;
const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { max_results: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, page_token: { type: 'string', minLength: 1, maxLength: 2000 } },
} as const;

const experimentSchema = {
  type: 'object',
  properties: {
    experiment_id: { type: 'string' },
    name: { type: 'string' },
    artifact_location: { type: 'string' },
    lifecycle_stage: { type: 'string' },
    creation_time_ms: { type: 'integer' },
    last_update_time_ms: { type: 'integer' },
    tags: keyValues,
  },
} as const;

const runInfoSchema = {
  type: 'object',
  properties: {
    run_id: { type: 'string' },
    experiment_id: { type: 'string' },
    run_name: { type: 'string' },
    user_id: { type: 'string' },
    status: { type: 'string' },
    start_time_ms: { type: 'integer' },
    end_time_ms: { type: ['integer', 'null'] },
    lifecycle_stage: { type: 'string' },
    artifact_uri: { type: 'string' },
  },
} as const;

const latestMetricSchema = {
  type: 'object',
  properties: { key: { type: 'string' }, value: jsonDouble, step: { type: 'integer' }, timestamp_ms: { type: 'integer' } },
} as const;

const inputSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    digest: { type: 'string' },
    source_type: { type: 'string' },
    source: { type: 'string' },
    schema: { type: 'string' },
    profile: { type: 'string' },
  },
} as const;

const versionSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    source: { type: 'string' },
    run_id: { type: 'string' },
    status: { type: 'string' },
    stage: { type: 'string' },
    description: { type: 'string' },
    creation_time_ms: { type: 'integer' },
  },
} as const;

const runDetailSchema = {
  type: 'object',
  properties: {
    info: runInfoSchema,
    params: keyValues,
    tags: keyValues,
    inputs: { type: 'array', items: inputSchema },
    latest_metrics: { type: 'array', items: latestMetricSchema },
    model_versions: { type: 'array', items: versionSchema },
  },
} as const;

const experimentJson = (e: ExperimentRow) => ({
  experiment_id: e.experimentId,
  name: e.name,
  artifact_location: e.artifactLocation,
  lifecycle_stage: e.lifecycleStage,
  creation_time_ms: e.creationTimeMs,
  last_update_time_ms: e.lastUpdateTimeMs,
  tags: e.tags,
});

const runInfoJson = (r: RunRow) => ({
  run_id: r.runId,
  experiment_id: r.experimentId,
  run_name: r.runName,
  user_id: r.userId,
  status: r.status,
  start_time_ms: r.startTimeMs,
  end_time_ms: r.endTimeMs,
  lifecycle_stage: r.lifecycleStage,
  artifact_uri: r.artifactUri,
});

const versionJson = (v: ModelVersionRow) => ({
  name: v.name,
  version: v.version,
  source: v.source,
  run_id: v.runId,
  status: v.status,
  stage: v.stage,
  description: v.description,
  creation_time_ms: v.creationTimeMs,
});

type PreHandler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface TrackingRouteDeps {
  ch: ClickHouse;
  preHandler: PreHandler;
  /** For the write routes; absent when the service runs read-only. */
  writes?: { writer: TrackingWriter; preHandler: PreHandler; actorOf: (req: FastifyRequest) => string };
}

export function registerTrackingRoutes(app: FastifyInstance, deps: TrackingRouteDeps): void {
  const { ch, preHandler } = deps;

  async function runDetail(runId: string) {
    const [run] = await runsByIds(ch, [runId]);
    if (!run) return undefined;
    const [params, tags, metrics, inputs, versions] = await Promise.all([
      runParams(ch, [runId]),
      runTags(ch, [runId]),
      latestMetrics(ch, [runId]),
      runInputs(ch, runId),
      modelVersions(ch, { runId }),
    ]);
    return {
      info: runInfoJson(run),
      params: params.get(runId) ?? [],
      tags: tags.get(runId) ?? [],
      inputs: inputs.map((i) => ({ name: i.name, digest: i.digest, source_type: i.sourceType, source: i.source, schema: i.schema, profile: i.profile })),
      latest_metrics: (metrics.get(runId) ?? []).map((m) => ({ key: m.key, value: toJsonDouble(m.value), step: m.step, timestamp_ms: m.timestampMs })),
      model_versions: versions.map(versionJson),
    };
  }

  app.get<{ Querystring: { max_results: number; page_token?: string } }>(
    '/api/v1/experiments',
    { preHandler, schema: { summary: 'List experiments', tags: ['tracking'], querystring: pageQuery, response: { 200: { type: 'object', properties: { items: { type: 'array', items: experimentSchema }, next_page_token: { type: 'string' } } }, ...errors } } },
    async (req) => {
      const afterId = req.query.page_token ? decodePageToken(req.query.page_token, (v): v is string => typeof v === 'string') : undefined;
      const rows = await listExperiments(ch, { ...(afterId === undefined ? {} : { afterId }), limit: req.query.max_results + 1, stages: ['active'] });
      const page = rows.slice(0, req.query.max_results);
      return { items: page.map(experimentJson), ...(rows.length > page.length ? { next_page_token: encodePageToken(page[page.length - 1]!.experimentId) } : {}) };
    },
  );

  app.get<{ Params: { experimentId: string } }>(
    '/api/v1/experiments/:experimentId',
    { preHandler, schema: { summary: 'One experiment', tags: ['tracking'], params: { type: 'object', properties: { experimentId: { type: 'string', minLength: 1, maxLength: 64 } } }, response: { 200: experimentSchema, ...errors } } },
    async (req) => {
      const e = await experimentById(ch, req.params.experimentId);
      if (!e) throw new ApiError(404, 'NOT_FOUND', `no experiment ${JSON.stringify(req.params.experimentId)}`);
      return experimentJson(e);
    },
  );

  app.get<{ Params: { runId: string } }>(
    '/api/v1/runs/:runId',
    {
      preHandler,
      schema: {
        summary: 'A run with its params, tags, inputs, latest metrics and the model versions it produced',
        tags: ['tracking'],
        params: { type: 'object', properties: { runId: { type: 'string', minLength: 1, maxLength: 256 } } },
        response: { 200: runDetailSchema, ...errors },
      },
    },
    async (req) => {
      const detail = await runDetail(req.params.runId);
      if (!detail) throw new ApiError(404, 'NOT_FOUND', `no run ${JSON.stringify(req.params.runId)}`);
      return detail;
    },
  );

  app.get<{ Querystring: { max_results: number; page_token?: string } }>(
    '/api/v1/models',
    {
      preHandler,
      schema: {
        summary: 'Registered models with their versions',
        tags: ['models'],
        querystring: pageQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, description: { type: 'string' }, versions: { type: 'array', items: versionSchema } } } },
              next_page_token: { type: 'string' },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const afterName = req.query.page_token ? decodePageToken(req.query.page_token, (v): v is string => typeof v === 'string') : undefined;
      const rows = await registeredModels(ch, { ...(afterName === undefined ? {} : { afterName }), limit: req.query.max_results + 1 });
      const page = rows.slice(0, req.query.max_results);
      const versions = await modelVersions(ch, { names: page.map((m) => m.name) });
      return {
        items: page.map((m) => ({
          name: m.name,
          description: m.description,
          versions: versions.filter((v) => v.name === m.name).map(versionJson),
        })),
        ...(rows.length > page.length ? { next_page_token: encodePageToken(page[page.length - 1]!.name) } : {}),
      };
    },
  );

  app.get<{ Params: { model: string; version: string } }>(
    '/api/v1/models/:model/versions/:version',
    {
      preHandler,
      schema: {
        summary: 'A model version traced to its run: params, inputs, the run’s metrics and the version’s own metrics',
        tags: ['models'],
        params: { type: 'object', properties: { model: { type: 'string', minLength: 1, maxLength: 256 }, version: { type: 'string', minLength: 1, maxLength: 20 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              version: versionSchema,
              run: { anyOf: [runDetailSchema, { type: 'null' }] },
              version_metrics: { type: 'array', items: latestMetricSchema },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const [v] = await modelVersions(ch, { names: [req.params.model], version: req.params.version });
      if (!v) throw new ApiError(404, 'NOT_FOUND', `no version ${JSON.stringify(req.params.version)} of model ${JSON.stringify(req.params.model)}`);
      const [run, own] = await Promise.all([v.runId ? runDetail(v.runId) : undefined, listMetricKeys(ch, 'MODEL_VERSION', `${v.name}/${v.version}`)]);
      return {
        version: versionJson(v),
        run: run ?? null,
        version_metrics: own.map((m) => ({ key: m.key, value: toJsonDouble(m.lastValue), step: m.lastStep, timestamp_ms: m.lastTimestampMs })),
      };
    },
  );

  const writes = deps.writes;
  if (!writes) return;

  app.post<{ Params: { model: string; version: string }; Body: { metrics: { key: string; value: number | string; step?: number; timestamp_ms?: number }[] } }>(
    '/api/v1/models/:model/versions/:version/metrics',
    {
      preHandler: writes.preHandler,
      schema: {
        summary: 'Log metrics on a model version (evaluation results, fairness indicators…); returns once they are queryable',
        tags: ['models'],
        params: { type: 'object', properties: { model: { type: 'string', minLength: 1, maxLength: 256 }, version: { type: 'string', minLength: 1, maxLength: 20 } } },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['metrics'],
          properties: {
            metrics: {
              type: 'array',
              minItems: 1,
              maxItems: 1000,
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['key', 'value'],
                properties: {
                  key: { type: 'string', minLength: 1, maxLength: 250 },
                  value: jsonDouble,
                  step: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
                  timestamp_ms: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
                },
              },
            },
          },
        },
        response: { 200: { type: 'object', properties: { logged: { type: 'integer' } } }, ...errors },
      },
    },
    async (req) => {
      const [v] = await modelVersions(ch, { names: [req.params.model], version: req.params.version });
      if (!v) throw new ApiError(404, 'NOT_FOUND', `no version ${JSON.stringify(req.params.version)} of model ${JSON.stringify(req.params.model)}`);
      const now = Date.now();
      const points: MetricPoint[] = req.body.metrics.map((m) => ({
        key: m.key,
        value: typeof m.value === 'number' ? m.value : m.value === 'NaN' ? NaN : m.value === 'Infinity' ? Infinity : -Infinity,
        step: m.step ?? 0,
        timestampMs: m.timestamp_ms ?? now,
      }));
      for (const p of points) {
        const problem = pointProblem(p, now);
        if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', problem);
      }
      await writes.writer.emitMetrics(`${v.name}/${v.version}`, points, `api:${writes.actorOf(req)}`, 'MODEL_VERSION');
      return { logged: points.length };
    },
  );
}
