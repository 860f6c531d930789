// `npm run bench:python`: the Python SDK's cost in a training loop and its delivery rate, with MLflow's
// log_metric beside it (packages/python-sdk/bench/bench_logging.py), against the real ingest worker and query
// service on the local Kafka + ClickHouse (database runstream_bench, topics of their own). Not a test: numbers are
// noisy on a shared machine, so the load average is printed too.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createLogger, kafkaEnv, loadEnv } from '@runstream/config';
import { ensurePythonEnv, PYTHON } from '../../test/support/python-deps.ts';
import { applyMigrations, REPO_ROOT, startLocalStack } from '../local-stack.ts';
import { startRunstream } from './runstream-services.ts';

const log = createLogger({ name: 'bench', level: 'warn' });
process.env.CLICKHOUSE_DATABASE ??= 'runstream_bench';
startLocalStack(log);
await applyMigrations(log);

const SDK_DIR = join(REPO_ROOT, 'packages/python-sdk');
const py = await ensurePythonEnv('python-sdk', ['confluent-kafka==2.16.2', 'fastavro==1.13.1', 'pytest==9.2.0', 'mlflow==3.17.2', 'scikit-learn==1.9.1']);
const target = py.python === PYTHON ? py.env.PYTHONPATH?.split(':')[0] : undefined;
execFileSync(py.python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--force-reinstall', ...(target ? ['--target', target] : []), SDK_DIR], { env: py.env, stdio: 'inherit' });

const runstream = await startRunstream();
try {
  execFileSync(py.python, [join(SDK_DIR, 'bench/bench_logging.py'), ...process.argv.slice(2)], {
    env: { ...py.env, RUNSTREAM_URL: runstream.url, RUNSTREAM_KAFKA_BROKERS: loadEnv(kafkaEnv, process.env).brokers.join(','), RUNSTREAM_TOPIC_PREFIX: runstream.topicPrefix, GIT_PYTHON_REFRESH: 'quiet' },
    stdio: 'inherit',
  });
} finally {
  await runstream.stop();
}
