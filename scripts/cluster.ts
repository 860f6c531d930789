// `npm run cluster:start` / `npm run cluster:stop`: the whole pipeline as a cluster on loopback — ZooKeeper, three
// Kafka brokers, four ClickHouse servers (2 shards x 2 replicas), the cluster schema, two ingest workers and two
// query services (the first on :8080). `start` returns once every node is healthy and leaves it all running in the
// background; `stop` ends it. Servers: deploy/cluster/servers.sh; service logs and pids: .data/cluster/services.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@runstream/config';
import { applyMigrations, REPO_ROOT } from './local-stack.ts';

const log = createLogger({ name: 'cluster' });
const SERVERS = `${REPO_ROOT}/deploy/cluster/servers.sh`;
const DIR = join(process.env.RUNSTREAM_CLUSTER_DATA_DIR ?? join(process.env.RUNSTREAM_DATA_DIR ?? join(REPO_ROOT, '.data'), 'cluster'), 'services');

/** The services' settings for the cluster (servers.sh env), over what the caller already set. */
export function clusterEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const r = spawnSync('bash', [SERVERS, 'env'], { encoding: 'utf8', env: base });
  if (r.status !== 0) throw new Error(`servers.sh env failed: ${r.stderr}`);
  const env: NodeJS.ProcessEnv = { ...base };
  for (const line of r.stdout.split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return env;
}

interface ServiceSpec {
  name: string;
  entry: string;
  env: Record<string, string>;
}

function services(env: NodeJS.ProcessEnv): ServiceSpec[] {
  const queryBase = Number(process.env.CLUSTER_QUERY_BASE_PORT ?? 8080);
  const workerUrls = (env.INGEST_WORKER_METRICS_URLS ?? '').split(',');
  return [
    ...workerUrls.map((u, i) => ({ name: `worker${i + 1}`, entry: 'services/ingest-worker/src/main.ts', env: { INGEST_METRICS_PORT: new URL(u).port, KAFKA_CLIENT_ID: `runstream-worker${i + 1}` } })),
    ...[0, 1].map((i) => ({ name: `query${i + 1}`, entry: 'services/query-service/src/main.ts', env: { PORT: String(queryBase + i), KAFKA_CLIENT_ID: `runstream-query${i + 1}` } })),
  ];
}

const pidFile = (name: string) => `${DIR}/${name}.pid`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function runningPid(name: string): number | undefined {
  if (!existsSync(pidFile(name))) return undefined;
  const pid = Number(readFileSync(pidFile(name), 'utf8'));
  if (!Number.isInteger(pid) || !alive(pid)) return undefined;
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  return cmdline.includes('services/') ? pid : undefined;
}

/** Starts one service detached (its own session, output to its log file) unless it runs already. */
export function startService(spec: ServiceSpec, env: NodeJS.ProcessEnv): number {
  const known = runningPid(spec.name);
  if (known) return known;
  mkdirSync(DIR, { recursive: true });
  const out = openSync(`${DIR}/${spec.name}.log`, 'a');
  const child = spawn(process.execPath, [`${REPO_ROOT}/${spec.entry}`], { detached: true, stdio: ['ignore', out, out], env: { ...env, ...spec.env } });
  closeSync(out);
  child.unref();
  writeFileSync(pidFile(spec.name), String(child.pid));
  log.info({ service: spec.name, pid: child.pid }, 'service started');
  return child.pid!;
}

export async function stopService(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const pid = runningPid(name);
  if (pid) {
    process.kill(pid, signal);
    for (let i = 0; i < 350 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    log.info({ service: name, pid, signal }, 'service stopped');
  }
  rmSync(pidFile(name), { force: true });
}

async function waitHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not answering after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function waitHealthy(url: string, timeoutMs: number, allNodes: boolean): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      const body = (await res.json()) as { status: string; down?: string[] };
      if (res.ok && (!allNodes || body.status === 'ok')) return body;
      last = JSON.stringify(body);
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms: ${last}`);
}

export async function startCluster(): Promise<NodeJS.ProcessEnv> {
  const r = spawnSync('bash', [SERVERS, 'start'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`deploy/cluster/servers.sh start failed (exit ${r.status})`);
  const env = clusterEnv();
  const applied = await applyMigrations(log, env, { refuseWhileIngesting: true });
  log.info({ applied: applied.length }, applied.length ? 'cluster migrations applied' : 'cluster schema up to date');
  // The first worker creates the topics; the others start once it is up, so none subscribes to a topic whose
  // partitions have no leader yet.
  const [first, ...rest] = services(env);
  startService(first!, env);
  await waitHttp(new URL('/metrics', (env.INGEST_WORKER_METRICS_URLS ?? '').split(',')[0]!).toString(), 120_000);
  for (const s of rest) startService(s, env);
  const queryBase = Number(process.env.CLUSTER_QUERY_BASE_PORT ?? 8080);
  for (const port of [queryBase, queryBase + 1]) await waitHealthy(`http://127.0.0.1:${port}/health`, 120_000, true);
  return env;
}

export async function stopCluster(): Promise<void> {
  const env = clusterEnv();
  await Promise.all(services(env).map((s) => stopService(s.name)));
  const r = spawnSync('bash', [SERVERS, 'stop'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('deploy/cluster/servers.sh stop failed');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const command = process.argv[2];
  try {
    if (command === 'start') {
      const env = await startCluster();
      const base = `http://127.0.0.1:${process.env.CLUSTER_QUERY_BASE_PORT ?? 8080}`;
      process.stderr.write(
        [
          '',
          'Runstream cluster is running in the background:',
          `  API            ${base}   (health names every node: ${base}/health)`,
          `  Kafka          ${env.KAFKA_BROKERS}   (replication factor 3, min.insync.replicas 2)`,
          `  ClickHouse     ${env.CLICKHOUSE_SHARDS}   (2 shards x 2 replicas; reads: database ${env.CLICKHOUSE_DATABASE})`,
          `  ZooKeeper      ${env.ZOOKEEPER_HOSTS}`,
          `  logs           ${DIR}`,
          'Stop it with: npm run cluster:stop',
          '',
        ].join('\n'),
      );
    } else if (command === 'stop') {
      await stopCluster();
    } else {
      process.stderr.write('usage: node scripts/cluster.ts start|stop\n');
      process.exitCode = 2;
    }
  } catch (err) {
    log.fatal({ err: (err as Error).message }, `cluster ${command} failed`);
    process.exitCode = 1;
  }
}
