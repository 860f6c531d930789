// The fault scenarios of the cluster (issue 16): the SDK streams points to the private cluster's three brokers, two
// ingest workers write each Kafka partition to its shard (partition p -> shard p mod 2), and one server or worker is
// killed or stopped meanwhile. Every point is accounted for through the Distributed tables (sent, stored, lost,
// duplicated, exact sum, dead letters) plus a time to recover. Shared by scripts/chaos/run-cluster-chaos.ts (all)
// and test/chaos/cluster-chaos.test.ts (replica kill, shard down).
import { Kafka, logLevel } from 'kafkajs';
import { ident, queryRows, sql, type ClickHouse, type SqlFragment } from '@runstream/clickhouse';
import { topicsFor, waitFor } from '../support/pipeline-fixture.ts';
import { sleep, startQueryService, totals, type Workload } from './chaos-kit.ts';
import { CLUSTER_REPLICAS, CLUSTER_SHARDS, type PrivateCluster } from './private-cluster.ts';
import { midStream, pipelineScenario, timeToRecover, type FaultArgs, type Scenario } from './scenarios.ts';

type ClusterFault = FaultArgs<PrivateCluster>;

// About a minute of traffic, so every fault (and its recovery) falls inside the stream; 6 partitions, 3 per shard.
const WORKLOAD: Workload = { runs: 8, steps: 20_000, pointsPerSec: 3_000, badMessages: 8 };
// Two workers; a SIGKILLed one is noticed by the group within seconds.
const WORKERS = 2;
const ENV = { INGEST_SESSION_TIMEOUT_MS: '6000' };

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function count(ch: ClickHouse, query: SqlFragment): Promise<number> {
  const [row] = await queryRows<{ n: string }>(ch, query);
  return Number(row?.n ?? 0);
}

/** Rows of the scenario stored on one server's shard-local raw table (its shard's partitions only). */
function localPoints(ch: ClickHouse, prefix: string): Promise<number> {
  return count(ch, sql`SELECT count() AS n FROM metric_points_v2 WHERE startsWith(entity_id, ${prefix})`);
}

/** Row counts of every replicated table of a server's shard-local database. */
async function replicatedCounts(ch: ClickHouse): Promise<Map<string, number>> {
  const tables = await queryRows<{ name: string }>(ch, sql`SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE 'Replicated%' ORDER BY name`);
  const out = new Map<string, number>();
  for (const { name } of tables) out.set(name, await count(ch, sql`SELECT count() AS n FROM ${ident(name)}`));
  return out;
}

/** Per partition of the metrics topic, the broker (node id = servers.sh node number) leading it. */
async function partitionLeaders(env: NodeJS.ProcessEnv): Promise<Map<number, number>> {
  const admin = new Kafka({ clientId: 'chaos-leaders', brokers: env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topicsFor(env).metrics] });
    return new Map(topics[0]!.partitions.map((p) => [p.partitionId, p.leader]));
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** 1. kill -9 the broker leading the most partitions of the metrics topic; start it again 20 s later. */
export const brokerKill: Scenario<PrivateCluster> = {
  name: 'broker-kill',
  title: 'kill -9 the Kafka broker leading the most metrics partitions, restarted 20 s later (RF 3, min ISR 2; 2 workers)',
  run: (ctx) =>
    pipelineScenario(ctx, {
      name: 'broker-kill',
      title: brokerKill.title,
      workers: WORKERS,
      env: ENV,
      workload: WORKLOAD,
      fault: async (a: ClusterFault) => {
        await midStream(a, 0.25);
        const leaders = await partitionLeaders(a.env);
        const led = new Map<number, number[]>();
        for (const [p, b] of leaders) led.set(b, [...(led.get(b) ?? []), p]);
        const [victim, parts] = [...led].sort((x, y) => y[1].length - x[1].length)[0]!;
        a.ctx.say(`${a.name}: kill -9 broker ${victim} (leads partitions ${parts.join(',')}) at ${a.at()}`);
        await a.ctx.stack.node('kill', 'kafka', victim);
        const killedAt = Date.now();
        const recovered = timeToRecover(a, killedAt, `the kill of broker ${victim}`);
        await sleep(5_000);
        const after = await partitionLeaders(a.env).catch(() => undefined);
        await sleep(15_000);
        const start = await a.ctx.stack.node('start', 'kafka', victim);
        a.ctx.say(`${a.name}: broker ${victim} back at ${a.at()}`);
        return [
          `broker ${victim} led ${parts.length} of ${leaders.size} partitions (${parts.join(', ')}); SIGKILLed, restarted ${secs(Date.now() - killedAt)} later (start ${secs(start.ms)})`,
          after ? `leaders 5 s after the kill: ${[...after].map(([p, b]) => `p${p}→${b}`).join(' ')}` : 'leaders 5 s after the kill: metadata not available',
          await recovered,
        ];
      },
    }),
};

