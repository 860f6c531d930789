// The whole pipeline on the loopback cluster (deploy/cluster, scripts/cluster.ts): three Kafka brokers, ZooKeeper,
// 2 shards x 2 replicas of ClickHouse 18.16, two ingest workers and two query services. Writes through one query
// service are read through the other at once (read-your-writes across services and shards), every Kafka partition's
// rows sit on the shard the documented map names and on both of its replicas, and /health names every node.
// Faults on the cluster are the chaos suite's (`npm run chaos:cluster`).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseEnv, loadEnv, toClickHouseSettings } from '@runstream/config';
import { command, connectClickHouse, ident, localDatabaseOf, queryRows, sql } from '@runstream/clickhouse';
import { startCluster, stopService } from '../scripts/cluster.ts';
import { shardOfPartition } from '../services/ingest-worker/src/ingest-worker.ts';

// Ports of their own, so a cluster started by hand (`npm run cluster:start`, :8080) is left alone.
const QUERY_BASE = 28180;
const WORKER_BASE = 28190;
// Enough runs that both shards get some (run ids hash to the 6 partitions): all on one shard has odds 2^-19.
const RUNS = 20;
const prefix = `cl.${randomUUID().slice(0, 8)}.`;
const serviceEnv = { CLUSTER_QUERY_BASE_PORT: String(QUERY_BASE), CLUSTER_WORKER_METRICS_BASE_PORT: String(WORKER_BASE), KAFKA_TOPIC_PREFIX: prefix, INGEST_GROUP_ID: `cl-ingest-${prefix}`, LOG_LEVEL: 'warn' };
const savedEnv = { ...process.env };
let env: NodeJS.ProcessEnv;
const [q1, q2] = [`http://127.0.0.1:${QUERY_BASE}`, `http://127.0.0.1:${QUERY_BASE + 1}`];

async function mlflow(base: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

beforeAll(async () => {
  Object.assign(process.env, serviceEnv);
  env = await startCluster();
}, 600_000);

afterAll(async () => {
  for (const name of ['query1', 'query2', 'worker1', 'worker2']) await stopService(name).catch(() => undefined);
  process.env = savedEnv;
});

describe('the loopback cluster', () => {
  it('names every node in /health, all up', async () => {
    const body = (await (await fetch(`${q1}/health`)).json()) as { status: string; nodes: { kind: string; name: string; up: boolean }[] };
    expect(body.status).toBe('ok');
    const kinds = body.nodes.map((n) => n.kind);
    expect(kinds.filter((k) => k === 'kafka')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'zookeeper')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'clickhouse')).toHaveLength(4);
    expect(kinds.filter((k) => k === 'worker')).toHaveLength(2);
    expect(body.nodes.every((n) => n.up)).toBe(true);
  });

  it('reads through one query service what another just wrote, from runs spread over both shards', async () => {
    const { experiment_id } = await mlflow(q1, 'experiments/create', { name: `cluster-${prefix}` });
    const runs: string[] = [];
    for (let r = 0; r < RUNS; r++) {
      const { run } = await mlflow(q1, 'runs/create', { experiment_id, run_name: `r${r}` });
      runs.push(run.info.run_id);
      const metrics = Array.from({ length: 50 }, (_, step) => ({ key: 'loss', value: r + step / 100, timestamp: 1_700_000_000_000 + step, step }));
      await mlflow(q1, 'runs/log-batch', { run_id: run.info.run_id, metrics, params: [{ key: 'lr', value: String(r / 10) }] });
    }
    // The other query service, at once: every run, every point, every parameter.
    const found = await mlflow(q2, 'runs/search', { experiment_ids: [experiment_id], max_results: 100 });
    expect(found.runs).toHaveLength(RUNS);
    for (const run of found.runs) expect(run.data.params).toEqual([{ key: 'lr', value: expect.any(String) }]);
    for (const [r, runId] of runs.entries()) {
      const history = await fetch(`${q2}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=1000`).then((x) => x.json() as Promise<any>);
      expect(history.metrics.map((m: { step: number }) => m.step)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(history.metrics[49].value).toBe(r + 0.49);
    }
  });

  it('keeps each Kafka partition on the shard the map names, on both of its replicas', async () => {
    const settings = toClickHouseSettings(loadEnv(clickhouseEnv, env));
    const shards = settings.cluster!.shards;
    const local = localDatabaseOf(settings.database);
    const perReplica: { shard: number; partitions: Map<number, number> }[] = [];
    for (const [s, urls] of shards.entries()) {
      for (const url of urls) {
        const ch = connectClickHouse({ ...settings, url }, 'admin', { database: local });
        try {
          await command(ch, sql`SYSTEM SYNC REPLICA ${ident(local)}.metric_points_v2`);
          const rows = await queryRows<{ p: number; n: string }>(
            ch,
            sql`SELECT src_partition AS p, count() AS n FROM metric_points_v2 WHERE src_topic = ${`${prefix}metrics.v1`} GROUP BY p ORDER BY p`,
          );
          perReplica.push({ shard: s, partitions: new Map(rows.map((r) => [Number(r.p), Number(r.n)])) });
        } finally {
          await ch.close();
        }
      }
    }
    let total = 0;
    for (const [i, r] of perReplica.entries()) {
      for (const p of r.partitions.keys()) expect(shardOfPartition(p, shards.length), `partition ${p} on shard ${r.shard}`).toBe(r.shard);
      // The replicas of a shard hold the same rows.
      if (i % 2 === 1) expect(r.partitions).toEqual(perReplica[i - 1]!.partitions);
      else total += [...r.partitions.values()].reduce((a, b) => a + b, 0);
    }
    expect(total).toBe(RUNS * 50);
    expect(perReplica.filter((r) => r.partitions.size > 0).map((r) => r.shard).sort()).toEqual([0, 0, 1, 1]);
  });
});

