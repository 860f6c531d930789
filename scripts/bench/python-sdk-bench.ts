// `npm run bench:python`: the Python SDK's cost in a training loop and its delivery rate, with MLflow's
// log_metric beside it (packages/python-sdk/bench/bench_logging.py), against the real ingest worker and query
// service on the local Kafka + ClickHouse (database runstream_bench, topics of their own). Not a test: numbers are
// noisy on a shared machine, so the load average is printed too.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createLogger, kafkaEnv, loadEnv } from '@runstream/config';
import { ensurePythonSdk, PYTHON_SDK_DIR } from '../../test/support/python-sdk-env.ts';
import { applyMigrations, startLocalStack } from '../local-stack.ts';
import { startRunstream } from './runstream-services.ts';

const log = createLogger({ name: 'bench', level: 'warn' });
process.env.CLICKHOUSE_DATABASE ??= 'runstream_bench';
startLocalStack(log);
await applyMigrations(log);

const py = await ensurePythonSdk();
const runstream = await startRunstream();
try {
  execFileSync(py.python, [join(PYTHON_SDK_DIR, 'bench/bench_logging.py'), ...process.argv.slice(2)], {
    env: { ...py.env, RUNSTREAM_URL: runstream.url, RUNSTREAM_KAFKA_BROKERS: loadEnv(kafkaEnv, process.env).brokers.join(','), RUNSTREAM_TOPIC_PREFIX: runstream.topicPrefix, GIT_PYTHON_REFRESH: 'quiet' },
    stdio: 'inherit',
  });
} finally {
  await runstream.stop();
}