/** 2. kill -9 the replica the workers write a shard on, restart it 15 s later; it must catch up with its peer. */
export const replicaKill: Scenario<PrivateCluster> = {
  name: 'replica-kill',
  title: 'kill -9 the ClickHouse replica a shard is written on, during inserts; restarted 15 s later, it catches up (2 workers)',
  run: (ctx) => {
    const victim = 1; // shard 1, replica 1: the first healthy replica in the listed order, so the one written to
    const peer = 2;
    let inFlight = '';
    return pipelineScenario(ctx, {
      name: 'replica-kill',
      title: replicaKill.title,
      workers: WORKERS,
      env: ENV,
      workload: WORKLOAD,
      fault: async (a: ClusterFault) => {
        await midStream(a, 0.25);
        // During an insert: the kill lands while a worker's insert runs on the victim (its query id is known).
        const local = a.ctx.stack.local(victim);
        const running = await waitFor(
          'an insert running on the victim',
          async () => (await queryRows<{ query_id: string; ms: number }>(local, sql`SELECT query_id, elapsed * 1000 AS ms FROM system.processes WHERE startsWith(query_id, 'runstream-ingest|')`))[0],
          30_000,
          5,
        ).catch(() => undefined);
        a.ctx.stack.killClickHouseNow(victim);
        await local.close();
        a.ctx.say(`${a.name}: kill -9 ClickHouse node ${victim} at ${a.at()}${running ? ` during insert ${running.query_id}` : ''}`);
        inFlight = running ? `an insert had been running ${Math.round(running.ms)} ms on it (${running.query_id.split('|').slice(1, 3).join(' partitions ')})` : 'no insert seen running on it within 30 s';
        const killedAt = Date.now();
        const recovered = timeToRecover(a, killedAt, `the kill of replica ${victim}`);
        await sleep(15_000);
        const start = await a.ctx.stack.node('start', 'clickhouse', victim);
        a.ctx.say(`${a.name}: node ${victim} back at ${a.at()}`);
        return [`ClickHouse node ${victim} (shard 1, replica 1) SIGKILLed while ${inFlight}; restarted ${secs(Date.now() - killedAt)} later (start ${secs(start.ms)})`, await recovered];
      },
      check: async (pool, r) => {
        if (pool.count(/"msg":"insert failed, retrying"/) === 0) return ['no insert failed: the kill did not interrupt the inserts'];
        // After recovery the restarted replica holds what its peer holds, table by table.
        const [v, p] = [ctx.stack.local(victim), ctx.stack.local(peer)];
        const t0 = Date.now();
        let last = '';
        try {
          await waitFor(
            'the restarted replica to catch up',
            async () => {
              const [cv, cp] = await Promise.all([replicatedCounts(v), replicatedCounts(p)]);
              const differ = [...cp].filter(([t, n]) => cv.get(t) !== n).map(([t, n]) => `${t} ${cv.get(t)} vs ${n}`);
              last = differ.join(', ');
              if (differ.length === 0) r.notes.push(`replica ${victim} caught up: all ${cp.size} replicated tables hold the same row counts as replica ${peer} (checked ${secs(Date.now() - t0)} after the stream was stored; raw points ${cp.get('metric_points_v2')?.toLocaleString('en')})`);
              return differ.length === 0;
            },
            180_000,
            1_000,
          );
          return [];
        } catch {
          return [`replica ${victim} did not catch up with replica ${peer} within 180 s: ${last}`];
        } finally {
          await Promise.all([v.close(), p.close()]);
        }
      },
    });
  },
};

const READ_TOKEN = 'chaos-cluster-read-token-0123456789';

interface ReadTally {
  byStatus: Record<string, number>;
  firstFailure: string;
}

/** Reads one run's metric history through `base` every 250 ms until `running()` turns false. */
async function readLoop(base: string, prefix: string, tally: ReadTally, running: () => boolean): Promise<void> {
  while (running()) {
    let status = 'no answer';
    let body = '';
    try {
      const res = await fetch(`${base}/api/v1/runs/${prefix}0/metric-history?key=loss&max_results=100`, {
        headers: { authorization: `Bearer ${READ_TOKEN}` },
        signal: AbortSignal.timeout(20_000),
      });
      status = String(res.status);
      body = await res.text();
    } catch (err) {
      body = (err as Error).message;
    }
    tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
    if (status !== '200') tally.firstFailure ||= `${status} ${body.slice(0, 240)}`;
    await sleep(250);
  }
}

const statuses = (t: ReadTally) => Object.entries(t.byStatus).map(([s, n]) => `${s}×${n}`).join(' ') || 'none';

