// The one pino logger. JSON to stdout; secrets are redacted by path so a stray object never leaks them.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'authorization',
  'req.headers.authorization',
  'req.headers["x-clickhouse-key"]',
  'headers.authorization',
];

export function createLogger(opts: { name: string; level?: string; destination?: DestinationStream }): Logger {
  return pino(
    {
    name: opts.name,
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: opts.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination(1),
  );
}
