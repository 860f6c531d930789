// `npm run bench:cluster`: the same points SDK → Kafka → ingest worker(s) → ClickHouse on one node (deploy/local:
// one broker, one server, one worker) and on the loopback cluster (deploy/cluster: three brokers with replication
// factor 3, 2 shards x 2 replicas, two workers), in one run; then the same read queries on both. Prints rates side
// by side, the cost of replication, and the per-core costs the sizing guide in deploy/README.md rests on (CPU seconds
// of every ClickHouse server, broker and worker process, from /proc). Not a test. On this 2-core machine the cluster's
// seven servers share the cores the single node has alone: its rate here is a floor, the per-core costs are the point.
//
//   npm run bench:cluster                      # 1M points (BENCH_POINTS), 40 runs
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { clickhouseEnv, createLogger, kafkaEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import { connectClickHouse, connectReplicas, metricSummariesSql, queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import { createMetricsProducer } from '@runstream/sdk';
import { applyMigrations, REPO_ROOT, startLocalStack } from '../local-stack.ts';
import { clusterEnv } from '../cluster.ts';
import { startChild, stopAll } from './child-processes.ts';

const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const RUNS = 40;
const KEYS = ['loss', 'eval/acc', 'lr', 'grad/norm', 'throughput'];
const QUERY_REPEATS = Number(process.env.BENCH_QUERY_REPEATS ?? 30);
const TICKS = 100; // clock ticks per second in /proc/<pid>/stat

const log = createLogger({ name: 'bench', level: 'warn' });
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const database = process.env.BENCH_DATABASE ?? 'runstream_bench';

/** CPU seconds (user + system) of every process whose command line contains one of `patterns`. */
function cpuSeconds(patterns: string[]): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (!patterns.some((p) => cmd.includes(p))) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* gone meanwhile */
    }
  }
  return ticks / TICKS;
}

interface Side {
  name: string;
  /** Admin connections to each ClickHouse server, and each broker's log directory. */
  servers: ClickHouse[];
  kafkaDirs: string[];
  env: NodeJS.ProcessEnv;
  workers: number;
  /** Command-line fragments of this side's ClickHouse servers and Kafka brokers. */
  clickhouse: string[];
  kafka: string[];
  reader: ClickHouse;
}

interface IngestResult {
  seconds: number;
  rate: number;
  clickhouseCpu: number;
  kafkaCpu: number;
  workerCpu: number;
  /** Bytes on disk the points added (all servers), and bytes of the metrics topic (all brokers). */
  diskBytes: number;
  kafkaBytes: number;
}

async function bytesOnDisk(servers: ClickHouse[]): Promise<number> {
  let total = 0;
  for (const ch of servers) {
    const [r] = await queryRows<{ b: string }>(ch, sql`SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE active AND database IN ${[database, `${database}_local`]}`);
    total += Number(r?.b ?? 0);
  }
  return total;
}

function topicBytes(dirs: string[], topic: string): number {
  let total = 0;
  for (const dir of dirs) {
    for (const part of readdirSync(dir).filter((d) => d.startsWith(`${topic}-`))) {
      // Only the log segments: Kafka preallocates its index files (10 MB each), which says nothing per point.
      for (const f of readdirSync(join(dir, part)).filter((f) => f.endsWith('.log'))) total += statSync(join(dir, part, f)).size;
    }
  }
  return total;
}

/** Points stored for these runs, from the summaries (found by their sort key: the benchmark database is large). */
async function storedCount(reader: ClickHouse, runs: string[]): Promise<number> {
  const [r] = await queryRows<{ c: string }>(reader, sql`SELECT sumMerge(points) AS c FROM metric_summary_v2 WHERE entity_kind = 'run' AND entity_id IN ${runs}`);
  return Number(r?.c ?? 0);
}

