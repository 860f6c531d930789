// Comparison views: runs side by side (metric summaries with best-by-goal, params with "only what differs", tags,
// status, duration, ranking), a metric across the versions of a model against a baseline, and run search with
// total counts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  latestMetrics,
  metricSummaries,
  modelVersions,
  runParams,
  runTags,
  runsByIds,
  toJsonDouble,
  type ClickHouse,
  type MetricKeySummary,
  type RunRow,
} from '@runstream/clickhouse';
import { ApiError, errorResponses as errors, jsonDoubleSchema as jsonDouble } from '../api-errors.ts';
import { bestValue, byGoal, inferGoal, type Goal } from '../compare/metric-goal.ts';
import { differingParamKeys } from '../compare/param-diff.ts';
import { versionTrend } from '../compare/version-trend.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { FilterSyntaxError } from '../search/run-filter-parser.ts';
import { queryRuns } from '../search/run-query.ts';

export const MAX_COMPARED_RUNS = 1000;

const runId = { type: 'string', minLength: 1, maxLength: 256 } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const goal = { type: 'string', enum: ['min', 'max'] } as const;

const runAttributes = {
  run_id: { type: 'string' },
  run_name: { type: 'string' },
  experiment_id: { type: 'string' },
  status: { type: 'string' },
  start_time: { type: 'integer', nullable: true },
  end_time: { type: 'integer', nullable: true },
} as const;

const metricSummary = {
  type: 'object',
  properties: {
    last: jsonDouble,
    min: jsonDouble,
    max: jsonDouble,
    best: jsonDouble,
    count: { type: 'integer' },
    last_step: { type: 'integer' },
    goal,
  },
} as const;

interface CompareBody {
  runs: string[];
  metrics?: string[];
  goals?: Record<string, Goal>;
  only_differing_params: boolean;
  rank_by?: string;
}

interface TrendQuery {
  key: string;
  baseline?: string;
  goal?: Goal;
  tolerance: number;
}

interface SearchBody {
  experiment_ids?: string[];
  filter?: string;
  order_by: string[];
  max_results: number;
  page_token?: string;
  include_deleted: boolean;
}

const toMap = (list: { key: string; value: string }[] | undefined): Record<string, string> => Object.fromEntries((list ?? []).map((p) => [p.key, p.value]));

function attributes(id: string, run: RunRow | undefined) {
  return {
    run_id: id,
    run_name: run?.runName ?? '',
    experiment_id: run?.experimentId ?? '',
    status: run?.status ?? '',
    start_time: run ? run.startTimeMs : null,
    end_time: run?.endTimeMs ?? null,
  };
}

