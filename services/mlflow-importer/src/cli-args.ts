// Command-line arguments of `npm run import:mlflow -- …`.
import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm run import:mlflow -- --from <MLflow tracking URL> [options]

Copies experiments and runs (params, tags, status, times and every point of every metric history) from an MLflow
tracking server into Runstream, through Kafka like every other write. Re-running it adds nothing twice.

Options:
  --from URL                 the MLflow tracking server, e.g. http://127.0.0.1:5000 (required)
  --experiment NAME          import only this experiment (repeatable; default: all, including deleted ones)
  --token TOKEN              bearer token for the MLflow server (default: $MLFLOW_TRACKING_TOKEN)
  --dry-run                  read both sides and report what would be written; write nothing
  --concurrency N            runs imported at once (default 4)
  --max-points-per-run N     send at most N metric points per run, then stop (testing: a partial import)
  -h, --help                 this text

Kafka and ClickHouse come from the environment like the other services (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX,
CLICKHOUSE_URL, CLICKHOUSE_DATABASE, CLICKHOUSE_INGEST_USER/_PASSWORD, INGEST_GROUP_ID, …); MLflow basic auth from
MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD. See services/mlflow-importer/README.md.
Exit status: 0 imported (conflicts and unstorable points are reported), 1 failed, 2 bad arguments.`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliOptions {
  help: boolean;
  from: string;
  experiments: string[];
  token: string | undefined;
  dryRun: boolean;
  concurrency: number;
  maxPointsPerRun: number | undefined;
}

function positiveInt(raw: string | undefined, flag: string, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be between 1 and ${max}, got ${raw}`);
  return n;
}

export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        from: { type: 'string' },
        experiment: { type: 'string', multiple: true },
        token: { type: 'string' },
        'dry-run': { type: 'boolean' },
        concurrency: { type: 'string' },
        'max-points-per-run': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const help = values.help ?? false;
  const from = values.from ?? '';
  if (!help) {
    if (!from) throw new UsageError('--from <MLflow tracking URL> is required');
    let url: URL;
    try {
      url = new URL(from);
    } catch {
      throw new UsageError(`--from must be a URL, got ${JSON.stringify(from)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--from must be an http(s) URL, got ${JSON.stringify(from)}`);
  }
  const experiments = values.experiment ?? [];
  if (experiments.some((e) => e.trim() === '')) throw new UsageError('--experiment needs a name');
  return {
    help,
    from: from.replace(/\/+$/, ''),
    experiments,
    token: values.token || env.MLFLOW_TRACKING_TOKEN || undefined,
    dryRun: values['dry-run'] ?? false,
    concurrency: positiveInt(values.concurrency, '--concurrency', 64) ?? 4,
    maxPointsPerRun: positiveInt(values['max-points-per-run'], '--max-points-per-run', Number.MAX_SAFE_INTEGER),
  };
}