async function ingest(side: Side): Promise<IngestResult & { runs: string[] }> {
  const id = randomUUID().slice(0, 8);
  const topicPrefix = `bench.${id}.`;
  const env = { ...side.env, KAFKA_TOPIC_PREFIX: topicPrefix, INGEST_GROUP_ID: `bench-${id}`, LOG_LEVEL: 'warn', INGEST_METRICS_PORT: '0' };
  const marker = `bench-${id}`;
  const workers = Array.from({ length: side.workers }, (_, i) =>
    startChild(`${side.name}-worker${i + 1}`, process.execPath, [`${REPO_ROOT}/services/ingest-worker/src/main.ts`, marker], { env, echoStderr: true }),
  );
  // The workers create the topics and join the group.
  let sdk: Awaited<ReturnType<typeof createMetricsProducer>> | undefined;
  for (let attempt = 0; !sdk; attempt++) {
    await new Promise((r) => setTimeout(r, 1000));
    sdk = await createMetricsProducer({ brokers: loadEnv(kafkaEnv, env).brokers, topicPrefix, maxPointsPerMessage: 5000, lingerMs: 20, logger: log }).catch((err: Error) => {
      if (attempt > 60) throw err;
      return undefined;
    });
  }
  await new Promise((r) => setTimeout(r, 3000));
  const entityPrefix = `cb-${id}-`;
  const before = { ch: cpuSeconds(side.clickhouse), kafka: cpuSeconds(side.kafka), worker: cpuSeconds([marker]), disk: await bytesOnDisk(side.servers) };
  const started = performance.now();
  const t0 = Date.now();
  const perRun = Math.ceil(POINTS / RUNS);
  for (let base = 0; base < perRun; base += 1000) {
    for (let run = 0; run < RUNS; run++) {
      const points = [];
      for (let j = base; j < Math.min(base + 1000, perRun); j++) points.push({ key: KEYS[j % KEYS.length]!, value: Math.sin(j) * 10, step: Math.floor(j / KEYS.length), timestampMs: t0 + j });
      await sdk.logPoints({ run: `${entityPrefix}${run}` }, points);
    }
  }
  await sdk.flush();
  const expected = perRun * RUNS;
  const runs = Array.from({ length: RUNS }, (_, r) => `${entityPrefix}${r}`);
  while ((await storedCount(side.reader, runs)) < expected) await new Promise((r) => setTimeout(r, 100));
  const seconds = (performance.now() - started) / 1000;
  const after = { ch: cpuSeconds(side.clickhouse), kafka: cpuSeconds(side.kafka), worker: cpuSeconds([marker]), disk: await bytesOnDisk(side.servers) };
  const kafkaBytes = topicBytes(side.kafkaDirs, `${topicPrefix}metrics.v1`);
  await sdk.close();
  for (const w of workers) w.process.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  return {
    seconds,
    rate: expected / seconds,
    clickhouseCpu: after.ch - before.ch,
    kafkaCpu: after.kafka - before.kafka,
    workerCpu: after.worker - before.worker,
    diskBytes: after.disk - before.disk,
    kafkaBytes,
    runs,
  };
}

/** p50 / p95 of `repeats` runs of a query (ms). */
async function timeQuery(reader: ClickHouse, q: ReturnType<typeof sql>): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < QUERY_REPEATS; i++) {
    const t = performance.now();
    await queryRows(reader, q);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]! };
}

