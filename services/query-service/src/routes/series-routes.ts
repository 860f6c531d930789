// Series for comparisons: many runs (or model versions) x keys in one request, downsampled on the server into
// buckets that keep min and max (a spike never vanishes), optionally smoothed; and full series as CSV / JSON Lines.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { keyProblem } from '@runstream/codec';
import {
  listMetricKeys,
  readRawSeriesPage,
  readSeries,
  streamSeriesPoints,
  toJsonDouble,
  type ClickHouse,
  type EntityKindName,
  type RawSeriesCursor,
  type SeriesData,
  type SeriesXAxis,
} from '@runstream/clickhouse';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { ApiError, errorResponses as errors, jsonDoubleSchema as jsonDouble } from '../api-errors.ts';
import { ema, timeWeightedEma } from '../series/smoothing.ts';

export const MAX_SERIES_ENTITIES = 100;
export const MAX_SERIES_KEYS = 20;
export const MAX_BUCKETS = 10_000;
/** Upper bound on buckets returned by one request (entities x keys x buckets): about 100 MB of JSON. */
export const MAX_RESPONSE_BUCKETS = 2_000_000;
/** Points per page of a raw read. */
export const MAX_RAW_PAGE = 100_000;

type Smoothing = { method: 'ema'; weight: number } | { method: 'time_ema'; half_life: number };

interface SeriesBody {
  runs?: string[];
  model_versions?: { name: string; version: string | number }[];
  keys: string[];
  x: SeriesXAxis;
  buckets: number;
  from?: number;
  to?: number;
  smoothing?: Smoothing;
  raw: boolean;
  max_results: number;
  page_token?: string;
}

const id = { type: 'string', minLength: 1, maxLength: 256 } as const;
const numbers = { type: 'array', items: jsonDouble } as const;

const seriesBody = {
  type: 'object',
  required: ['keys'],
  additionalProperties: false,
  properties: {
    runs: { type: 'array', minItems: 1, maxItems: MAX_SERIES_ENTITIES, uniqueItems: true, items: id, description: 'run ids (or model_versions)' },
    model_versions: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_SERIES_ENTITIES,
      items: {
        type: 'object',
        required: ['name', 'version'],
        additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, version: { anyOf: [{ type: 'string', minLength: 1, maxLength: 50 }, { type: 'integer', minimum: 0 }] } },
      },
    },
    keys: { type: 'array', minItems: 1, maxItems: MAX_SERIES_KEYS, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 250 } },
    x: { type: 'string', enum: ['step', 'time', 'relative'], default: 'step', description: 'time: ms since the epoch; relative: ms since the run’s first point' },
    buckets: { type: 'integer', minimum: 1, maximum: MAX_BUCKETS, default: 1000 },
    from: { type: 'number', description: 'inclusive start of the x range (zoom)' },
    to: { type: 'number', description: 'inclusive end of the x range (zoom)' },
    raw: { type: 'boolean', default: false, description: 'every point instead of buckets, paged (max_results, page_token)' },
    max_results: { type: 'integer', minimum: 1, maximum: MAX_RAW_PAGE, default: 10_000, description: 'raw only: points per page' },
    page_token: { type: 'string', maxLength: 1000, description: 'raw only: next_page_token of the previous page' },
    smoothing: {
      oneOf: [
        { type: 'object', required: ['method', 'weight'], additionalProperties: false, properties: { method: { type: 'string', enum: ['ema'] }, weight: { type: 'number', minimum: 0, maximum: 1, description: 'in [0, 1)' } } },
        {
          type: 'object',
          required: ['method', 'half_life'],
          additionalProperties: false,
          properties: { method: { type: 'string', enum: ['time_ema'] }, half_life: { type: 'number', minimum: 0, description: 'greater than 0, in x units (steps or ms)' } },
        },
      ],
    },
  },
} as const;

