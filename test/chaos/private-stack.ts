// A private Kafka + ClickHouse for fault injection: a second instance of deploy/local with its own data directory
// and ports (env overrides read by deploy/local/env.sh), so stopping and restarting its servers never touches the
// shared local stack other tests and `npm start` use. Pid files, configs, logs and data all live under `dataDir`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '@runstream/config';
import type { ClickHouse } from '@runstream/clickhouse';
import { REPO_ROOT, applyMigrations } from '../../scripts/local-stack.ts';
import { clickhouseFor } from '../support/pipeline-fixture.ts';

/**
 * What a fault scenario needs of the servers it runs on: the single-node PrivateStack here, or the PrivateCluster
 * (private-cluster.ts). Scenarios that stop particular servers use the concrete class.
 */
export interface ChaosStack {
  /** Where the instance keeps its data (artifacts of a query service go below it too). */
  readonly dataDir: string;
  /** Environment for Runstream processes (worker, SDK, query service) talking to this instance. */
  processEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** A connection that reads every stored row (all shards), for the accounting. */
  reader(env: NodeJS.ProcessEnv): ClickHouse;
  /** Starts every server that is down (after a fault injection failed half-way); a no-op when all are up. */
  heal(): Promise<void>;
  /** Stops the servers and removes the data (unless keepData). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** Synchronous stop for exit handlers (Ctrl-C while a scenario runs). */
  stopSync(): void;
}

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  clickhouseHttp: number;
  clickhouseTcp: number;
}

/** Where chaos runs keep their stacks and logs (inside the git-ignored .data/). */
export const CHAOS_ROOT = join(REPO_ROOT, '.data', 'chaos');
export const CHAOS_LOG_DIR = join(CHAOS_ROOT, 'logs');

const KAFKA_VERSION = '4.1.1';
const DATABASE = 'runstream_chaos';

// Everything deploy/local/env.sh or our processes read: never inherited from the caller (who may point at the
// shared stack, e.g. vitest's global setup exports its KAFKA_BROKERS / CLICKHOUSE_DATABASE).
const STRIPPED = /^(KAFKA_|CLICKHOUSE_|CLUSTER_|ZOOKEEPER_|RUNSTREAM_|INGEST_|QUERY_|WRITE_VISIBILITY_|RATE_LIMIT_)|^(PORT|HOST|LOG_LEVEL)$/;

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port nothing listens on right now (for a short-lived HTTP service). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Ports a private stack never takes, even when free at the moment: the shared stack's defaults (18123, 19000, 19092,
 * 19093) and the same ports shifted by tens of thousands (28123, 39092, …), which is how extra stacks are run next
 * to it with deploy/local/env.sh overrides — one of them may be stopped right now and started again later.
 */
export function reservedPort(port: number): boolean {
  return [8123, 9000, 9092, 9093].includes(port % 10_000);
}

/** The preferred ports if all are free and none reserved, else four free ports below the ephemeral range. */
async function pickPorts(preferred: StackPorts): Promise<StackPorts> {
  const all = async (p: StackPorts) => !Object.values(p).some(reservedPort) && (await Promise.all(Object.values(p).map(portFree))).every(Boolean);
  if (await all(preferred)) return preferred;
  for (let i = 0; i < 50; i++) {
    const base = 20_000 + Math.floor(Math.random() * 1_200) * 10;
    const p = { kafka: base, kafkaController: base + 1, clickhouseHttp: base + 2, clickhouseTcp: base + 3 };
    if (await all(p)) return p;
  }
  throw new Error('no four free ports found for the private stack');
}

/** SIGKILLs the processes (workers, query services) whose environment marks them as started for `dataDir`. */
export function killMarked(dataDir: string): void {
  const marker = `RUNSTREAM_CHAOS_STACK=${dataDir}`;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}

/**
 * Stops and removes the instances under `root` (`<name>-<owner pid>/`) of chaos runs that died without cleaning up
 * (their owner pid is gone): their marked processes are killed, then `stopScript` runs with `envOf(dataDir)`; it
 * only signals processes whose pid file is in that directory and whose command line names its config.
 */
