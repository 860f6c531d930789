// Read API over stored metrics: list entities, an entity's metric keys, a metric's history (paged).
// The same three routes exist for runs and for model versions.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { keyProblem } from '@runstream/codec';
import { listEntities, listMetricKeys, metricHistory, toJsonDouble, type ClickHouse, type EntityKindName, type HistoryCursor } from '@runstream/clickhouse';
import { ApiError, errorResponses as errors, jsonDoubleSchema as jsonDouble } from '../api-errors.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';

const pageToken = { type: 'string', minLength: 1, maxLength: 2000 } as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { max_results: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, page_token: pageToken },
} as const;

const historyQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['key'],
  properties: {
    key: { type: 'string', minLength: 1, maxLength: 250, description: 'Metric key' },
    max_results: { type: 'integer', minimum: 1, maximum: 25000, default: 1000 },
    page_token: pageToken,
    start_step: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    end_step: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  },
} as const;

const entitySummary = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    metric_keys: { type: 'integer' },
    points: { type: 'integer' },
    first_timestamp_ms: { type: 'integer' },
    last_timestamp_ms: { type: 'integer' },
  },
} as const;

const keySummary = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    points: { type: 'integer' },
    min_value: jsonDouble,
    max_value: jsonDouble,
    first_step: { type: 'integer' },
    last_step: { type: 'integer' },
    last_value: jsonDouble,
    last_timestamp_ms: { type: 'integer' },
  },
} as const;

const point = {
  type: 'object',
  properties: { step: { type: 'integer' }, timestamp_ms: { type: 'integer' }, value: jsonDouble },
} as const;

interface ListQuery { max_results: number; page_token?: string }
interface HistoryQuery { key: string; max_results: number; page_token?: string; start_step?: number; end_step?: number }

const isString = (v: unknown): v is string => typeof v === 'string';
const isCursor = (v: unknown): v is HistoryCursor => {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return ['step', 'timestampMs', 'partition', 'offset', 'index'].every((k) => Number.isSafeInteger(c[k]));
};

interface EntityRoutes {
  kind: EntityKindName;
  tag: string;
  listPath: string;
  basePath: string;
  params: object;
  entityId: (params: Record<string, string>) => string;
}

const ROUTES: EntityRoutes[] = [
  {
    kind: 'RUN',
    tag: 'runs',
    listPath: '/api/v1/runs',
    basePath: '/api/v1/runs/:runId',
    params: { type: 'object', required: ['runId'], properties: { runId: { type: 'string', minLength: 1, maxLength: 256 } } },
    entityId: (p) => p.runId!,
  },
  {
    kind: 'MODEL_VERSION',
    tag: 'model-versions',
    listPath: '/api/v1/model-versions',
    basePath: '/api/v1/models/:model/versions/:version',
    params: {
      type: 'object',
      required: ['model', 'version'],
      properties: { model: { type: 'string', minLength: 1, maxLength: 200 }, version: { type: 'string', minLength: 1, maxLength: 50 } },
    },
    entityId: (p) => `${p.model}/${p.version}`,
  },
];

export function registerMetricRoutes(app: FastifyInstance, deps: { ch: ClickHouse; preHandler: (req: FastifyRequest, reply: any) => Promise<unknown> }): void {
  const { ch, preHandler } = deps;
  for (const r of ROUTES) {
    const noun = r.kind === 'RUN' ? 'runs' : 'model versions';
    app.get<{ Querystring: ListQuery }>(
      r.listPath,
      {
        preHandler,
        schema: {
          summary: `List ${noun} that have metrics`,
          tags: [r.tag],
          querystring: listQuery,
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: entitySummary }, next_page_token: { type: 'string' } } }, ...errors },
        },
      },
      async (req) => {
        const after = req.query.page_token === undefined ? undefined : decodePageToken(req.query.page_token, isString);
        const rows = await listEntities(ch, r.kind, req.query.max_results + 1, after);
        const page = rows.slice(0, req.query.max_results);
        return {
          items: page.map((e) => ({ id: e.entityId, metric_keys: e.metricKeys, points: e.points, first_timestamp_ms: e.firstTimestampMs, last_timestamp_ms: e.lastTimestampMs })),
          ...(rows.length > page.length ? { next_page_token: encodePageToken(page[page.length - 1]!.entityId) } : {}),
        };
      },
    );

    app.get<{ Params: Record<string, string> }>(
      `${r.basePath}/metrics`,
      {
        preHandler,
        schema: {
          summary: `Metric keys of one of the ${noun}, with a summary of each`,
          tags: [r.tag],
          params: r.params,
          response: { 200: { type: 'object', properties: { metrics: { type: 'array', items: keySummary } } }, ...errors },
        },
      },
      async (req) => {
        const keys = await listMetricKeys(ch, r.kind, r.entityId(req.params));
        if (keys.length === 0) throw new ApiError(404, 'NOT_FOUND', `no metrics for ${r.kind === 'RUN' ? 'run' : 'model version'} ${JSON.stringify(r.entityId(req.params))}`);
        return {
          metrics: keys.map((k) => ({
            key: k.key,
            points: k.points,
            min_value: toJsonDouble(k.minValue),
            max_value: toJsonDouble(k.maxValue),
            first_step: k.firstStep,
            last_step: k.lastStep,
            last_value: toJsonDouble(k.lastValue),
            last_timestamp_ms: k.lastTimestampMs,
          })),
        };
      },
    );

    app.get<{ Params: Record<string, string>; Querystring: HistoryQuery }>(
      `${r.basePath}/metric-history`,
      {
        preHandler,
        schema: {
          summary: 'Every point of one metric, ordered by step then time, paged',
          tags: [r.tag],
          params: r.params,
          querystring: historyQuery,
          response: { 200: { type: 'object', properties: { key: { type: 'string' }, points: { type: 'array', items: point }, next_page_token: { type: 'string' } } }, ...errors },
        },
      },
      async (req) => {
        const q = req.query;
        const problem = keyProblem(q.key);
        if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', problem);
        if (q.start_step !== undefined && q.end_step !== undefined && q.start_step > q.end_step) {
          throw new ApiError(400, 'INVALID_ARGUMENT', 'start_step must not be greater than end_step');
        }
        const page = await metricHistory(ch, {
          kind: r.kind,
          entityId: r.entityId(req.params),
          key: q.key,
          limit: q.max_results,
          ...(q.page_token === undefined ? {} : { after: decodePageToken(q.page_token, isCursor) }),
          ...(q.start_step === undefined ? {} : { startStep: q.start_step }),
          ...(q.end_step === undefined ? {} : { endStep: q.end_step }),
        });
        return {
          key: q.key,
          points: page.points.map((p) => ({ step: p.step, timestamp_ms: p.timestampMs, value: toJsonDouble(p.value) })),
          ...(page.next ? { next_page_token: encodePageToken(page.next) } : {}),
        };
      },
    );
  }
}
