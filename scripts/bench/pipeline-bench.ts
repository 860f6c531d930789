// `npm run bench`: N metric points through SDK → Kafka → ingest worker → ClickHouse, against the local stack,
// with the ClickHouse ingest ceilings measured in the same run on the same rows:
//   - HTTP: the rows as the worker sends them (Native blocks over HTTP), one insert stream;
//   - clickhouse-client: the same Native data piped to the native protocol client.
// Prints sustained points/s and the ratios; produce-to-queryable latency (freshness) on an idle pipeline, at the maximum
// load and at half of it; and a peer: ClickHouse's own Kafka table engine draining the same points into the same
// table and views. Not a test.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clickhouseEnv, createLogger, kafkaEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import { connectClickHouse, encodeMetricPointUnits, insertMetricPoints, METRIC_ENTRY_COLUMNS, METRIC_ENTRY_TABLE, queryRows, sql, type MetricPointUnit } from '@runstream/clickhouse';
import { createKafkaBus, topicNames } from '@runstream/kafka';
import { createMetricsProducer } from '@runstream/sdk';
import { applyMigrations, REPO_ROOT, startLocalStack } from '../local-stack.ts';
import { idleFreshness, percentile as pct, probeDuringLoad } from './freshness.ts';
import { drainWithKafkaEngine, prefillPeerTopic, type PeerPoint } from './kafka-engine-peer.ts';

const POINTS = Number(process.env.BENCH_POINTS ?? 2_000_000);
const RUNS = 40;
const KEYS = ['loss', 'eval/acc', 'lr', 'grad/norm', 'throughput'];
const BATCH_ROWS = Number(process.env.INGEST_BATCH_MAX_ROWS ?? 200_000);
const IDLE_SAMPLES = Number(process.env.BENCH_IDLE_SAMPLES ?? 50);
const LOADED_SECONDS = Number(process.env.BENCH_LOADED_SECONDS ?? 15);
const PEER_CONSUMERS = Number(process.env.BENCH_PEER_CONSUMERS ?? 1);
// The peer's JSON is ~10x the bytes of our Avro: 1M points are enough for a steady rate.
const PEER_POINTS = Math.min(POINTS, Number(process.env.BENCH_PEER_POINTS ?? 1_000_000));

const log = createLogger({ name: 'bench', level: 'warn' });
process.env.CLICKHOUSE_DATABASE ??= 'runstream_bench';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
startLocalStack(log);
await applyMigrations(log);
const settings = toClickHouseSettings(loadEnv(clickhouseEnv));
const ch = connectClickHouse(settings, 'admin');
const id = randomUUID().slice(0, 8);
const prefix = `bench.${id}.`;
const topics = topicNames(prefix);
const env = { ...process.env, KAFKA_TOPIC_PREFIX: prefix, INGEST_GROUP_ID: `bench-${id}`, LOG_LEVEL: 'warn', INGEST_BATCH_MAX_ROWS: String(BATCH_ROWS) };

/** Busy share of all cores between two /proc/stat readings. */
function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

async function count(where: ReturnType<typeof sql>): Promise<number> {
  const [r] = await queryRows<{ c: string }>(ch, sql`SELECT count() AS c FROM metric_points_v2 WHERE ${where}`);
  return Number(r!.c);
}

/** The points the benchmark produces, as the worker receives them: messages of 5000 points of one run. */
function makeUnits(entityPrefix: string, n: number, t0: number): MetricPointUnit[] {
  const units: MetricPointUnit[] = [];
  const perRun = Math.ceil(n / RUNS);
  let offset = 0;
  for (let run = 0; run < RUNS; run++) {
    for (let base = 0; base < perRun; base += 5000) {
      const points = [];
      for (let j = base; j < Math.min(base + 5000, perRun); j++) points.push({ key: KEYS[j % KEYS.length]!, value: Math.sin(j) * 10, step: Math.floor(j / KEYS.length), timestampMs: t0 + j });
      units.push({ entityKind: 'RUN', entityId: `${entityPrefix}${run}`, producer: '', srcTopic: 'ceiling', srcPartition: 0, srcOffset: offset++, points });
    }
  }
  return units;
}