export function reapStale(root: string, stopScript: string, envOf: (dataDir: string) => NodeJS.ProcessEnv, log: Logger): void {
  if (!existsSync(root)) return;
  for (const dir of readdirSync(root)) {
    const m = /^[a-z]+-(\d+)$/.exec(dir);
    if (!m) continue;
    const owner = Number(m[1]);
    let alive = true;
    try {
      process.kill(owner, 0);
    } catch {
      alive = false;
    }
    if (alive) continue;
    const dataDir = join(root, dir);
    killMarked(dataDir);
    const r = spawnSync('bash', [stopScript], { env: { ...process.env, ...envOf(dataDir) }, stdio: 'ignore' });
    if (r.status === 0) rmSync(dataDir, { recursive: true, force: true });
    log.warn({ dataDir, stopped: r.status === 0 }, 'removed the private servers of a chaos run that did not clean up');
  }
}

/**
 * Hard-links the Kafka jars into `<dataDir>/kafka/libs/<version>` from the shared stack's cache, or else from
 * `fallbackCache` (deploy/local/env.sh derives KAFKA_LIBS_DIR from RUNSTREAM_DATA_DIR, so a second instance would
 * otherwise resolve them again with Maven).
 */
export function linkKafkaLibs(dataDir: string, fallbackCache?: string): void {
  const ownLibs = join(dataDir, 'kafka', 'libs', KAFKA_VERSION);
  const sources = [join(process.env.RUNSTREAM_DATA_DIR ?? join(REPO_ROOT, '.data'), 'kafka', 'libs', KAFKA_VERSION), ...(fallbackCache ? [join(fallbackCache, KAFKA_VERSION)] : [])];
  const source = sources.find((dir) => existsSync(join(dir, '.complete')));
  if (!existsSync(join(ownLibs, '.complete')) && source) copyTree(source, ownLibs);
}

/** Keeps the jars an instance resolved itself in `cache` for the next instance (see linkKafkaLibs). */
export function cacheKafkaLibs(dataDir: string, cache: string): void {
  const ownLibs = join(dataDir, 'kafka', 'libs', KAFKA_VERSION);
  if (existsSync(join(ownLibs, '.complete')) && !existsSync(join(cache, KAFKA_VERSION, '.complete'))) copyTree(ownLibs, join(cache, KAFKA_VERSION));
}

/** cp -al (hard links; a plain copy across file systems), replacing `to`. */
function copyTree(from: string, to: string): void {
  mkdirSync(join(to, '..'), { recursive: true });
  rmSync(to, { recursive: true, force: true });
  const cp = spawnSync('cp', ['-al', from, to]);
  if (cp.status !== 0) spawnSync('cp', ['-r', from, to]);
}

/** Environment of the caller without anything that points at other servers (see STRIPPED). */
export function strippedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!STRIPPED.test(k)) env[k] = v;
  return env;
}

export interface ScriptResult {
  code: number | null;
  output: string;
  ms: number;
}

export class PrivateStack implements ChaosStack {
  readonly name: string;
  readonly dataDir: string;
  readonly ports: StackPorts;
  /** Environment of the deploy/local scripts for this instance. */
  readonly stackEnv: NodeJS.ProcessEnv;
  private readonly log: Logger;
  private started = false;

  private constructor(name: string, dataDir: string, ports: StackPorts, log: Logger) {
    this.name = name;
    this.dataDir = dataDir;
    this.ports = ports;
    this.log = log;
    this.stackEnv = {
      ...strippedEnv(),
      RUNSTREAM_DATA_DIR: dataDir,
      KAFKA_HOST: '127.0.0.1',
      KAFKA_PORT: String(ports.kafka),
      KAFKA_CONTROLLER_PORT: String(ports.kafkaController),
      KAFKA_HEAP_OPTS: '-Xms256m -Xmx768m',
      CLICKHOUSE_HOST: '127.0.0.1',
      CLICKHOUSE_HTTP_PORT: String(ports.clickhouseHttp),
      CLICKHOUSE_TCP_PORT: String(ports.clickhouseTcp),
      CLICKHOUSE_DATABASE: DATABASE,
      RUNSTREAM_START_TIMEOUT: '120',
      RUNSTREAM_STOP_TIMEOUT: '30',
    };
  }

