// A private loopback cluster for fault injection: a second instance of deploy/cluster (ZooKeeper, three KRaft
// brokers, 2 shards x 2 ClickHouse replicas) with its own data directory and ports (every one is overridable in
// deploy/cluster/env.sh), so killing and restarting its servers never touches the shared cluster other people use.
// Shared by `npm run chaos:cluster` (scripts/chaos/run-cluster-chaos.ts) and test/chaos/cluster-chaos.test.ts.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clickhouseEnv, loadEnv, toClickHouseSettings, type Logger } from '@runstream/config';
import { connectClickHouse, connectReplicas, localDatabaseOf, type ClickHouse, type ReplicatedClickHouse } from '@runstream/clickhouse';
import { applyMigrations, REPO_ROOT } from '../../scripts/local-stack.ts';
import { clusterEnv } from '../../scripts/cluster.ts';
import { cacheKafkaLibs, killMarked, linkKafkaLibs, portFree, reapStale, reservedPort, strippedEnv, type ChaosStack, type ScriptResult } from './private-stack.ts';

/** Base ports: node i of a kind listens on base + i - 1 (3 brokers and controllers, 4 ClickHouse servers). */
export interface ClusterPorts {
  kafka: number;
  kafkaController: number;
  clickhouseHttp: number;
  clickhouseTcp: number;
  clickhouseInterserver: number;
  zookeeper: number;
}

export const CLUSTER_KAFKA_NODES = 3;
export const CLUSTER_SHARDS = 2;
export const CLUSTER_REPLICAS = 2;
const CH_NODES = CLUSTER_SHARDS * CLUSTER_REPLICAS;
const DATABASE = 'runstream_chaos';
const SERVERS = join(REPO_ROOT, 'deploy/cluster/servers.sh');

/** Where cluster chaos runs keep their instances (inside the git-ignored .data/). */
export const CHAOS_CLUSTER_ROOT = join(REPO_ROOT, '.data', 'chaos-cluster');
/** Kafka jars kept between runs when the shared stack has none to link (no `<name>-<pid>` name: never reaped). */
const KAFKA_LIBS_CACHE = join(CHAOS_CLUSTER_ROOT, 'kafka-libs');

export type NodeKind = 'zookeeper' | 'kafka' | 'clickhouse';

function allPorts(p: ClusterPorts): number[] {
  const range = (base: number, n: number) => Array.from({ length: n }, (_, i) => base + i);
  return [
    ...range(p.kafka, CLUSTER_KAFKA_NODES),
    ...range(p.kafkaController, CLUSTER_KAFKA_NODES),
    ...range(p.clickhouseHttp, CH_NODES),
    ...range(p.clickhouseTcp, CH_NODES),
    ...range(p.clickhouseInterserver, CH_NODES),
    p.zookeeper,
  ];
}

/** The preferred ports if all are free and none reserved, else a free set of the same layout. */
async function pickPorts(preferred: ClusterPorts): Promise<ClusterPorts> {
  const usable = async (p: ClusterPorts) => !allPorts(p).some(reservedPort) && (await Promise.all(allPorts(p).map(portFree))).every(Boolean);
  if (await usable(preferred)) return preferred;
  for (let i = 0; i < 50; i++) {
    const base = 40_000 + Math.floor(Math.random() * 200) * 100;
    const p = { kafka: base, kafkaController: base + 10, clickhouseHttp: base + 20, clickhouseTcp: base + 30, clickhouseInterserver: base + 40, zookeeper: base + 50 };
    if (await usable(p)) return p;
  }
  throw new Error('no free ports found for the private cluster');
}

function serversEnvFor(dataDir: string): NodeJS.ProcessEnv {
  return { RUNSTREAM_DATA_DIR: dataDir, RUNSTREAM_CLUSTER_DATA_DIR: join(dataDir, 'cluster') };
}

export class PrivateCluster implements ChaosStack {
  readonly name: string;
  readonly dataDir: string;
  readonly ports: ClusterPorts;
  /** Environment of deploy/cluster/servers.sh for this instance. */
  readonly serversEnv: NodeJS.ProcessEnv;
  /** The services' settings (servers.sh env): brokers, shards, cluster, database, ZooKeeper. */
  readonly services: Record<string, string>;
  private readonly log: Logger;
  private started = false;