/** Native blocks of at most BATCH_ROWS rows, as the worker builds them. */
function encodeBlocks(units: MetricPointUnit[], ingestedAt: number): Buffer[] {
  const blocks: Buffer[] = [];
  let batch: MetricPointUnit[] = [];
  let rows = 0;
  for (const u of units) {
    if (rows + u.points.length > BATCH_ROWS && batch.length > 0) {
      blocks.push(encodeMetricPointUnits(batch, ingestedAt));
      batch = [];
      rows = 0;
    }
    batch.push(u);
    rows += u.points.length;
  }
  if (batch.length > 0) blocks.push(encodeMetricPointUnits(batch, ingestedAt));
  return blocks;
}

// ---- 1. end to end -----------------------------------------------------------------------------------------
const admin = await createKafkaBus(loadEnv(kafkaEnv, env), log).admin();
await admin.ensureTopic(topics.metrics, 6);
await admin.ensureTopic(topics.metricsDeadLetter, 6);
await admin.disconnect();
// BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the worker.
const workerArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const worker = spawn(process.execPath, [...workerArgs, `${REPO_ROOT}/services/ingest-worker/src/main.ts`], { env, stdio: ['ignore', 'inherit', 'inherit'] });
// Never leave the worker behind, whatever happens to the benchmark.
process.on('exit', () => worker.kill('SIGKILL'));
const sdk = await createMetricsProducer({ brokers: loadEnv(kafkaEnv).brokers, topicPrefix: prefix, maxPointsPerMessage: 5000, lingerMs: 20, logger: log });
await new Promise((r) => setTimeout(r, 3000)); // worker joins the group

const e2ePrefix = `e2e-${id}-`;
// Probes: single points, sent and flushed on their own; latency = send → readable in ClickHouse.
const probeSdk = await createMetricsProducer({ brokers: loadEnv(kafkaEnv).brokers, topicPrefix: prefix, lingerMs: 0, logger: log });

// ---- 1a. freshness on an idle pipeline --------------------------------------------------------------------
await idleFreshness(ch, probeSdk, `warmup-${id}`, 5);
const idleLatencies = await idleFreshness(ch, probeSdk, `idle-${id}`, IDLE_SAMPLES);

// ---- 1b. end to end at full speed, with probes ---------------------------------------------------------------
const maxLoadProbes = probeDuringLoad(ch, probeSdk, `probe-${id}`);

const t0 = Date.now();
const cpuBefore = cpuTimes();
const started = performance.now();
const perRun = Math.ceil(POINTS / RUNS);
for (let base = 0; base < perRun; base += 1000) {
  for (let run = 0; run < RUNS; run++) {
    const points = [];
    for (let j = base; j < Math.min(base + 1000, perRun); j++) points.push({ key: KEYS[j % KEYS.length]!, value: Math.sin(j) * 10, step: Math.floor(j / KEYS.length), timestampMs: t0 + j });
    await sdk.logPoints({ run: `${e2ePrefix}${run}` }, points);
  }
}
await sdk.flush();
const produced = performance.now();
const expected = perRun * RUNS;
while ((await count(sql`startsWith(entity_id, ${e2ePrefix})`)) < expected) await new Promise((r) => setTimeout(r, 50));
const stored = performance.now();
const cpuAfter = cpuTimes();
const cpuBusy = (cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total);
const latencies = await maxLoadProbes.stop();
const e2eSeconds = (stored - started) / 1000;
const e2eRate = expected / e2eSeconds;