const seriesResponse = {
  type: 'object',
  properties: {
    x: { type: 'string' },
    buckets: { type: 'integer' },
    bucket_width: { type: 'number', description: 'x units per bucket; buckets are aligned to multiples of it' },
    next_page_token: { type: 'string', description: 'raw reads: there are more points' },
    series: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          run: { type: 'string' },
          model_version: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' } } },
          key: { type: 'string' },
          points: { type: 'integer' },
          resolution: { type: 'string', enum: ['raw', 'bucketed'] },
          x_first: { type: 'array', items: { type: 'number' } },
          x_last: { type: 'array', items: { type: 'number' } },
          count: { type: 'array', items: { type: 'integer' } },
          min: numbers,
          max: numbers,
          mean: numbers,
          last: numbers,
          smoothed: numbers,
        },
      },
    },
  },
} as const;


/** JSON cannot carry NaN or the infinities: those (rare) values travel as strings. */
function jsonArray(values: number[]): (number | string)[] {
  return values.every(Number.isFinite) ? values : values.map(toJsonDouble);
}

function smooth(s: SeriesData, smoothing: Smoothing): number[] {
  return smoothing.method === 'ema' ? ema(s.mean, smoothing.weight) : timeWeightedEma(s.xLast, s.mean, smoothing.half_life);
}

function isRawCursor(v: unknown): v is RawSeriesCursor {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return ['e', 'k', 'step', 'timestampMs', 'partition', 'offset', 'index'].every((f) => Number.isSafeInteger(c[f]));
}

function entitiesOf(body: SeriesBody): { kind: EntityKindName; ids: string[] } {
  if (body.runs && body.model_versions) throw new ApiError(400, 'INVALID_ARGUMENT', 'body must name runs or model_versions, not both');
  if (body.runs) return { kind: 'RUN', ids: body.runs };
  if (body.model_versions) return { kind: 'MODEL_VERSION', ids: [...new Set(body.model_versions.map((v) => `${v.name}/${v.version}`))] };
  throw new ApiError(400, 'INVALID_ARGUMENT', 'body must name runs or model_versions');
}

