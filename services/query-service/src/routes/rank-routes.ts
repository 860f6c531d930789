// A run logged by many ranks of a distributed job: each step's value per rank and the cross-rank band
// (min / mean / max, which rank was lowest, highest, slowest). Summaries, compare and search keep seeing one run.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { keyProblem } from '@runstream/codec';
import { toJsonDouble, type ClickHouse } from '@runstream/clickhouse';
import { ApiError, errorResponses as errors, jsonDoubleSchema as jsonDouble } from '../api-errors.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { rankSteps } from '../ranks/rank-steps.ts';
import { rankBuckets } from '../ranks/rank-buckets.ts';

export const MAX_RANK_BUCKETS = 5000;

const stepSchema = {
  type: 'object',
  properties: {
    step: { type: 'integer' },
    ranks: { type: 'array', items: { type: 'object', properties: { rank: { type: 'integer' }, value: jsonDouble, timestamp_ms: { type: 'integer' } } } },
    min: jsonDouble,
    mean: jsonDouble,
    max: jsonDouble,
    min_rank: { type: 'integer' },
    max_rank: { type: 'integer' },
    slowest_rank: { type: 'integer' },
    spread_ms: { type: 'integer' },
  },
} as const;

export function registerRankRoutes(app: FastifyInstance, deps: { ch: ClickHouse; preHandler: (req: FastifyRequest, reply: any) => Promise<unknown> }): void {
  app.get<{ Params: { runId: string }; Querystring: { key: string; max_results: number; page_token?: string } }>(
    '/api/v1/runs/:runId/rank-steps',
    {
      preHandler: deps.preHandler,
      schema: {
        summary: 'One metric of a run by step and rank (rank -1: not known), with the cross-rank min, mean, max and the slowest rank; paged by step',
        tags: ['runs'],
        params: { type: 'object', properties: { runId: { type: 'string', minLength: 1, maxLength: 256 } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['key'],
          properties: {
            key: { type: 'string', minLength: 1, maxLength: 250 },
            max_results: { type: 'integer', minimum: 1, maximum: 10000, default: 1000, description: 'steps per page' },
            page_token: { type: 'string', minLength: 1, maxLength: 2000 },
          },
        },
        response: { 200: { type: 'object', properties: { key: { type: 'string' }, steps: { type: 'array', items: stepSchema }, next_page_token: { type: 'string' } } }, ...errors },
      },
    },
    async (req) => {
      const { key, max_results: limit, page_token: token } = req.query;
      const problem = keyProblem(key);
      if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', problem);
      const after = token === undefined ? undefined : decodePageToken(token, (v): v is number => Number.isSafeInteger(v));
      const page = await rankSteps(deps.ch, req.params.runId, key, after, limit);
      const last = page.steps[page.steps.length - 1];
      return {
        key,
        steps: page.steps.map((s) => ({
          step: s.step,
          ranks: s.points.map((p) => ({ rank: p.rank, value: toJsonDouble(p.value), timestamp_ms: p.timestampMs })),
          min: toJsonDouble(s.min),
          mean: toJsonDouble(s.mean),
          max: toJsonDouble(s.max),
          min_rank: s.minRank,
          max_rank: s.maxRank,
          slowest_rank: s.slowestRank,
          spread_ms: s.spreadMs,
        })),
        ...(page.more && last ? { next_page_token: encodePageToken(last.step) } : {}),
      };
    },
  );

  const bucketSchema = {
    type: 'object',
    properties: { bucket: { type: 'integer' }, first_step: { type: 'integer' }, last_step: { type: 'integer' }, min: jsonDouble, max: jsonDouble, mean: jsonDouble, points: { type: 'integer' } },
  } as const;

  app.get<{ Params: { runId: string }; Querystring: { key: string; buckets: number; from?: number; to?: number } }>(
    '/api/v1/runs/:runId/rank-buckets',
    {
      preHandler: deps.preHandler,
      schema: {
        summary: 'One metric of a run per rank, downsampled: equal step buckets with each rank’s min, max and mean (for a chart split by rank or a cross-rank band)',
        tags: ['runs'],
        params: { type: 'object', properties: { runId: { type: 'string', minLength: 1, maxLength: 256 } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['key'],
          properties: {
            key: { type: 'string', minLength: 1, maxLength: 250 },
            buckets: { type: 'integer', minimum: 1, maximum: MAX_RANK_BUCKETS, default: 500 },
            from: { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
            to: { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { key: { type: 'string' }, ranks: { type: 'array', items: { type: 'object', properties: { rank: { type: 'integer' }, buckets: { type: 'array', items: bucketSchema } } } } },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const { key, buckets, from, to } = req.query;
      const problem = keyProblem(key);
      if (problem) throw new ApiError(400, 'INVALID_ARGUMENT', problem);
      if (from !== undefined && to !== undefined && from > to) throw new ApiError(400, 'INVALID_ARGUMENT', 'from must not be greater than to');
      const result = await rankBuckets(deps.ch, req.params.runId, key, buckets, from, to);
      return {
        key,
        ranks: result.ranks.map((r) => ({
          rank: r.rank,
          buckets: r.buckets.map((b) => ({ bucket: b.index, first_step: b.firstStep, last_step: b.lastStep, min: toJsonDouble(b.min), max: toJsonDouble(b.max), mean: toJsonDouble(b.mean), points: b.points })),
        })),
      };
    },
  );
}