// ---- 1c. freshness at half the maximum sustained rate ---------------------------------------------------------
// Produced in 50 ms ticks of whole 1000-point messages per run, as above; the rate is what the full-speed run reached.
const halfRate = e2eRate / 2;
const halfPrefix = `half-${id}-`;
const halfProbes = probeDuringLoad(ch, probeSdk, `half-probe-${id}`);
const halfStarted = performance.now();
let halfSent = 0;
for (let tick = 0; performance.now() - halfStarted < LOADED_SECONDS * 1000; tick++) {
  const due = Math.floor((halfRate * (performance.now() - halfStarted)) / 1000);
  while (halfSent + 1000 <= due) {
    const run = Math.floor(halfSent / 1000) % RUNS;
    const points = [];
    for (let j = 0; j < 1000; j++) points.push({ key: KEYS[j % KEYS.length]!, value: j, step: halfSent + j, timestampMs: t0 + j });
    await sdk.logPoints({ run: `${halfPrefix}${run}` }, points);
    halfSent += 1000;
  }
  await sdk.flush();
  const next = halfStarted + (tick + 1) * 50;
  await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
}
const halfProduced = performance.now();
while ((await count(sql`startsWith(entity_id, ${halfPrefix})`)) < halfSent) await new Promise((r) => setTimeout(r, 20));
const halfDrainMs = performance.now() - halfProduced;
const halfAchieved = halfSent / ((halfProduced - halfStarted) / 1000);
const halfLatencies = await halfProbes.stop();

await sdk.close();
await probeSdk.close();
worker.kill('SIGTERM');
await new Promise((r) => worker.on('exit', r));


// ---- 2. ceilings: the same rows straight into ClickHouse ----------------------------------------------------
const units = makeUnits(`ceil-http-${id}-`, expected, t0);
const encStart = performance.now();
const blocks = encodeBlocks(units, Math.floor(t0 / 1000));
const encodeSeconds = (performance.now() - encStart) / 1000;
const httpStart = performance.now();
for (const b of blocks) await insertMetricPoints(ch, b);
const httpSeconds = (performance.now() - httpStart) / 1000;

const dir = mkdtempSync(join(tmpdir(), 'runstream-bench-'));
const file = join(dir, 'points.native');
writeFileSync(file, Buffer.concat(encodeBlocks(makeUnits(`ceil-native-${id}-`, expected, t0), Math.floor(t0 / 1000))));
const port = new URL(settings.url).port === '18123' ? '19000' : (process.env.CLICKHOUSE_TCP_PORT ?? '9000');
const cols = METRIC_ENTRY_COLUMNS.join(', ');
const nativeStart = performance.now();
const client = spawnSync('bash', ['-c', `clickhouse-client --host 127.0.0.1 --port ${port} --user ${settings.admin.user} --database ${settings.database} --min_insert_block_size_rows=100000000 --query "INSERT INTO ${METRIC_ENTRY_TABLE} (${cols}) FORMAT Native" < ${file}`], {
  env: { ...process.env, CLICKHOUSE_PASSWORD: settings.admin.password },
  encoding: 'utf8',
});
const nativeSeconds = (performance.now() - nativeStart) / 1000;
rmSync(dir, { recursive: true, force: true });
if (client.status !== 0) throw new Error(`clickhouse-client failed: ${client.stderr}`);
const checkNative = await count(sql`startsWith(entity_id, ${`ceil-native-${id}-`})`);
const checkHttp = await count(sql`startsWith(entity_id, ${`ceil-http-${id}-`})`);
if (checkNative !== expected || checkHttp !== expected) throw new Error(`ceiling row counts differ: http ${checkHttp}, native ${checkNative}, expected ${expected}`);

const httpRate = expected / httpSeconds;
const nativeRate = expected / nativeSeconds;