  private constructor(name: string, dataDir: string, ports: ClusterPorts, log: Logger) {
    this.name = name;
    this.dataDir = dataDir;
    this.ports = ports;
    this.log = log;
    this.serversEnv = {
      ...strippedEnv(),
      ...serversEnvFor(dataDir),
      CLUSTER_HOST: '127.0.0.1',
      CLUSTER_KAFKA_BASE_PORT: String(ports.kafka),
      CLUSTER_KAFKA_CONTROLLER_BASE_PORT: String(ports.kafkaController),
      CLUSTER_CH_HTTP_BASE_PORT: String(ports.clickhouseHttp),
      CLUSTER_CH_TCP_BASE_PORT: String(ports.clickhouseTcp),
      CLUSTER_CH_INTERSERVER_BASE_PORT: String(ports.clickhouseInterserver),
      ZOOKEEPER_PORT: String(ports.zookeeper),
      CLICKHOUSE_DATABASE: DATABASE,
      CLUSTER_KAFKA_HEAP_OPTS: '-Xms128m -Xmx512m',
      RUNSTREAM_START_TIMEOUT: '120',
      RUNSTREAM_STOP_TIMEOUT: '30',
    };
    const env = clusterEnv(this.serversEnv);
    this.services = {};
    // Not INGEST_WORKER_METRICS_URLS: the chaos workers serve their metrics on ephemeral ports.
    for (const k of ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'CLICKHOUSE_SHARDS', 'CLICKHOUSE_CLUSTER', 'CLICKHOUSE_DATABASE', 'ZOOKEEPER_HOSTS']) this.services[k] = env[k]!;
  }

  /** A new instance in `.data/chaos-cluster/<name>-<pid>/` on the preferred ports (or free ones if they are taken). */
  static async create(name: string, preferred: ClusterPorts, log: Logger): Promise<PrivateCluster> {
    reapStale(CHAOS_CLUSTER_ROOT, SERVERS, serversEnvFor, log);
    const ports = await pickPorts(preferred);
    return new PrivateCluster(name, join(CHAOS_CLUSTER_ROOT, `${name}-${process.pid}`), ports, log);
  }

  processEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...strippedEnv(),
      ...this.services,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LOG_LEVEL: 'info',
      // Marks every process started for this instance, so a later run can reap them if this one dies uncleanly.
      RUNSTREAM_CHAOS_STACK: this.dataDir,
      ...extra,
    };
  }

  /** Per shard, its replicas' HTTP URLs. */
  get shards(): string[][] {
    return this.services.CLICKHOUSE_SHARDS!.split(';').map((s) => s.split(','));
  }

  /** ClickHouse node n (1-based; node = (shard - 1) * replicas + replica) and its shard (0-based). */
  chUrl(n: number): string {
    return `http://127.0.0.1:${this.ports.clickhouseHttp + n - 1}`;
  }

  shardOfNode(n: number): number {
    return Math.floor((n - 1) / CLUSTER_REPLICAS);
  }

  nodesOfShard(shard: number): number[] {
    return Array.from({ length: CLUSTER_REPLICAS }, (_, r) => shard * CLUSTER_REPLICAS + r + 1);
  }

  kafkaPort(n: number): number {
    return this.ports.kafka + n - 1;
  }

  /** Reads every shard through the Distributed tables, on whichever server is up. */
  reader(env: NodeJS.ProcessEnv): ReplicatedClickHouse {
    const settings = toClickHouseSettings(loadEnv(clickhouseEnv, env));
    return connectReplicas(settings, 'admin', this.shards.flat(), { database: DATABASE });
  }

  /** The shard-local (replicated) tables of one server. */
  local(n: number): ClickHouse {
    const settings = toClickHouseSettings(loadEnv(clickhouseEnv, this.processEnv()));
    return connectClickHouse({ ...settings, url: this.chUrl(n) }, 'admin', { database: localDatabaseOf(DATABASE) });
  }

  /** Runs deploy/cluster/servers.sh against this instance. */
  script(...args: string[]): Promise<ScriptResult> {
    const t0 = Date.now();
    return new Promise((resolve) => {
      const child = spawn('bash', [SERVERS, ...args], { env: this.serversEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      child.on('close', (code) => resolve({ code, output, ms: Date.now() - t0 }));
    });
  }

  private async must(...args: string[]): Promise<ScriptResult> {
    const r = await this.script(...args);
    if (r.code !== 0) throw new Error(`deploy/cluster/servers.sh ${args.join(' ')} failed (exit ${r.code}) for the private cluster:\n${r.output.slice(-3000)}`);
    this.log.debug({ args, ms: r.ms }, 'private cluster script done');
    return r;
  }

  /** start (waits until healthy), stop (graceful) or kill (SIGKILL) one server. */
  node(action: 'start' | 'stop' | 'kill', kind: NodeKind, n?: number): Promise<ScriptResult> {
    return this.must(`${action}-node`, kind, ...(n === undefined ? [] : [String(n)]));
  }

  /** The pid of a running server of this instance: its pid file's, if that process's command line names its config. */
  private pidOf(kind: NodeKind, n?: number): number | undefined {
    const dir = join(this.dataDir, 'cluster', kind === 'zookeeper' ? 'zookeeper' : `${kind}${n}`);
    const files: Record<NodeKind, [string, string]> = {
      zookeeper: ['zookeeper.pid', 'zoo.cfg'],
      kafka: ['kafka.pid', 'server.properties'],
      clickhouse: ['clickhouse.pid', join('etc', 'config.xml')],
    };
    const [pidFile, config] = files[kind];
    try {
      const pid = Number(readFileSync(join(dir, pidFile), 'utf8'));
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(join(dir, config)) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * SIGKILLs ClickHouse node n at once, without the start-up of a script in between: for a kill timed to land
   * while a request runs.
   */
  killClickHouseNow(n: number): number {
    const pid = this.pidOf('clickhouse', n);
    if (pid === undefined) throw new Error(`ClickHouse node ${n} of the private cluster is not running`);
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  /** SIGKILLs every server of this instance; returns their pids. */
  private killAllNow(): number[] {
    const nodes: [NodeKind, number?][] = [
      ['zookeeper'],
      ...Array.from({ length: CLUSTER_KAFKA_NODES }, (_, i) => ['kafka', i + 1] as [NodeKind, number]),
      ...Array.from({ length: CH_NODES }, (_, i) => ['clickhouse', i + 1] as [NodeKind, number]),
    ];
    const pids = nodes.map(([kind, n]) => this.pidOf(kind, n)).filter((p): p is number => p !== undefined);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    return pids;
  }

  /** SIGKILLs every server of this instance and waits until they are gone. */
  private async killAll(): Promise<void> {
    const pids = this.killAllNow();
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    for (let i = 0; i < 100 && !pids.every(gone); i++) await new Promise((r) => setTimeout(r, 100));
  }

  /** Starts every server and applies the cluster schema (the Kafka jars linked from a cache, see linkKafkaLibs). */
  async start(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    linkKafkaLibs(this.dataDir, KAFKA_LIBS_CACHE);
    this.started = true;
    const r = await this.must('start');
    cacheKafkaLibs(this.dataDir, KAFKA_LIBS_CACHE);
    this.log.info({ ms: r.ms, ports: this.ports, dataDir: this.dataDir }, 'private cluster up');
    await applyMigrations(this.log, this.processEnv());
  }

  /** servers.sh start starts only the servers that are not running, and waits for all. */
  async heal(): Promise<void> {
    await this.script('start');
  }

  /**
   * Stops every server. Its data is removed afterwards, so nothing needs a graceful stop (which takes minutes: each
   * ClickHouse 18.16 drains its keep-alive connections): SIGKILL. With keepData, servers.sh stop.
   */
  async stop({ keepData = false } = {}): Promise<void> {
    killMarked(this.dataDir);
    if (!this.started) return;
    this.started = false;
    if (keepData) {
      const r = await this.script('stop');
      if (r.code !== 0) this.log.error({ output: r.output.slice(-2000) }, 'stopping the private cluster failed');
      return;
    }
    await this.killAll();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** For exit handlers: SIGKILL, the data stays (the next run reaps it). */
  stopSync(): void {
    killMarked(this.dataDir);
    if (!this.started) return;
    this.killAllNow();
    this.started = false;
  }
}
