// The fault scenarios. Each streams a known set of points SDK → Kafka → ingest worker(s) → ClickHouse on the
// private stack while a fault is injected, then accounts for every point: sent, stored, dead-lettered, lost,
// duplicated, exact sum. Shared by scripts/chaos/run-chaos.ts (all of them) and test/chaos/broker-restart.test.ts.
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { command, ident, queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import { apiFuzz, decoderFuzz } from './fuzz-scenarios.ts';
import { clickhouseFor, waitFor } from '../support/pipeline-fixture.ts';
import type { ChaosStack, PrivateStack } from './private-stack.ts';
import {
  account,
  createTopics,
  deadLetters,
  settle,
  sleep,
  startQueryService,
  startStream,
  scenarioEnv,
  totals,
  WorkerPool,
  type ChaosContext,
  type LatencyReport,
  type ScenarioResult,
  type StreamHandle,
  type Workload,
} from './chaos-kit.ts';

export interface Scenario<S extends ChaosStack = PrivateStack> {
  name: string;
  title: string;
  /** Not in the default `npm run chaos` set (time budget); run by name or with CHAOS_ALL=1. */
  optional?: boolean;
  run(ctx: ChaosContext<S>): Promise<ScenarioResult>;
}

export interface FaultArgs<S extends ChaosStack = PrivateStack> {
  name: string;
  ctx: ChaosContext<S>;
  pool: WorkerPool;
  stream: StreamHandle;
  ch: ClickHouse;
  /** The scenario's environment (topics, group, servers). */
  env: NodeJS.ProcessEnv;
  prefix: string;
  total: number;
  /** Seconds since the scenario started, for notes. */
  at: () => string;
  /** Records the scenario's time to recover (see timeToRecover). */
  setRecovery: (ms: number) => void;
}

export interface PipelineSpec<S extends ChaosStack = PrivateStack> {
  name: string;
  title: string;
  workers: number;
  env?: Record<string, string>;
  workload: Workload;
  /** Restart workers that exit on their own (default true). */
  supervise?: boolean;
  /** Injects the fault while the stream runs; returns notes for the report. */
  fault: (a: FaultArgs<S>) => Promise<string[]>;
  /** Checks after the counts (e.g. that the fault really happened); returns failures. */
  check?: (pool: WorkerPool, r: ScenarioResult) => string[] | Promise<string[]>;
}

/** Resolves once `fraction` of the points were handed to the SDK and the first batch is stored. */
export async function midStream<S extends ChaosStack>(a: FaultArgs<S>, fraction: number): Promise<void> {
  await waitFor('first points stored', async () => (await totals(a.ch, a.prefix)).count > 0, 90_000, 200);
  await waitFor(`${Math.round(fraction * 100)}% of the stream sent`, async () => a.stream.sent() >= fraction * a.total, 120_000, 50);
}

/**
 * Time to recover: from `since` (the end of a fault, or the kill of a node the rest must do without) until every
 * point handed to the SDK by now is stored. Records it for the report and returns a note.
 */
export async function timeToRecover<S extends ChaosStack>(a: FaultArgs<S>, since: number, what: string, timeoutMs = 300_000): Promise<string> {
  const sentThen = a.stream.sent();
  try {
    await waitFor('the points sent before the fault ended to be stored', async () => ((await totals(a.ch, a.prefix).catch(() => undefined))?.distinct ?? 0) >= sentThen, timeoutMs, 500);
  } catch {
    return `time to recover: not within ${timeoutMs / 1000} s of ${what}`;
  }
  const ms = Date.now() - since;
  a.setRecovery(ms);
  return `time to recover ${(ms / 1000).toFixed(1)} s: from ${what} until all ${sentThen.toLocaleString('en')} points sent by then were stored`;
}

/**
 * `clickhouse.sh stop`, `downMs` of nothing, `clickhouse.sh start`. The stop is a SIGTERM: ClickHouse 18.16 keeps
 * answering requests on already open keep-alive connections (the workers') until the process exits, which takes
 * 15-25 s under load, so "down" is counted from the moment the stop script returned (the process is gone).
 */
async function clickhouseDown(a: FaultArgs, downMs: number): Promise<string[]> {
  await midStream(a, 0.1);
  a.ctx.say(`${a.name}: stopping ClickHouse at ${a.at()}`);
  const stop = await a.ctx.stack.clickhouse('stop');
  const goneAt = Date.now();
  const sentAtGone = a.stream.sent();
  a.ctx.say(`${a.name}: ClickHouse gone at ${a.at()} (stop took ${(stop.ms / 1000).toFixed(1)} s); starting it in ${downMs / 1000} s`);
  await sleep(downMs);
  const start = await a.ctx.stack.clickhouse('start');
  const notes = [
    `clickhouse.sh stop took ${(stop.ms / 1000).toFixed(1)} s (SIGTERM; it kept serving open keep-alive connections until it exited); then down ${((Date.now() - goneAt) / 1000).toFixed(1)} s incl. a ${start.ms} ms start; ${(a.stream.sent() - sentAtGone).toLocaleString('en')} points logged while it was down`,
  ];
  if (sentAtGone >= a.total) notes.push('WARNING: the stream was already complete when ClickHouse went down (the machine was slow): the outage was not mid-stream');
  a.ctx.say(`${a.name}: ClickHouse back at ${a.at()}`);
  return notes;
}

export function workerNotes(pool: WorkerPool): string[] {
  const counts: [string, RegExp][] = [
    ['insert retries', /"msg":"insert failed, retrying"/],
    ['retries that found the batch already stored', /previous insert attempt had landed/],
    ['partition resumes from stored progress', /"msg":"resuming partition after stored offset"/],
    ['batches with already-stored messages skipped', /"msg":"skipped messages already stored"/],
    ['failed offset commits', /"msg":"offset commit failed/],
    ['kafkajs consumer crashes (restarted)', /"msg":"Crash: /],
    ['rejoins after eviction', /The coordinator is not aware of this member/],
  ];
  const parts = counts.map(([label, re]) => [label, pool.count(re)] as const).filter(([, n]) => n > 0);
  const live = pool.alive().length;
  return [
    `workers started ${pool.workers.length}, alive at the end ${live}${parts.length ? `; ${parts.map(([l, n]) => `${l}: ${n}`).join(', ')}` : ''}`,
  ];
}

export async function pipelineScenario<S extends ChaosStack>(ctx: ChaosContext<S>, spec: PipelineSpec<S>): Promise<ScenarioResult> {
  const t0 = Date.now();
  const at = () => `t+${((Date.now() - t0) / 1000).toFixed(1)}s`;
  const { env, prefix } = scenarioEnv(ctx.stack, spec.name, spec.env);
  const total = spec.workload.runs * spec.workload.steps;
  await createTopics(env, ctx.log);
  const ch = ctx.stack.reader(env);
  const pool = new WorkerPool(env, t0);
  pool.supervise(spec.supervise ?? true);
  let faultNotes: string[] = [];
  let faultError: string | undefined;
  let recoveryMs: number | undefined;
  try {
    for (let i = 0; i < spec.workers; i++) pool.spawn();
    await pool.ready();
    ctx.say(`${spec.name}: ${spec.workers} worker(s) running, streaming ${total.toLocaleString('en')} points`);
    const stream = await startStream(env, prefix, spec.workload, ctx.log);
    try {
      faultNotes = await spec.fault({ name: spec.name, ctx, pool, stream, ch, env, prefix, total, at, setRecovery: (ms) => (recoveryMs = ms) });
    } catch (err) {
      faultError = `fault injection failed: ${(err as Error).message}`;
      // Leave the servers running for the next scenario.
      await ctx.stack.heal();
    }
    const sent = await stream.done;
    ctx.say(`${spec.name}: stream done at ${at()} (${sent.sdkError ? `SDK error: ${sent.sdkError}` : 'all acknowledged'}); waiting for the workers`);
    const t = await settle(ch, prefix, sent.sent);
    const dlq = await deadLetters(env, spec.workload.badMessages, ctx.log);
    const r = account(spec.name, spec.title, sent, t, dlq, spec.workload.badMessages, Date.now() - t0);
    r.notes.push(...faultNotes, ...pool.events, ...workerNotes(pool));
    if (recoveryMs !== undefined) r.recoveryMs = recoveryMs;
    if (faultError) r.error = faultError;
    r.failures.push(...((await spec.check?.(pool, r)) ?? []));
    return r;
  } finally {
    await pool.stopAll();
    const file = pool.saveLog(spec.name);
    ctx.log.info({ file }, 'worker logs saved');
    await ch.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** 1. ClickHouse stopped for 30 s mid-stream, then started again; one worker, default stall budget. */
export const clickhouseOutage: Scenario = {
  name: 'clickhouse-outage',
  title: 'ClickHouse down 30 s mid-stream (1 worker, default INGEST_FLUSH_STALL_BUDGET_MS)',
  run: (ctx) =>
    pipelineScenario(ctx, {
      name: 'clickhouse-outage',
      title: clickhouseOutage.title,
      workers: 1,
      // 60 s of traffic: the outage (after a SIGTERM drain that can take 15-25 s) falls in the middle of it.
      workload: { runs: 8, steps: 18_750, pointsPerSec: 2_500, badMessages: 16 },
      fault: (a) => clickhouseDown(a, 30_000),
      check: (pool, r) => {
        const first = pool.workers[0]!;
        r.notes.push(
          first.exitedAt === undefined
            ? 'outcome: the worker rode out the outage and stayed alive'
            : `outcome: the worker exited by design after its stall budget (${((first.exitedAt - first.startedAt) / 1000).toFixed(1)} s after start); a restarted worker completed the stream`,
        );
        return [];
      },
    }),
};

/** 1b. The same outage, shorter than the stall budget, with two workers in the group and the minimum session timeout. */
export const clickhouseOutageGroup: Scenario = {
  name: 'clickhouse-outage-2w',
  optional: true,
  title: 'ClickHouse down 15 s mid-stream, 2 workers in one group (INGEST_SESSION_TIMEOUT_MS=6000)',
  run: (ctx) =>
    pipelineScenario(ctx, {
      name: 'clickhouse-outage-2w',
      title: clickhouseOutageGroup.title,
      workers: 2,
      env: { INGEST_SESSION_TIMEOUT_MS: '6000' },
      workload: { runs: 8, steps: 12_500, pointsPerSec: 2_500, badMessages: 12 },
      fault: (a) => clickhouseDown(a, 15_000),
    }),
};

/** 2. The Kafka broker restarted mid-stream (graceful stop + start of the only broker). */
export const kafkaRestart: Scenario = {
  name: 'kafka-restart',
  title: 'Kafka broker restarted mid-stream (kafka.sh restart; 2 workers)',
  run: (ctx) =>
    pipelineScenario(ctx, {
      name: 'kafka-restart',
      title: kafkaRestart.title,
      workers: 2,
      workload: { runs: 8, steps: 18_750, pointsPerSec: 5_000, badMessages: 16 },
      fault: async (a) => {
        await midStream(a, 0.2);
        const before = a.stream.sent();
        a.ctx.say(`kafka-restart: restarting the broker at ${a.at()}`);
        const r = await a.ctx.stack.kafka('restart');
        a.ctx.say(`kafka-restart: broker back at ${a.at()}`);
        return [`broker restart took ${(r.ms / 1000).toFixed(1)} s (graceful stop + start + health check); ${(a.stream.sent() - before).toLocaleString('en')} points logged meanwhile`];
      },
    }),
};

/** 3. Three workers in one group; one SIGKILLed and one added while points stream in. */
export const rebalance: Scenario = {
  name: 'rebalance',
  title: '3 workers in one group: one SIGKILLed, one added mid-stream (INGEST_SESSION_TIMEOUT_MS=6000)',
  run: (ctx) => {
    let victimId: number | undefined;
    return pipelineScenario(ctx, {
      name: 'rebalance',
      title: rebalance.title,
      workers: 3,
      // Not supervised: the killed worker stays dead, its partitions must move.
      supervise: false,
      env: { INGEST_SESSION_TIMEOUT_MS: '6000', INGEST_BATCH_LINGER_MS: '100' },
      workload: { runs: 8, steps: 25_000, pointsPerSec: 8_000, badMessages: 16 },
      fault: async (a) => {
        await midStream(a, 0.2);
        // The victim is a member that has stored data (which of the three got partitions with data is up to the
        // group's assignment, and on a loaded machine one may get none for a while).
        const stored = () => a.pool.workers.filter((w) => /first batch stored/.test(w.proc.output()));
        await waitFor('two workers stored a batch', async () => stored().length >= 2, 30_000, 50).catch(() => undefined);
        const victim = stored().find((w) => w === a.pool.workers[1]) ?? stored()[0] ?? a.pool.workers[1]!;
        victimId = victim.id;
        await sleep(Math.random() * 500);
        await a.pool.kill(victim, 'SIGKILL');
        a.ctx.say(`rebalance: worker ${victim.id} SIGKILLed at ${a.at()}`);
        await waitFor('45% sent', async () => a.stream.sent() >= 0.45 * a.total, 60_000, 50);
        const added = a.pool.spawn();
        a.ctx.say(`rebalance: worker ${added.id} added at ${a.at()}`);
        await waitFor('added worker stored a batch', async () => /first batch stored/.test(added.proc.output()), 60_000, 100).catch(() => undefined);
        return [];
      },
      check: (pool) => {
        const failures: string[] = [];
        const added = pool.workers[3];
        const victim = pool.workers.find((w) => w.id === victimId);
        if (!victim || !/first batch stored/.test(victim.proc.output())) failures.push('the killed worker had not stored anything: the kill did not interrupt a member with partitions');
        if (!added || !/first batch stored/.test(added.proc.output())) failures.push('the added worker never got partitions with data');
        return failures;
      },
    });
  },
};

/**
 * 3b. A worker frozen longer than the session timeout (SIGSTOP 15 s, then SIGCONT) while the other takes its
 * partitions over: the frozen worker wakes up with a batch in memory for partitions it no longer owns.
 */
export const workerPause: Scenario = {
  name: 'worker-pause',
  title: '2 workers, one frozen 15 s (SIGSTOP/SIGCONT) mid-stream (INGEST_SESSION_TIMEOUT_MS=6000)',
  run: (ctx) =>
    pipelineScenario(ctx, {
      name: 'worker-pause',
      title: workerPause.title,
      workers: 2,
      supervise: false,
      env: { INGEST_SESSION_TIMEOUT_MS: '6000' },
      workload: { runs: 8, steps: 12_500, pointsPerSec: 4_000, badMessages: 12 },
      fault: async (a) => {
        await midStream(a, 0.2);
        const victim = a.pool.workers[1]!;
        await waitFor('victim stored a batch', async () => /first batch stored/.test(victim.proc.output()), 30_000, 50).catch(() => undefined);
        a.ctx.say(`${a.name}: freezing worker ${victim.id} at ${a.at()} for 15 s`);
        await a.pool.pause(victim, 15_000);
        a.ctx.say(`${a.name}: worker ${victim.id} resumed at ${a.at()}`);
        return [];
      },
      check: (pool, r) => {
        const victim = pool.workers[1]!;
        // After SIGCONT, the frozen worker finishes what it held: insert, then a commit the group refuses.
        const refused = victim.proc.output().split('\n').filter((l) => /offset commit failed/.test(l) && /not aware of this member/.test(l)).length;
        if (refused > 0) {
          r.notes.push(`after SIGCONT worker ${victim.id} finished its held batch and then had ${refused} offset commit(s) refused ("not aware of this member"): it stored rows for partitions the group had already given to worker 1`);
        }
        return [];
      },
    }),
};

// ---------------------------------------------------------------------------------------------------------------
// 4. Query service under a burst of expensive requests.

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const BURST = {
  requests: Number(process.env.CHAOS_BURST_REQUESTS ?? 300),
  concurrency: Number(process.env.CHAOS_BURST_CONCURRENCY ?? 100),
  runs: 4,
  steps: 25_000,
  rssLimitMb: 1024,
  /** How long the burst client keeps retrying one expensive request after 503 + Retry-After before giving up. */
  retryBudgetMs: 120_000,
  /** Cheap requests during the burst must stay fast: p99 bound for /health and a small read by another token. */
  cheapP99LimitMs: 1_000,
  /** Above this CPU pressure (PSI some avg60) other workloads hold the machine and the latency bound is not judged. */
  starvedCpuPressurePct: 50,
};

const BURST_TOKEN = 'chaos-burst-token-0123456789';
const PROBE_TOKEN = 'chaos-probe-token-0123456789';

function stats(values: number[]): { count: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...values].sort((x, y) => x - y);
  return {
    count: sorted.length,
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
    maxMs: Math.round(sorted[sorted.length - 1] ?? 0),
  };
}

export const queryBurst: Scenario = {
  name: 'query-burst',
  title: `Query service: ${BURST.requests} metric-history requests (max_results=25000) by one token, ${BURST.concurrency} in flight; cheap requests by another token meanwhile`,
  async run(ctx) {
    const t0 = Date.now();
    const { env, prefix } = scenarioEnv(ctx.stack, 'query-burst');
    const workload: Workload = { runs: BURST.runs, steps: BURST.steps, pointsPerSec: 25_000, badMessages: 4 };
    await createTopics(env, ctx.log);
    const ch = clickhouseFor('admin', env);
    const pool = new WorkerPool(env, t0);
    pool.spawn();
    let result: ScenarioResult;
    try {
      await pool.ready();
      const stream = await startStream(env, prefix, workload, ctx.log);
      const sent = await stream.done;
      const t = await settle(ch, prefix, sent.sent);
      const dlq = await deadLetters(env, workload.badMessages, ctx.log);
      result = account('query-burst', queryBurst.title, sent, t, dlq, workload.badMessages, 0);
    } finally {
      await pool.stopAll();
      await ch.close();
    }
    ctx.say(`query-burst: ${result.stored.toLocaleString('en')} points seeded at +${((Date.now() - t0) / 1000).toFixed(1)} s; starting the query service`);

    // The real query service process (services/query-service/src/main.ts) with its default admission control, so its
    // memory is measured alone. Rate limits are out of the way: this is about concurrency, not request rates.
    const svc = await startQueryService(env, ctx.stack, {
      RUNSTREAM_API_TOKENS: `burst:${BURST_TOKEN}:read,probe:${PROBE_TOKEN}:read`,
      // CHAOS_QUERY_X=v sets QUERY_X=v, e.g. CHAOS_QUERY_TARGET_LAG_MS=0 to compare without the adaptive limit.
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CHAOS_QUERY_')).map(([k, v]) => [k.slice('CHAOS_'.length), v])),
    });
    const base = svc.base;
    const burstAuth = { authorization: `Bearer ${BURST_TOKEN}` };
    const probeAuth = { authorization: `Bearer ${PROBE_TOKEN}` };
    try {
      // Warm up (JIT, connection pool, the service-time estimate), then measure the resting RSS.
      for (let i = 0; i < 5; i++) await (await fetch(`${base}/api/v1/runs/${prefix}0/metric-history?key=loss&max_results=25000`, { headers: burstAuth })).arrayBuffer();
      for (let i = 0; i < 5; i++) await (await fetch(`${base}/api/v1/runs/${prefix}1/metric-history?key=loss&max_results=10`, { headers: probeAuth })).arrayBuffer();
      await sleep(500);
      const baseRss = rssMb(svc.child.pid!);
      let peakRss = baseRss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(svc.child.pid!))), 50);
      const served: number[] = [];
      const shed: number[] = [];
      const byStatus: Record<string, number> = {};
      let errors = 0;
      let gaveUp = 0;
      let maxAttempts = 1;
      let wrongBodies = 0;
      let next = 0;
      const burstStart = Date.now();
      const expensive = async () => {
        while (next < BURST.requests) {
          const i = next++;
          const startStep = Math.floor(Math.random() * 5_000);
          const url = `${base}/api/v1/runs/${prefix}${i % BURST.runs}/metric-history?key=loss&max_results=25000&start_step=${startStep}`;
          const firstAttempt = performance.now();
          for (let attempt = 1; ; attempt++) {
            const t = performance.now();
            try {
              const res = await fetch(url, { headers: burstAuth, signal: AbortSignal.timeout(120_000) });
              const body = await res.text();
              const ms = performance.now() - t;
              byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
              if (res.status === 503) {
                shed.push(ms);
                maxAttempts = Math.max(maxAttempts, attempt + 1);
                if (performance.now() - firstAttempt > BURST.retryBudgetMs) {
                  gaveUp++;
                  break;
                }
                // A well-behaved client: wait what Retry-After says, with jitter so retries do not arrive in lockstep.
                const after = Number(res.headers.get('retry-after') ?? 1);
                await sleep(after * 1000 * (0.5 + Math.random()));
                continue;
              }
              if (res.status === 200) {
                served.push(ms);
                // Every 5th answer checked in full: the page must hold exactly the points from start_step on.
                if (i % 5 === 0) {
                  const points = (JSON.parse(body) as { points: { step: number }[] }).points;
                  if (points.length !== BURST.steps - startStep || points[0]?.step !== startStep) wrongBodies++;
                }
              }
            } catch {
              errors++;
            }
            break;
          }
        }
      };
      // Cheap requests while the burst runs, one at a time each: liveness, and a small read by another client.
      const probeThread = new Worker(new URL('./probe-thread.ts', import.meta.url), {
        workerData: {
          pauseMs: 50,
          probes: [
            { name: 'health', url: `${base}/health`, headers: {} },
            { name: 'smallRead', url: `${base}/api/v1/runs/${prefix}1/metric-history?key=loss&max_results=10`, headers: probeAuth },
          ],
        },
      });
      const probed = new Promise<Record<'health' | 'smallRead', { latencies: number[]; failed: number }>>((resolve, reject) => {
        probeThread.once('message', resolve);
        probeThread.once('error', reject);
      });
      await Promise.all(Array.from({ length: BURST.concurrency }, expensive));
      probeThread.postMessage('stop');
      const probes = await probed;
      await probeThread.terminate();
      const healthMs = probes.health.latencies;
      const smallMs = probes.smallRead.latencies;
      const healthFailed = probes.health.failed;
      const smallFailed = probes.smallRead.failed;
      const burstMs = Date.now() - burstStart;
      clearInterval(sampler);
      peakRss = Math.max(peakRss, rssMb(svc.child.pid!, 'VmHWM'));
      const latency: LatencyReport = {
        requests: BURST.requests,
        concurrency: BURST.concurrency,
        byStatus,
        gaveUp,
        errors,
        served: stats(served),
        shed: stats(shed),
        health: { ...stats(healthMs), failed: healthFailed },
        smallRead: { ...stats(smallMs), failed: smallFailed },
        burstMs,
        throughputPerSec: Math.round((served.length / burstMs) * 1000),
        baseRssMb: Math.round(baseRss),
        peakRssMb: Math.round(peakRss),
        wrongBodies,
      };
      result.latency = latency;
      const bad5xx = Object.entries(byStatus).filter(([s]) => Number(s) >= 500 && s !== '503');
      const unexpected = Object.entries(byStatus).filter(([s]) => !['200', '503'].includes(s) && Number(s) < 500);
      if (bad5xx.length) result.failures.push(`5xx other than 503: ${bad5xx.map(([s, n]) => `${n}×${s}`).join(', ')}`);
      if (unexpected.length) result.failures.push(`unexpected statuses: ${unexpected.map(([s, n]) => `${n}×${s}`).join(', ')}`);
      if (errors) result.failures.push(`${errors} requests got no answer (connection error or 120 s timeout)`);
      if (gaveUp) result.failures.push(`${gaveUp} requests still refused after retrying for ${BURST.retryBudgetMs / 1000} s`);
      if (wrongBodies) result.failures.push(`${wrongBodies} answers with the wrong points`);
      if (healthFailed || smallFailed) result.failures.push(`cheap requests failed during the burst: /health ${healthFailed}, small read ${smallFailed}`);
      if (peakRss > BURST.rssLimitMb) result.failures.push(`query service RSS peaked at ${Math.round(peakRss)} MB (> ${BURST.rssLimitMb} MB)`);
      if (svc.child.exitCode !== null) result.failures.push(`query service exited during the burst (code ${svc.child.exitCode})`);
      // How starved the whole machine was for CPU (Linux PSI): on a shared machine the latencies mean little without it.
      const psi = /^some avg10=([\d.]+) avg60=([\d.]+)/m.exec((() => {
        try {
          return readFileSync('/proc/pressure/cpu', 'utf8');
        } catch {
          return '';
        }
      })());
      if (psi) result.notes.push(`machine CPU pressure at the end of the burst: some tasks waiting for a CPU ${psi[1]} % of the last 10 s, ${psi[2]} % of the last 60 s (/proc/pressure/cpu)`);
      // The cheap-request bound is judged only when the machine itself was not starved for CPU: with other
      // workloads holding the cores, every process stalls and the figure says nothing about the service.
      const starved = psi !== null && Number(psi[2]) > BURST.starvedCpuPressurePct;
      for (const [name, st] of [['/health', latency.health], ['small read', latency.smallRead]] as const) {
        if (st.p99Ms <= BURST.cheapP99LimitMs) continue;
        const msg = `${name} p99 ${st.p99Ms} ms during the burst (> ${BURST.cheapP99LimitMs} ms)`;
        if (starved) result.notes.push(`not judged: ${msg}, with the machine CPU-starved (> ${BURST.starvedCpuPressurePct} % pressure)`);
        else result.failures.push(msg);
      }
      const shedMetrics = ((await (await fetch(`${base}/metrics`)).text()).match(/^runstream_api_shed_total\{reason="[a-z_]+"\} \d+/gm) ?? []).map((l) => l.replace(/^runstream_api_shed_total\{reason="([a-z_]+)"\} (\d+)/, '$1 $2'));
      if (shedMetrics.length) result.notes.push(`503s by reason (service metrics): ${shedMetrics.join(', ')}`);
      const errLines = svc.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
      if (errLines.length) result.notes.push(`query service logged ${errLines.length} errors, first: ${errLines[0]!.slice(0, 300)}`);
      result.notes.push(`burst of ${BURST.requests} requests took ${(burstMs / 1000).toFixed(1)} s (${served.length} answered 200; the unluckiest needed ${maxAttempts} attempts)`);
      const reasons = new Map<string, number>();
      for (const l of svc.output().split('\n')) {
        const m = /"err":"([^"]{0,120})/.exec(l);
        if (m) reasons.set(m[1]!, (reasons.get(m[1]!) ?? 0) + 1);
      }
      if (reasons.size) result.notes.push(`query service warnings/errors: ${[...reasons].map(([r, c]) => `${c}× ${r}`).join('; ')}`);
    } finally {
      await svc.stop('query-burst-service.log');
    }
    result.durationMs = Date.now() - t0;
    return result;
  },
};