// ---- the two sides -------------------------------------------------------------------------------------------
process.env.CLICKHOUSE_DATABASE = database;
startLocalStack(log);
await applyMigrations(log);
const single = toClickHouseSettings(loadEnv(clickhouseEnv));
const cluster = spawnSync('bash', [`${REPO_ROOT}/deploy/cluster/servers.sh`, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (cluster.status !== 0) throw new Error('deploy/cluster/servers.sh start failed');
const cEnv = clusterEnv({ ...process.env, CLICKHOUSE_DATABASE: database });
await applyMigrations(log, cEnv);
const clusterSettings = toClickHouseSettings(loadEnv(clickhouseEnv, cEnv));
const dataDir = process.env.RUNSTREAM_DATA_DIR ?? join(REPO_ROOT, '.data');

const sides: Side[] = [
  {
    name: 'one node',
    env: { ...process.env },
    workers: 1,
    servers: [connectClickHouse(single, 'admin')],
    kafkaDirs: [join(dataDir, 'kafka/data')],     clickhouse: [join(dataDir, 'clickhouse/etc/config.xml')],
    kafka: [join(dataDir, 'kafka/conf/server.properties')],
    reader: connectClickHouse(single, 'query'),
  },
  {
    name: 'cluster',
    env: cEnv,
    workers: 2,
    servers: clusterSettings.cluster!.shards.flat().map((url) => connectClickHouse({ ...clusterSettings, url }, 'admin')),
    kafkaDirs: [1, 2, 3].map((n) => join(dataDir, `cluster/kafka${n}/data`)),
    clickhouse: [join(dataDir, 'cluster/clickhouse')],
    kafka: [join(dataDir, 'cluster/kafka')],
    reader: connectReplicas(clusterSettings, 'query', clusterSettings.cluster!.shards.flat()),
  },
];

try {
  const results: (IngestResult & { runs: string[] })[] = [];
  for (const side of sides) {
    process.stderr.write(`ingesting ${POINTS.toLocaleString()} points into ${side.name} (${side.workers} worker${side.workers > 1 ? 's' : ''})\n`);
    results.push(await ingest(side));
  }
  const queries: { name: string; p50: number[]; p95: number[] }[] = [];
  for (const [label, build] of [
    ['summaries of 10 runs', (runs: string[]) => metricSummariesSql('RUN', runs.slice(0, 10))],
    ['summaries of 40 runs', (runs: string[]) => metricSummariesSql('RUN', runs)],
    ['raw points of one run, one key', (runs: string[]) => sql`SELECT step, value FROM metric_points_v2 WHERE entity_kind = 'run' AND entity_id = ${runs[0]!} AND key = 'loss' ORDER BY step`],
  ] as const) {
    const row = { name: label, p50: [] as number[], p95: [] as number[] };
    for (const [i, side] of sides.entries()) {
      const t = await timeQuery(side.reader, build(results[i]!.runs));
      row.p50.push(t.p50);
      row.p95.push(t.p95);
    }
    queries.push(row);
  }

  const [one, many] = [results[0]!, results[1]!];
  const perM = (cpu: number) => ((cpu / POINTS) * 1e6).toFixed(2);
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`\n# Cluster benchmark (${new Date().toISOString()}, ${POINTS.toLocaleString()} points, ${RUNS} runs, ${database})\n`);
  console.log('| ingest | one node (1 broker, 1 server, 1 worker) | cluster (3 brokers RF 3, 2x2 servers, 2 workers) | cluster / one node |');
  console.log('| --- | --: | --: | --: |');
  console.log(`| points/s end to end | ${f(one.rate)} | ${f(many.rate)} | ${(many.rate / one.rate).toFixed(2)} |`);
  console.log(`| ClickHouse CPU s per 1M points (all servers) | ${perM(one.clickhouseCpu)} | ${perM(many.clickhouseCpu)} | ${(many.clickhouseCpu / one.clickhouseCpu).toFixed(2)} |`);
  console.log(`| Kafka CPU s per 1M points (all brokers) | ${perM(one.kafkaCpu)} | ${perM(many.kafkaCpu)} | ${(many.kafkaCpu / one.kafkaCpu).toFixed(2)} |`);
  console.log(`| worker CPU s per 1M points (all workers) | ${perM(one.workerCpu)} | ${perM(many.workerCpu)} | ${(many.workerCpu / one.workerCpu).toFixed(2)} |`);
  console.log(`| bytes on disk per point (all servers; parts not yet merged) | ${(one.diskBytes / POINTS).toFixed(1)} | ${(many.diskBytes / POINTS).toFixed(1)} | ${(many.diskBytes / one.diskBytes).toFixed(2)} |`);
  console.log(`| bytes per point in Kafka (all brokers) | ${(one.kafkaBytes / POINTS).toFixed(1)} | ${(many.kafkaBytes / POINTS).toFixed(1)} | ${(many.kafkaBytes / one.kafkaBytes).toFixed(2)} |`);
  console.log('\n| query (p50 / p95 ms) | one node | cluster (Distributed, 2 shards) |');
  console.log('| --- | --: | --: |');
  for (const q of queries) console.log(`| ${q.name} | ${q.p50[0]!.toFixed(1)} / ${q.p95[0]!.toFixed(1)} | ${q.p50[1]!.toFixed(1)} / ${q.p95[1]!.toFixed(1)} |`);
  console.log('\nPer-core costs (the sizing model in deploy/README.md):');
  console.log(`  ingest worker: ${f(1e6 / Number(perM(one.workerCpu)))} points per CPU second`);
  console.log(`  ClickHouse, one copy: ${f(1e6 / Number(perM(one.clickhouseCpu)))} points per CPU second; with 2 replicas per shard the cluster spent ${(many.clickhouseCpu / one.clickhouseCpu).toFixed(2)}x the CPU for the same points`);
  console.log(`  Kafka: ${f(1e6 / Number(perM(one.kafkaCpu)))} points per CPU second at replication factor 1; ${(many.kafkaCpu / one.kafkaCpu).toFixed(2)}x the CPU at replication factor 3`);
} finally {
  for (const s of sides) for (const c of [s.reader, ...s.servers]) await c.close();
  await stopAll();
}
