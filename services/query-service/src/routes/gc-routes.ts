// Permanent deletion of soft-deleted runs and experiments (mlflow gc), started over HTTP and followed by polling.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errorResponses as errors, errorResponseSchema } from '../api-errors.ts';
import { parseAge, PurgeBusy, PurgeRefused, type PurgeRunner } from '../gc/purge-job.ts';

interface GcBody {
  older_than?: string;
  experiment_ids?: string[];
  run_ids?: string[];
}

const ids = { type: 'array', minItems: 1, maxItems: 10_000, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 256 } } as const;

const jobSchema = {
  type: 'object',
  properties: {
    job_id: { type: 'string' },
    state: { type: 'string', enum: ['deleting', 'removing_artifacts', 'done', 'failed'] },
    actor: { type: 'string' },
    runs: { type: 'integer', description: 'runs being deleted (the ones asked for, and every run of the experiments)' },
    experiments: { type: 'integer' },
    points: { type: 'integer', description: 'metric points those runs held' },
    tables: {
      type: 'array',
      items: { type: 'object', properties: { table: { type: 'string' }, parts_to_do: { type: 'integer' }, done: { type: 'boolean' } } },
      description: 'per table, the parts ClickHouse still has to rewrite',
    },
    artifacts_removed: { type: 'integer' },
    started_at: { type: 'string' },
    finished_at: { type: 'string' },
    error: { type: 'string' },
  },
} as const;

export function registerGcRoutes(app: FastifyInstance, deps: { runner: PurgeRunner; preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>; actorOf: (req: FastifyRequest) => string }): void {
  app.post<{ Body: GcBody }>(
    '/api/v1/gc',
    {
      preHandler: deps.preHandler,
      schema: {
        summary: 'Permanently delete soft-deleted runs and experiments (mlflow gc): points, summaries, rollups, tracking state and events, artifacts',
        description:
          'Without run_ids or experiment_ids: every deleted run and every deleted experiment (with all its runs), deleted at least older_than ago. ' +
          'Named runs and experiments must be deleted (and old enough), else 400 and nothing is deleted. Answers 202 at once; follow GET /api/v1/gc/{job_id}.',
        tags: ['gc'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            older_than: { type: 'string', maxLength: 64, description: "mlflow gc's format: '30d', '2d8h5m20s', '12h'" },
            experiment_ids: ids,
            run_ids: ids,
          },
        },
        response: { 202: jobSchema, 409: errorResponseSchema, ...errors },
      },
    },
    async (req, reply) => {
      let olderThanMs: number | undefined;
      if (req.body.older_than !== undefined) {
        try {
          olderThanMs = parseAge(req.body.older_than);
        } catch (err) {
          throw new ApiError(400, 'INVALID_ARGUMENT', (err as Error).message);
        }
      }
      try {
        const job = await deps.runner.start({ olderThanMs, experimentIds: req.body.experiment_ids, runIds: req.body.run_ids }, deps.actorOf(req));
        return reply.code(202).send(job);
      } catch (err) {
        if (err instanceof PurgeRefused) throw new ApiError(400, 'INVALID_ARGUMENT', err.message);
        if (err instanceof PurgeBusy) throw new ApiError(409, 'ABORTED', err.message);
        throw err;
      }
    },
  );

  app.get<{ Params: { job_id: string } }>(
    '/api/v1/gc/:job_id',
    {
      preHandler: deps.preHandler,
      schema: {
        summary: 'Progress of a gc job started on this instance',
        tags: ['gc'],
        params: { type: 'object', required: ['job_id'], properties: { job_id: { type: 'string', minLength: 1, maxLength: 64 } } },
        response: { 200: jobSchema, ...errors },
      },
    },
    async (req) => {
      const job = deps.runner.get(req.params.job_id);
      if (!job) throw new ApiError(404, 'NOT_FOUND', `no gc job ${req.params.job_id} on this instance (finished jobs are recorded in gc_audit_v1)`);
      return job;
    },
  );
}
