// Storage visibility: what each table and each experiment costs on disk.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { experimentStorage, tableStorage, type ClickHouse } from '@runstream/clickhouse';
import { errorResponses as errors } from '../api-errors.ts';

const count = { type: 'integer' } as const;

export function registerStorageRoutes(app: FastifyInstance, deps: { ch: ClickHouse; preHandler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> }): void {
  app.get<{ Querystring: { experiments: number } }>(
    '/api/v1/storage',
    {
      preHandler: deps.preHandler,
      schema: {
        summary: 'Rows, bytes on disk and compression per table; points and estimated bytes per experiment',
        tags: ['storage'],
        querystring: { type: 'object', additionalProperties: false, properties: { experiments: { type: 'integer', minimum: 0, maximum: 1000, default: 20, description: 'the largest experiments to list' } } },
        response: {
          200: {
            type: 'object',
            properties: {
              tables: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    table: { type: 'string' },
                    rows: count,
                    bytes_on_disk: count,
                    bytes_uncompressed: count,
                    compression_ratio: { type: 'number', description: 'uncompressed / on disk' },
                    bytes_per_row: { type: 'number' },
                    parts: count,
                    partitions: count,
                  },
                },
              },
              experiments: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    experiment_id: { type: 'string', description: "'' for metrics of runs with no tracked experiment" },
                    runs: count,
                    points: count,
                    estimated_point_bytes: { ...count, description: "the experiment's share of the raw points' bytes on disk" },
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
      const tables = await tableStorage(deps.ch);
      const experiments = req.query.experiments > 0 ? await experimentStorage(deps.ch, req.query.experiments) : [];
      return {
        tables: tables.map((t) => ({
          table: t.table,
          rows: t.rows,
          bytes_on_disk: t.bytesOnDisk,
          bytes_uncompressed: t.bytesUncompressed,
          compression_ratio: t.bytesOnDisk > 0 ? t.bytesUncompressed / t.bytesOnDisk : 0,
          bytes_per_row: t.rows > 0 ? t.bytesOnDisk / t.rows : 0,
          parts: t.parts,
          partitions: t.partitions,
        })),
        experiments: experiments.map((e) => ({ experiment_id: e.experimentId, runs: e.runs, points: e.points, estimated_point_bytes: e.estimatedPointBytes })),
      };
    },
  );
}