export function registerCompareRoutes(app: FastifyInstance, deps: { ch: ClickHouse; preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> }): void {
  const { ch, preHandler } = deps;

  app.post<{ Body: CompareBody }>(
    '/api/v1/compare/runs',
    {
      preHandler,
      schema: {
        summary: 'Runs side by side: metric summaries with the best value by goal, params, tags, status, duration, optional ranking',
        tags: ['compare'],
        body: {
          type: 'object',
          required: ['runs'],
          additionalProperties: false,
          properties: {
            runs: { type: 'array', minItems: 1, maxItems: MAX_COMPARED_RUNS, uniqueItems: true, items: runId },
            metrics: { type: 'array', maxItems: 100, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 250 }, description: 'default: every key of the runs' },
            goals: { type: 'object', additionalProperties: goal, description: 'min or max per metric; default inferred from the key (loss, error… → min)' },
            only_differing_params: { type: 'boolean', default: false },
            rank_by: { type: 'string', minLength: 1, maxLength: 250, description: 'metric to rank runs by (best value in its goal direction)' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              runs: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    ...runAttributes,
                    duration_ms: { type: 'integer', nullable: true },
                    params: stringMap,
                    tags: stringMap,
                    metrics: { type: 'object', additionalProperties: metricSummary },
                    rank: { type: 'integer' },
                  },
                },
              },
              param_keys: { type: 'array', items: { type: 'string' } },
              differing_params: { type: 'array', items: { type: 'string' } },
              metric_keys: { type: 'array', items: { type: 'string' } },
              goals: { type: 'object', additionalProperties: goal },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const body = req.body;
      const ids = body.runs;
      const [runs, params, tags, summaries] = await Promise.all([runsByIds(ch, ids), runParams(ch, ids), runTags(ch, ids), metricSummaries(ch, 'RUN', ids, body.metrics)]);
      const runById = new Map(runs.map((r) => [r.runId, r]));
      const unknown = ids.filter((id) => !runById.has(id) && !summaries.has(id) && !params.has(id));
      if (unknown.length > 0) throw new ApiError(404, 'NOT_FOUND', `unknown runs: ${unknown.slice(0, 10).map((id) => JSON.stringify(id)).join(', ')}`);

      const metricKeys = body.metrics ?? [...new Set([...summaries.values()].flatMap((list) => list.map((s) => s.key)))].sort();
      const goals: Record<string, Goal> = Object.fromEntries(metricKeys.map((k) => [k, body.goals?.[k] ?? inferGoal(k)]));
      if (body.rank_by !== undefined && !goals[body.rank_by]) goals[body.rank_by] = body.goals?.[body.rank_by] ?? inferGoal(body.rank_by);
      const paramsByRun = ids.map((id) => toMap(params.get(id)));
      const differing = differingParamKeys(paramsByRun);
      const paramKeys = body.only_differing_params ? differing : [...new Set(paramsByRun.flatMap(Object.keys))].sort();

      const rows = ids.map((id, i) => {
        const run = runById.get(id);
        const byKey = new Map<string, MetricKeySummary>((summaries.get(id) ?? []).map((s) => [s.key, s]));
        const metrics: Record<string, object> = {};
        for (const key of metricKeys) {
          const s = byKey.get(key);
          if (!s) continue;
          metrics[key] = {
            last: toJsonDouble(s.lastValue),
            min: toJsonDouble(s.minValue),
            max: toJsonDouble(s.maxValue),
            best: toJsonDouble(bestValue(s, goals[key]!)),
            count: s.points,
            last_step: s.lastStep,
            goal: goals[key],
          };
        }
        const shown = paramsByRun[i]!;
        return {
          ...attributes(id, run),
          duration_ms: run && run.endTimeMs !== null && run.endTimeMs > 0 ? run.endTimeMs - run.startTimeMs : null,
          params: Object.fromEntries(paramKeys.filter((k) => Object.hasOwn(shown, k)).map((k) => [k, shown[k]!])),
          tags: toMap(tags.get(id)),
          metrics,
          rankValue: byKey.get(body.rank_by ?? '') ? bestValue(byKey.get(body.rank_by!)!, goals[body.rank_by!]!) : undefined,
        };
      });
      let ordered = rows;
      if (body.rank_by !== undefined) {
        const compare = byGoal(goals[body.rank_by]!);
        ordered = [...rows].sort((a, b) => compare(a.rankValue, b.rankValue));
      }
      return {
        runs: ordered.map(({ rankValue: _, ...r }, i) => (body.rank_by !== undefined ? { ...r, rank: i + 1 } : r)),
        param_keys: paramKeys,
        differing_params: differing,
        metric_keys: metricKeys,
        goals,
      };
    },
  );

  app.get<{ Params: { model: string }; Querystring: TrendQuery }>(
    '/api/v1/models/:model/metric-trend',
    {
      preHandler,
      schema: {
        summary: 'One metric across the versions of a model, with the change against a baseline version and degradations flagged',
        description:
          'The value of a version is the latest value of the metric logged on the version itself, or else on the run that produced it. A version is degraded when it is worse than the baseline by more than `tolerance` (absolute) in the goal direction.',
        tags: ['compare'],
        params: { type: 'object', required: ['model'], properties: { model: { type: 'string', minLength: 1, maxLength: 200 } } },
        querystring: {
          type: 'object',
          required: ['key'],
          additionalProperties: false,
          properties: {
            key: { type: 'string', minLength: 1, maxLength: 250 },
            baseline: { type: 'string', minLength: 1, maxLength: 50, description: 'baseline version; default the first version' },
            goal,
            tolerance: { type: 'number', minimum: 0, default: 0 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              model: { type: 'string' },
              key: { type: 'string' },
              goal,
              baseline_version: { type: 'string' },
              versions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    version: { type: 'string' },
                    created_at: { type: 'integer' },
                    stage: { type: 'string' },
                    run_id: { type: 'string' },
                    source: { type: 'string', enum: ['model_version', 'run', 'none'] },
                    value: { anyOf: [...jsonDouble.anyOf, { type: 'null' }] },
                    min: jsonDouble,
                    max: jsonDouble,
                    count: { type: 'integer' },
                    delta: { type: 'number', nullable: true },
                    degraded: { type: 'boolean' },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const { model } = req.params;
      const q = req.query;
      const versions = (await modelVersions(ch, { names: [model] })).sort((a, b) => Number(a.version) - Number(b.version) || a.version.localeCompare(b.version));
      if (versions.length === 0) throw new ApiError(404, 'NOT_FOUND', `no registered model ${JSON.stringify(model)} with versions`);
      const baseline = q.baseline ?? versions[0]!.version;
      if (!versions.some((v) => v.version === baseline)) throw new ApiError(400, 'INVALID_ARGUMENT', `model ${JSON.stringify(model)} has no version ${JSON.stringify(baseline)}`);
      const [onVersions, onRuns] = await Promise.all([
        metricSummaries(ch, 'MODEL_VERSION', versions.map((v) => `${model}/${v.version}`), [q.key]),
        metricSummaries(ch, 'RUN', versions.map((v) => v.runId).filter((r) => r !== ''), [q.key]),
      ]);
      const goalOf = q.goal ?? inferGoal(q.key);
      const found = versions.map((v) => {
        const own = onVersions.get(`${model}/${v.version}`)?.[0];
        const fromRun = v.runId ? onRuns.get(v.runId)?.[0] : undefined;
        return { v, summary: own ?? fromRun, source: own ? 'model_version' : fromRun ? 'run' : 'none' };
      });
      const trend = versionTrend(
        found.map((f) => ({ version: f.v.version, value: f.summary?.lastValue })),
        baseline,
        goalOf,
        q.tolerance,
      );
      return {
        model,
        key: q.key,
        goal: goalOf,
        baseline_version: baseline,
        versions: found.map((f, i) => ({
          version: f.v.version,
          created_at: f.v.creationTimeMs,
          stage: f.v.stage,
          run_id: f.v.runId,
          source: f.source,
          value: f.summary ? toJsonDouble(f.summary.lastValue) : null,
          ...(f.summary ? { min: toJsonDouble(f.summary.minValue), max: toJsonDouble(f.summary.maxValue), count: f.summary.points } : { count: 0 }),
          delta: trend[i]!.delta ?? null,
          degraded: trend[i]!.degraded,
        })),
      };
    },
  );

  app.post<{ Body: SearchBody }>(
    '/api/v1/runs/search',
    {
      preHandler,
      schema: {
        summary: 'Search runs with a filter (MLflow syntax plus OR, parentheses, min()/max() of metrics), ordered, paged, with the total count',
        tags: ['compare'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            experiment_ids: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 256 }, description: 'default: every experiment' },
            filter: { type: 'string', maxLength: 10_000, description: "e.g. params.lr = '0.1' AND (metrics.acc > 0.9 OR min(metrics.loss) < 0.2)" },
            order_by: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 1000 }, default: [] },
            max_results: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            page_token: { type: 'string', maxLength: 1000 },
            include_deleted: { type: 'boolean', default: false },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              runs: {
                type: 'array',
                items: { type: 'object', properties: { ...runAttributes, params: stringMap, tags: stringMap, metrics: { type: 'object', additionalProperties: jsonDouble } } },
              },
              total_count: { type: 'integer' },
              next_page_token: { type: 'string' },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const b = req.body ?? { order_by: [], max_results: 100, include_deleted: false };
      const offset = b.page_token ? decodePageToken(b.page_token, (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0) : 0;
      let result;
      try {
        result = await queryRuns(ch, {
          ...(b.experiment_ids && b.experiment_ids.length > 0 ? { experimentIds: b.experiment_ids } : {}),
          stages: b.include_deleted ? ['active', 'deleted'] : ['active'],
          ...(b.filter === undefined ? {} : { filter: b.filter }),
          orderBy: b.order_by,
          limit: b.max_results,
          offset,
          withTotal: true,
        });
      } catch (err) {
        if (err instanceof FilterSyntaxError) throw new ApiError(400, 'INVALID_ARGUMENT', err.message);
        throw err;
      }
      const ids = result.runs.map((r) => r.runId);
      const [params, tags, metrics] = await Promise.all([runParams(ch, ids), runTags(ch, ids), latestMetrics(ch, ids)]);
      return {
        runs: result.runs.map((r) => ({
          ...attributes(r.runId, r),
          params: toMap(params.get(r.runId)),
          tags: toMap(tags.get(r.runId)),
          metrics: Object.fromEntries((metrics.get(r.runId) ?? []).map((m) => [m.key, toJsonDouble(m.value)])),
        })),
        total_count: result.total ?? 0,
        ...(result.hasMore ? { next_page_token: encodePageToken(offset + b.max_results) } : {}),
      };
    },
  );
}
