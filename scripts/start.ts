// `npm start`: the whole pipeline on this machine — local Kafka and ClickHouse, migrations, the ingest worker
// and the query service — until Ctrl-C / SIGTERM, which stops everything in reverse order.
import { spawn, type ChildProcess } from 'node:child_process';
import { createLogger } from '@runstream/config';
import { applyMigrations, checkRoleAccess, REPO_ROOT, startLocalStack, stopLocalStack } from './local-stack.ts';

const log = createLogger({ name: 'runstream' });
const port = process.env.PORT ?? '8080';
const host = process.env.HOST ?? '127.0.0.1';

interface Service {
  name: string;
  entry: string;
  child?: ChildProcess;
  restarts: number[];
}

const services: Service[] = [
  { name: 'ingest-worker', entry: 'services/ingest-worker/src/main.ts', restarts: [] },
  { name: 'query-service', entry: 'services/query-service/src/main.ts', restarts: [] },
];
let stopping = false;
let startedStack = false;

function launch(s: Service): void {
  const child = spawn(process.execPath, [`${REPO_ROOT}/${s.entry}`], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PORT: port, HOST: host } });
  s.child = child;
  child.on('exit', (code, signal) => {
    s.child = undefined;
    if (stopping) return;
    // A supervisor's job: the worker exits on purpose when it cannot make progress (its offsets are safe);
    // restart it, but give up if it keeps dying.
    const now = Date.now();
    s.restarts = s.restarts.filter((t) => now - t < 60_000);
    if (s.restarts.length >= 5) {
      log.fatal({ service: s.name, code, signal }, 'service keeps exiting; stopping everything');
      void shutdown(1);
      return;
    }
    s.restarts.push(now);
    const delay = 1000 * s.restarts.length;
    log.warn({ service: s.name, code, signal, restartInMs: delay }, 'service exited; restarting');
    setTimeout(() => !stopping && launch(s), delay);
  });
}

async function waitForHealth(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/health`);
      if (res.ok) return;
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`query service not healthy after ${timeoutMs} ms: ${last}`);
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('stopping services');
  await Promise.all(
    services.map(
      (s) =>
        new Promise<void>((resolve) => {
          const child = s.child;
          if (!child || child.exitCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 35_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  if (startedStack) {
    log.info('stopping local Kafka and ClickHouse');
    stopLocalStack();
  }
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  startedStack = startLocalStack(log);
  const applied = await applyMigrations(log, process.env, { refuseWhileIngesting: true });
  log.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
  // Servers left running for other settings (e.g. a benchmark's database) answer pings but refuse our users.
  await checkRoleAccess();
  for (const s of services) launch(s);
  await waitForHealth(60_000);
  const base = `http://${host}:${port}`;
  process.stderr.write(
    [
      '',
      'Runstream is running:',
      `  API            ${base}   (OpenAPI: ${base}/openapi.json, health: ${base}/health)`,
      `  web UI         ${base}/ui/`,
      `  Kafka          ${process.env.KAFKA_BROKERS}   (topic ${process.env.KAFKA_TOPIC_PREFIX ?? 'runstream.'}metrics.v1)`,
      `  ClickHouse     ${process.env.CLICKHOUSE_URL}   (database ${process.env.CLICKHOUSE_DATABASE ?? 'runstream'})`,
      '  ingest worker  consuming metrics into ClickHouse',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'start-up failed');
  await shutdown(1);
}