/**
 * 7. A view of the metric insert fails after the views before it committed: a table that refuses every new part
 * (a real TOO_MANY_PARTS) behind a view that sorts between the summaries and the rollups, for 10 s mid-stream.
 * Besides the raw counts, the summaries and every rollup level must count each point once.
 */
export const viewFailure: Scenario = {
  name: 'view-failure',
  title: 'a view fails after others committed the batch (TOO_MANY_PARTS for 10 s, 2 workers)',
  run: (ctx) => {
    let aggregates: { summary: number; rollups: number[] } | undefined;
    let raw = 0;
    return pipelineScenario(ctx, {
      name: 'view-failure',
      title: viewFailure.title,
      workers: 2,
      workload: { runs: 8, steps: 12_500, pointsPerSec: 5_000, badMessages: 8 },
      fault: async (a) => {
        await midStream(a, 0.3);
        const sink = ident('chaos_fault_sink');
        const view = ident('metric_entry_2a_chaos_fault');
        await command(a.ch, sql`CREATE TABLE IF NOT EXISTS ${sink} (x UInt8) ENGINE = MergeTree ORDER BY x SETTINGS parts_to_throw_insert = 1, parts_to_delay_insert = 1`);
        await command(a.ch, sql`INSERT INTO ${sink} VALUES (0)`);
        await command(a.ch, sql`CREATE MATERIALIZED VIEW ${view} TO ${sink} AS SELECT toUInt8(1) AS x FROM metric_entry_v1 WHERE startsWith(entity_id, ${a.prefix})`);
        a.ctx.say(`view-failure: failing view in place at ${a.at()}`);
        await sleep(10_000);
        await command(a.ch, sql`DROP TABLE IF EXISTS ${view}`);
        await command(a.ch, sql`DROP TABLE IF EXISTS ${sink}`);
        a.ctx.say(`view-failure: failing view removed at ${a.at()}`);
        // Once the whole stream is stored, the aggregated tables are counted too (check() below compares them).
        await a.stream.done;
        await waitFor('the stream to be stored', async () => (await totals(a.ch, a.prefix)).distinct >= a.total, 300_000, 1000).catch(() => undefined);
        await sleep(3_000);
        raw = (await totals(a.ch, a.prefix)).count;
        const [sm] = await queryRows<{ n: string }>(a.ch, sql`SELECT sumMerge(points) AS n FROM metric_summary_v2 WHERE entity_kind = 'run' AND startsWith(entity_id, ${a.prefix})`);
        const levels = await queryRows<{ n: string }>(
          a.ch,
          sql`SELECT sumMerge(points) AS n FROM metric_rollup_v3 WHERE entity_kind = 'run' AND granularity > 0 AND startsWith(entity_id, ${a.prefix}) GROUP BY axis, granularity ORDER BY axis, granularity`,
        );
        aggregates = { summary: Number(sm!.n), rollups: levels.map((l) => Number(l.n)) };
        return ['a view sorting between the summaries and the rollups refused every part for 10 s'];
      },
      check: (pool, r) => {
        const failures: string[] = [];
        if (pool.count(/"msg":"insert failed, retrying"/) === 0) failures.push('the failing view never made an insert fail');
        if (!aggregates) failures.push('the summaries and rollups could not be counted');
        else {
          r.notes.push(`points in the summaries ${aggregates.summary.toLocaleString('en')}, per rollup level ${aggregates.rollups.map((n) => n.toLocaleString('en')).join(' / ')} (raw ${raw.toLocaleString('en')})`);
          if (aggregates.summary !== raw) failures.push(`summaries count ${aggregates.summary} points, the raw table ${raw}`);
          if (aggregates.rollups.length !== 6 || aggregates.rollups.some((n) => n !== raw)) failures.push(`rollup levels count ${aggregates.rollups.join('/')} points, the raw table ${raw}`);
        }
        return failures;
      },
    });
  },
};

export const ALL_SCENARIOS: Scenario[] = [clickhouseOutage, clickhouseOutageGroup, kafkaRestart, rebalance, workerPause, viewFailure, queryBurst, decoderFuzz, apiFuzz];
