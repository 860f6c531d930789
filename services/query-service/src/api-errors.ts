// One error shape for the whole API: { error: { code, message } }. Validation problems are 400s with the
// validator's message; failures of ClickHouse or Kafka are 503s; nothing unexpected leaks internals.
import type { FastifyError, FastifyInstance } from 'fastify';
import { BadPageTokenError } from './page-token.ts';
import { SqlLiteralError, isTransientClickHouseError } from '@runstream/clickhouse';

export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
  }
}

export const errorResponseSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

/** The error responses every data route can give, for route schemas (and so the OpenAPI document). */
export const errorResponses = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 503: errorResponseSchema } as const;

/** A double as JSON carries it: a number, or "NaN" / "Infinity" / "-Infinity" (see toJsonDouble). */
export const jsonDoubleSchema = { anyOf: [{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }] } as const;

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
    if (err.validation) {
      return reply.code(400).send({ error: { code: 'INVALID_ARGUMENT', message: `${err.validationContext ?? 'request'} ${err.message.replace(/^(querystring|params|body|headers)\s*/, '')}` } });
    }
    if (err instanceof BadPageTokenError || err instanceof SqlLiteralError) {
      return reply.code(400).send({ error: { code: 'INVALID_ARGUMENT', message: err.message } });
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: { code: err.code ?? 'BAD_REQUEST', message: err.message } });
    }
    if (err.name === 'NotYetVisibleError') {
      return reply.code(503).header('retry-after', '5').send({ error: { code: 'UNAVAILABLE', message: err.message } });
    }
    if (isTransientClickHouseError(err)) {
      req.log.warn({ err: err.message }, 'storage unavailable');
      return reply.code(503).header('retry-after', '5').send({ error: { code: 'UNAVAILABLE', message: 'metric storage is temporarily unavailable' } });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));
}