// ---- 3. peer: ClickHouse's Kafka table engine draining the same points ----------------------------------------
const peerPrefix = `peer-${id}-`;
const peerPerRun = Math.ceil(PEER_POINTS / RUNS);
const peerExpected = peerPerRun * RUNS;
function* peerPoints(): Generator<PeerPoint> {
  for (let base = 0; base < peerPerRun; base += 1000) {
    for (let run = 0; run < RUNS; run++) {
      for (let j = base; j < Math.min(base + 1000, peerPerRun); j++) yield { entityId: `${peerPrefix}${run}`, key: KEYS[j % KEYS.length]!, value: Math.sin(j) * 10, step: Math.floor(j / KEYS.length), timestampMs: t0 + j };
    }
  }
}
const peerTopic = `${prefix}peer.jsoneachrow`;
const peerGroup = `bench-peer-${id}`;
const brokers = loadEnv(kafkaEnv).brokers;
await prefillPeerTopic({ brokers, topic: peerTopic, group: peerGroup, partitions: 6, points: peerPoints(), rowsPerMessage: 1000 });
const peerSeconds = await drainWithKafkaEngine(ch, { brokers, topic: peerTopic, group: peerGroup, consumers: PEER_CONSUMERS, entityPrefix: peerPrefix, expected: peerExpected, name: `bench_peer_${id}` });
const peerRate = peerExpected / peerSeconds;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(0)} ms`;
const [version] = await queryRows<{ v: string }>(ch, sql`SELECT version() AS v`);
await ch.close();

console.log(`
Runstream pipeline benchmark — ${fmt(expected)} points (${RUNS} runs × ${KEYS.length} keys), ClickHouse ${version!.v}, batch ${fmt(BATCH_ROWS)} rows

  path                                          seconds     points/s    vs HTTP ceiling
  SDK → Kafka → worker → ClickHouse (end to end) ${e2eSeconds.toFixed(2).padStart(7)}  ${fmt(e2eRate).padStart(11)}    ${((e2eRate / httpRate) * 100).toFixed(0)} %
    of which producing into Kafka (SDK flush)    ${((produced - started) / 1000).toFixed(2).padStart(7)}  ${fmt(expected / ((produced - started) / 1000)).padStart(11)}
  ceiling: Native over HTTP, one stream          ${httpSeconds.toFixed(2).padStart(7)}  ${fmt(httpRate).padStart(11)}    100 %
    (+ encoding the blocks in Node)              ${encodeSeconds.toFixed(2).padStart(7)}  ${fmt(expected / encodeSeconds).padStart(11)}
  ceiling: clickhouse-client, Native             ${nativeSeconds.toFixed(2).padStart(7)}  ${fmt(nativeRate).padStart(11)}    ${((nativeRate / httpRate) * 100).toFixed(0)} %
  peer: ClickHouse Kafka engine, JSONEachRow     ${peerSeconds.toFixed(2).padStart(7)}  ${fmt(peerRate).padStart(11)}    ${((peerRate / httpRate) * 100).toFixed(0)} %   (${fmt(peerExpected)} points, ${PEER_CONSUMERS} consumer; end to end is ${(e2eRate / peerRate).toFixed(2)}x its rate)

  machine CPU busy during the end-to-end run: ${(cpuBusy * 100).toFixed(0)} % of ${cpus().length} cores (producer, broker, worker and ClickHouse share them)
  end to end / HTTP ceiling: ${((e2eRate / httpRate) * 100).toFixed(1)} %   end to end / clickhouse-client: ${((e2eRate / nativeRate) * 100).toFixed(1)} %

  produce → queryable (freshness)                 p50        p99        max    samples
    idle pipeline, one point at a time     ${ms(pct(idleLatencies, 50)).padStart(10)} ${ms(pct(idleLatencies, 99)).padStart(10)} ${ms(idleLatencies[idleLatencies.length - 1] ?? NaN).padStart(10)} ${String(idleLatencies.length).padStart(10)}
    at half the maximum rate (${fmt(halfAchieved)}/s) ${ms(pct(halfLatencies, 50)).padStart(10)} ${ms(pct(halfLatencies, 99)).padStart(10)} ${ms(halfLatencies[halfLatencies.length - 1] ?? NaN).padStart(10)} ${String(halfLatencies.length).padStart(10)}   (last point readable ${ms(halfDrainMs)} after the load ended)
    at the maximum rate (backlog)          ${ms(pct(latencies, 50)).padStart(10)} ${ms(pct(latencies, 99)).padStart(10)} ${ms(latencies[latencies.length - 1] ?? NaN).padStart(10)} ${String(latencies.length).padStart(10)}
`);
process.exit(0);