/**
 * 3. ZooKeeper stopped 30 s: replicated tables are read-only, inserts retry; reads through the query service go on.
 * Two query services read the same run meanwhile. One as deployed: its read-your-writes fence makes a read wait for
 * the points acknowledged before it, which cannot be stored while ZooKeeper is down, so after its budget (10 s) it
 * answers 503 + Retry-After by design — any other failure is one. The other watches topics with no pending writes
 * (an unused topic prefix), so its reads go straight to the Distributed tables: every one must answer 200.
 */
export const zookeeperStop: Scenario<PrivateCluster> = {
  name: 'zookeeper-stop',
  title: 'ZooKeeper stopped 30 s mid-stream: inserts retry, nothing lost, reads through the query service keep working (2 workers)',
  run: (ctx) => {
    const fenced: ReadTally = { byStatus: {}, firstFailure: '' };
    const direct: ReadTally = { byStatus: {}, firstFailure: '' };
    let servicesStarted = false;
    return pipelineScenario(ctx, {
      name: 'zookeeper-stop',
      title: zookeeperStop.title,
      workers: WORKERS,
      env: ENV,
      // Longer than the others: the query services start while it runs, and it must go on through the outage.
      workload: { ...WORKLOAD, steps: 30_000 },
      fault: async (a: ClusterFault) => {
        const tokens = { RUNSTREAM_API_TOKENS: `reader:${READ_TOKEN}:read` };
        const svc = await startQueryService(a.env, a.ctx.stack, tokens);
        const idle = await startQueryService({ ...a.env, KAFKA_TOPIC_PREFIX: `${a.env.KAFKA_TOPIC_PREFIX}idle.` }, a.ctx.stack, tokens).catch(async (err) => {
          await svc.stop('zookeeper-stop-service.log');
          throw err;
        });
        servicesStarted = true;
        await midStream(a, 0.2);
        let reading = true;
        const readers = Promise.all([readLoop(svc.base, a.prefix, fenced, () => reading), readLoop(idle.base, a.prefix, direct, () => reading)]);
        try {
          a.ctx.say(`${a.name}: stopping ZooKeeper at ${a.at()}`);
          const stop = await a.ctx.stack.node('stop', 'zookeeper');
          const sentAtStop = a.stream.sent();
          const storedAtStop = (await totals(a.ch, a.prefix)).count;
          await sleep(30_000);
          const storedDuring = (await totals(a.ch, a.prefix)).count - storedAtStop;
          const start = await a.ctx.stack.node('start', 'zookeeper');
          const backAt = Date.now();
          a.ctx.say(`${a.name}: ZooKeeper back at ${a.at()}`);
          const recovered = await timeToRecover(a, backAt, 'ZooKeeper back');
          return [
            `ZooKeeper stopped (${secs(stop.ms)}), down 30 s, started (${secs(start.ms)}); ${(a.stream.sent() - sentAtStop).toLocaleString('en')} points logged meanwhile, ${storedDuring.toLocaleString('en')} rows stored while it was down`,
            ...(sentAtStop >= a.total ? ['WARNING: every point had been logged before ZooKeeper stopped (the machine was slow): only the backlog met the outage'] : []),
            recovered,
          ];
        } finally {
          reading = false;
          await readers;
          await Promise.all([svc.stop('zookeeper-stop-service.log'), idle.stop('zookeeper-stop-service-idle.log')]);
        }
      },
      check: (pool, r) => {
        r.notes.push(`reads through the query service during the outage and recovery: ${statuses(direct)} (no pending writes to wait for); ${statuses(fenced)} (read-your-writes: waits for the points acknowledged before the read)`);
        const failures: string[] = [];
        if (!servicesStarted) failures.push('the query services did not start');
        const directFailed = Object.entries(direct.byStatus).filter(([s]) => s !== '200');
        if (directFailed.length > 0) failures.push(`reads through the query service failed while ZooKeeper was down: ${statuses(direct)}, first: ${direct.firstFailure}`);
        if (!direct.byStatus['200']) failures.push('no read through the query service succeeded');
        const fencedFailed = Object.entries(fenced.byStatus).filter(([s]) => s !== '200' && s !== '503');
        if (fencedFailed.length > 0) failures.push(`read-your-writes reads answered other than 200 or 503 + Retry-After: ${statuses(fenced)}, first: ${fenced.firstFailure}`);
        if (pool.count(/"msg":"insert failed, retrying"/) === 0) r.notes.push('no insert failed while ZooKeeper was down (nothing to insert?)');
        return failures;
      },
    });
  },
};