  /**
   * A new instance in `.data/chaos/<name>-<pid>/` on the preferred ports (or free ones if they are taken, e.g. by a
   * concurrent run), so two chaos runs never share servers either.
   */
  static async create(name: string, preferred: StackPorts, log: Logger): Promise<PrivateStack> {
    PrivateStack.reapStale(log);
    const ports = await pickPorts(preferred);
    return new PrivateStack(name, join(CHAOS_ROOT, `${name}-${process.pid}`), ports, log);
  }

  /**
   * Stops and removes the stacks of chaos runs that died without cleaning up (their owner pid is gone). stop.sh
   * only signals processes whose pid file is in that directory and whose command line names its config.
   */
  static reapStale(log: Logger): void {
    reapStale(CHAOS_ROOT, join(REPO_ROOT, 'deploy/local/stop.sh'), (dataDir) => ({ RUNSTREAM_DATA_DIR: dataDir }), log);
  }

  get kafkaBrokers(): string {
    return `127.0.0.1:${this.ports.kafka}`;
  }

  get clickhouseUrl(): string {
    return `http://127.0.0.1:${this.ports.clickhouseHttp}`;
  }

  /** Environment for Runstream processes (worker, SDK, query service) talking to this stack. */
  processEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...strippedEnv(),
      KAFKA_BROKERS: this.kafkaBrokers,
      CLICKHOUSE_URL: this.clickhouseUrl,
      CLICKHOUSE_DATABASE: DATABASE,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LOG_LEVEL: 'info',
      // Marks every process started for this stack, so a later run can reap them if this one dies uncleanly.
      RUNSTREAM_CHAOS_STACK: this.dataDir,
      ...extra,
    };
  }

  /** Runs a deploy/local script against this instance. */
  script(script: 'start.sh' | 'stop.sh' | 'kafka.sh' | 'clickhouse.sh', ...args: string[]): Promise<ScriptResult> {
    const t0 = Date.now();
    return new Promise((resolve) => {
      const child = spawn('bash', [join(REPO_ROOT, 'deploy/local', script), ...args], { env: this.stackEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (code) => resolve({ code, output, ms: Date.now() - t0 }));
    });
  }

  private async must(script: Parameters<PrivateStack['script']>[0], ...args: string[]): Promise<ScriptResult> {
    const r = await this.script(script, ...args);
    if (r.code !== 0) throw new Error(`deploy/local/${script} ${args.join(' ')} failed (exit ${r.code}) for the private stack:\n${r.output.slice(-3000)}`);
    this.log.debug({ script, args, ms: r.ms }, 'private stack script done');
    return r;
  }

  kafka(cmd: 'start' | 'stop' | 'restart'): Promise<ScriptResult> {
    return this.must('kafka.sh', cmd);
  }

  clickhouse(cmd: 'start' | 'stop' | 'restart'): Promise<ScriptResult> {
    return this.must('clickhouse.sh', cmd);
  }

  reader(env: NodeJS.ProcessEnv): ClickHouse {
    return clickhouseFor('admin', env);
  }

  async heal(): Promise<void> {
    // Both are no-ops when the server is up.
    await this.clickhouse('start').catch(() => undefined);
    await this.kafka('start').catch(() => undefined);
  }

  /** Starts both servers and applies the migrations (the Kafka jars linked from the shared cache, see linkKafkaLibs). */
  async start(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    linkKafkaLibs(this.dataDir);
    this.started = true;
    const r = await this.must('start.sh');
    this.log.info({ ms: r.ms, ports: this.ports, dataDir: this.dataDir }, 'private stack up');
    await applyMigrations(this.log, this.processEnv());
  }

  /** Stops both servers (always safe: only this instance's pid files are read) and removes its data. */
  async stop({ keepData = false } = {}): Promise<void> {
    if (!this.started) return;
    const r = await this.script('stop.sh');
    if (r.code !== 0) this.log.error({ output: r.output.slice(-2000) }, 'stopping the private stack failed');
    this.started = false;
    if (!keepData && r.code === 0) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Synchronous stop for exit handlers (Ctrl-C while a scenario runs). */
  stopSync(): void {
    killMarked(this.dataDir);
    if (!this.started) return;
    spawnSync('bash', [join(REPO_ROOT, 'deploy/local/stop.sh')], { env: this.stackEnv, stdio: 'ignore' });
    this.started = false;
  }
}