export function registerSeriesRoutes(app: FastifyInstance, deps: { ch: ClickHouse; preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> }): void {
  const { ch, preHandler } = deps;

  app.post<{ Body: SeriesBody }>(
    '/api/v1/series',
    {
      preHandler,
      schema: {
        summary: 'Series of many runs or model versions, downsampled into buckets (min, max, mean, last, count) or raw',
        description:
          'One bucket width for every series, so runs line up bucket for bucket. A series with no more points than buckets comes back raw (each point its own bucket). `from`/`to` re-bucket a range at full resolution (zoom).',
        tags: ['series'],
        body: seriesBody,
        response: { 200: seriesResponse, ...errors },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const { kind, ids } = entitiesOf(body);
      for (const key of body.keys) {
        const problem = keyProblem(key);
        if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', problem);
      }
      if (body.from !== undefined && body.to !== undefined && body.from > body.to) throw new ApiError(400, 'INVALID_ARGUMENT', 'from must not be greater than to');
      // OpenAPI 3.0 has no numeric exclusive bounds: checked here.
      if (body.smoothing?.method === 'ema' && body.smoothing.weight >= 1) throw new ApiError(400, 'INVALID_ARGUMENT', 'smoothing.weight must be less than 1');
      if (body.smoothing?.method === 'time_ema' && !(body.smoothing.half_life > 0)) throw new ApiError(400, 'INVALID_ARGUMENT', 'smoothing.half_life must be greater than 0');
      if (!body.raw && ids.length * body.keys.length * body.buckets > MAX_RESPONSE_BUCKETS) {
        throw new ApiError(400, 'INVALID_ARGUMENT', `series x buckets must not exceed ${MAX_RESPONSE_BUCKETS}; ask for fewer buckets, keys or runs`);
      }
      if (!body.raw && body.page_token !== undefined) throw new ApiError(400, 'INVALID_ARGUMENT', 'page_token is for raw reads');
      const request = {
        kind,
        entityIds: ids,
        keys: body.keys,
        axis: body.x,
        buckets: body.buckets,
        ...(body.from === undefined ? {} : { from: body.from }),
        ...(body.to === undefined ? {} : { to: body.to }),
      };
      let series: SeriesData[];
      let head: Record<string, unknown>;
      if (body.raw) {
        const after = body.page_token === undefined ? undefined : decodePageToken(body.page_token, isRawCursor);
        const page = await readRawSeriesPage(ch, request, { limit: body.max_results, ...(after ? { after } : {}) });
        series = page.series;
        head = { x: body.x, ...(page.next ? { next_page_token: encodePageToken(page.next) } : {}) };
      } else {
        const result = await readSeries(ch, request);
        series = result.series;
        head = { x: body.x, buckets: body.buckets, bucket_width: result.plan.width };
      }
      const out = {
        ...head,
        series: series.map((s) => {
          const slash = s.entityId.lastIndexOf('/');
          return {
            ...(kind === 'RUN' ? { run: s.entityId } : { model_version: { name: s.entityId.slice(0, slash), version: s.entityId.slice(slash + 1) } }),
            key: s.key,
            points: s.points,
            resolution: s.resolution,
            x_first: s.xFirst,
            x_last: s.xLast,
            count: s.count,
            min: jsonArray(s.min),
            max: jsonArray(s.max),
            mean: jsonArray(s.mean),
            last: jsonArray(s.last),
            ...(body.smoothing ? { smoothed: jsonArray(smooth(s, body.smoothing)) } : {}),
          };
        }),
      };
      // Serialised here: hundreds of thousands of numbers go faster through JSON.stringify than a schema serialiser.
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(out));
    },
  );

  app.get<{ Params: { runId: string; key: string }; Querystring: { format: 'csv' | 'jsonl' } }>(
    '/api/v1/runs/:runId/metrics/:key/export',
    {
      preHandler,
      schema: {
        summary: 'Every point of one metric of a run, streamed as CSV or JSON Lines',
        tags: ['series'],
        params: { type: 'object', required: ['runId', 'key'], properties: { runId: id, key: { type: 'string', minLength: 1, maxLength: 250 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['csv', 'jsonl'], default: 'csv' } } },
        response: { 200: { description: 'text/csv (step,timestamp_ms,value) or application/x-ndjson', type: 'string' }, ...errors },
      },
    },
    async (req, reply) => {
      const { runId, key } = req.params;
      const problem = keyProblem(key);
      if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', problem);
      const known = (await listMetricKeys(ch, 'RUN', runId)).some((k) => k.key === key);
      if (!known) throw new ApiError(404, 'NOT_FOUND', `run ${JSON.stringify(runId)} has no metric ${JSON.stringify(key)}`);
      const csv = req.query.format === 'csv';
      const points = streamSeriesPoints(ch, 'RUN', runId, key);
      async function* lines(): AsyncGenerator<string> {
        if (csv) yield 'step,timestamp_ms,value\n';
        let chunk = '';
        for await (const p of points) {
          // -0 keeps its sign (String(-0) is "0").
          const value = Object.is(p.value, -0) ? '-0' : toJsonDouble(p.value);
          chunk += csv ? `${p.step},${p.timestampMs},${value}\n` : `{"step":${p.step},"timestamp_ms":${p.timestampMs},"value":${typeof value === 'number' || value === '-0' ? value : `"${value}"`}}\n`;
          // Lines are batched into ~64 KiB writes; the stream's backpressure pauses the ClickHouse read.
          if (chunk.length >= 65_536) {
            yield chunk;
            chunk = '';
          }
        }
        if (chunk) yield chunk;
      }
      const filename = `${runId}-${key}`.replace(/[^\w.-]+/g, '_');
      return reply
        .type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}.${csv ? 'csv' : 'jsonl'}"`)
        .send(Readable.from(lines()));
    },
  );
}