/** 4. One of the two workers SIGKILLed mid-stream; the other takes its partitions over. */
export const workerKill: Scenario<PrivateCluster> = {
  name: 'worker-kill',
  title: 'kill -9 one of 2 workers mid-stream, the other takes over (INGEST_SESSION_TIMEOUT_MS=6000)',
  run: (ctx) => {
    let victimId: number | undefined;
    return pipelineScenario(ctx, {
      name: 'worker-kill',
      title: workerKill.title,
      workers: WORKERS,
      supervise: false,
      env: ENV,
      workload: WORKLOAD,
      fault: async (a: ClusterFault) => {
        await midStream(a, 0.3);
        const stored = () => a.pool.workers.filter((w) => /first batch stored/.test(w.proc.output()));
        await waitFor('both workers stored a batch', async () => stored().length >= 2, 30_000, 50).catch(() => undefined);
        const victim = stored().find((w) => w === a.pool.workers[1]) ?? stored()[0] ?? a.pool.workers[1]!;
        victimId = victim.id;
        await a.pool.kill(victim, 'SIGKILL');
        const killedAt = Date.now();
        a.ctx.say(`${a.name}: worker ${victim.id} SIGKILLed at ${a.at()}`);
        return [await timeToRecover(a, killedAt, `the kill of worker ${victim.id}`)];
      },
      check: (pool) => {
        const victim = pool.workers.find((w) => w.id === victimId);
        const survivor = pool.workers.find((w) => w.id !== victimId);
        const failures: string[] = [];
        if (!victim || !/first batch stored/.test(victim.proc.output())) failures.push('the killed worker had not stored anything: the kill interrupted no member with partitions');
        if (!survivor || survivor.exitedAt !== undefined) failures.push('the surviving worker did not stay alive');
        return failures;
      },
    });
  },
};

/**
 * 5. Both replicas of shard 2 down for 30 s (SIGKILL, so the outage starts at a known instant: a graceful stop of
 * ClickHouse 18.16 keeps serving open keep-alive connections for up to 40 s under load), then started again:
 * shard 1's partitions keep flowing: shard 1's partitions keep flowing, shard 2's catch up afterwards. */
export const shardDown: Scenario<PrivateCluster> = {
  name: 'shard-down',
  title: 'a whole shard down 30 s (both replicas of shard 2 killed, then started): the other shard keeps flowing, the lagging partitions catch up (2 workers)',
  run: (ctx) => {
    const downShard = CLUSTER_SHARDS - 1; // 0-based: shard 2 holds the odd partitions
    const upNode = 1;
    let flowed = 0;
    return pipelineScenario(ctx, {
      name: 'shard-down',
      title: shardDown.title,
      workers: WORKERS,
      env: ENV,
      // Longer than the others: the stream goes on through the whole outage and after it.
      workload: { ...WORKLOAD, steps: 30_000 },
      fault: async (a: ClusterFault) => {
        await midStream(a, 0.2);
        const nodes = a.ctx.stack.nodesOfShard(downShard);
        for (const n of nodes) a.ctx.stack.killClickHouseNow(n);
        const goneAt = Date.now();
        a.ctx.say(`${a.name}: ClickHouse nodes ${nodes.join(', ')} (shard ${downShard + 1}) killed at ${a.at()}`);
        // The up shard's own table, read on its server: the Distributed tables cannot answer with a shard down.
        const up = a.ctx.stack.local(upNode);
        const upBefore = await localPoints(up, a.prefix);
        const sentBefore = a.stream.sent();
        await sleep(30_000);
        const upAfter = await localPoints(up, a.prefix);
        await up.close();
        const sentDuring = a.stream.sent() - sentBefore;
        flowed = upAfter - upBefore;
        await Promise.all(nodes.map((n) => a.ctx.stack.node('start', 'clickhouse', n)));
        const backAt = Date.now();
        a.ctx.say(`${a.name}: shard ${downShard + 1} back at ${a.at()}`);
        const upParts = Array.from({ length: 6 }, (_, p) => p).filter((p) => p % CLUSTER_SHARDS !== downShard);
        return [
          `ClickHouse nodes ${nodes.join(' and ')} (shard ${downShard + 1}, both of its ${CLUSTER_REPLICAS} replicas) SIGKILLed, down ${secs(backAt - goneAt)} (30 s + their start)`,
          `while shard ${downShard + 1} was down: shard 1 (partitions ${upParts.join(', ')}) stored ${flowed.toLocaleString('en')} rows, of ${sentDuring.toLocaleString('en')} points logged meanwhile`,
          await timeToRecover(a, backAt, `shard ${downShard + 1} back`),
        ];
      },
      check: () => (flowed > 0 ? [] : [`shard 1 stored nothing while shard ${downShard + 1} was down: its partitions did not keep flowing`]),
    });
  },
};

/**
 * In the order `npm run chaos:cluster` runs them. The broker kill goes last: the killed broker recovers its logs for
 * a minute or more after its restart and slows every acknowledgement meanwhile, which would blur the next scenario.
 */
export const CLUSTER_SCENARIOS: Scenario<PrivateCluster>[] = [replicaKill, workerKill, shardDown, zookeeperStop, brokerKill];
