// Hostile input on the private stack, for the chaos report:
// - decoder fuzz: random and mutated messages (services/ingest-worker/src/fuzz-inputs.ts, the inputs of the
//   in-process decoder fuzz test) sent through Kafka to a real worker; each must be stored or dead-lettered, the
//   worker must stay alive, and what is stored must be what the decoder predicts for those bytes;
// - API fuzz: Schemathesis from the OpenAPI document against a real query service process (test/support/api-fuzz.ts,
//   shared with test/api-fuzz.test.ts): zero 5xx, zero hangs.
import { join } from 'node:path';
import { queryRows, sql, type ClickHouse } from '@runstream/clickhouse';
import type { IncomingBatch } from '@runstream/kafka';
import { decodeBatch } from '../../services/ingest-worker/src/batch-decoder.ts';
import { fuzzValues, validMetricMessage, validTrackingMessage } from '../../services/ingest-worker/src/fuzz-inputs.ts';
import { decodeTrackingBatch } from '../../services/ingest-worker/src/tracking-decoder.ts';
import { runApiFuzz } from '../support/api-fuzz.ts';
import { clickhouseFor, topicsFor } from '../support/pipeline-fixture.ts';
import { busOf, createTopics, deadLetters, scenarioEnv, sleep, startQueryService, WorkerPool, type ChaosContext, type DecoderFuzzCounts, type ScenarioResult } from './chaos-kit.ts';
import { CHAOS_LOG_DIR } from './private-stack.ts';
import type { Scenario } from './scenarios.ts';

export const FUZZ = {
  /** Messages per topic (metrics, tracking). */
  messages: Number(process.env.CHAOS_FUZZ_MESSAGES ?? 20_000),
  /** Schemathesis examples per operation. */
  apiExamples: Number(process.env.CHAOS_API_FUZZ_EXAMPLES ?? 25),
};

function emptyResult(name: string, title: string): ScenarioResult {
  return {
    name, title, sent: 0, stored: 0, distinct: 0, deadLettered: 0, deadLetterExpected: 0, deadLetterRecords: 0, lost: 0, duplicated: 0,
    workerDuplicates: 0, producerDuplicates: 0, expectedSum: 0, storedSum: 0, durationMs: 0, notes: [], failures: [],
  };
}

interface StoredCounts {
  messages: number;
  rows: number;
  distinctRows: number;
}

async function storedFrom(ch: ClickHouse, kind: 'metrics' | 'tracking', topic: string): Promise<StoredCounts> {
  const [row] =
    kind === 'metrics'
      ? await queryRows<{ m: string; r: string; d: string }>(
          ch,
          sql`SELECT uniqExact(src_partition, src_offset) AS m, count() AS r, uniqExact(src_partition, src_offset, point_index) AS d FROM metric_points_v2 WHERE src_topic = ${topic}`,
        )
      : await queryRows<{ m: string; r: string; d: string }>(
          ch,
          sql`SELECT uniqExact(src_partition, src_offset) AS m, count() AS r, uniqExact(src_partition, src_offset) AS d FROM tracking_events_v1 WHERE src_topic = ${topic}`,
        );
  return { messages: Number(row!.m), rows: Number(row!.r), distinctRows: Number(row!.d) };
}

/** What the worker's own decoders make of these bytes: messages stored, their rows, dead letters. */
function predict(kind: 'metrics' | 'tracking', values: Buffer[], nowMs: number): { stored: number; rows: number; dead: number } {
  const batch: IncomingBatch = { topic: 'fuzz', partition: 0, messages: values.map((value, offset) => ({ offset, key: null, value, headers: {}, timestampMs: nowMs })) };
  if (kind === 'metrics') {
    const out = decodeBatch(batch, { storedUpTo: -1, nowMs });
    return { stored: out.units.length, rows: out.points, dead: out.deadLetters.length };
  }
  const out = decodeTrackingBatch(batch, { storedUpTo: -1 });
  return { stored: out.units.length, rows: out.units.length, dead: out.deadLetters.length };
}

export const decoderFuzz: Scenario = {
  name: 'decoder-fuzz',
  title: `Decoder fuzz through Kafka: ${FUZZ.messages.toLocaleString('en')} random/mutated messages each on the metrics and tracking topics, one real worker`,
  async run(ctx) {
    const t0 = Date.now();
    const { env, prefix } = scenarioEnv(ctx.stack, 'decoder-fuzz');
    await createTopics(env, ctx.log);
    const topics = topicsFor(env);
    const ch = clickhouseFor('admin', env);
    const pool = new WorkerPool(env, t0);
    const result = emptyResult(decoderFuzz.name, decoderFuzz.title);
    const counts: DecoderFuzzCounts[] = [];
    try {
      const worker = pool.spawn();
      await pool.ready();
      const nowMs = Date.now();
      const inputs = {
        metrics: fuzzValues(42, validMetricMessage(`${prefix}run`, nowMs), FUZZ.messages),
        tracking: fuzzValues(7, validTrackingMessage(`${prefix}run`, nowMs), FUZZ.messages),
      };
      const producer = await busOf(env, ctx.log).producer({ idempotent: true });
      try {
        for (const kind of ['metrics', 'tracking'] as const) {
          const topic = kind === 'metrics' ? topics.metrics : topics.tracking;
          const values = inputs[kind];
          for (let i = 0; i < values.length; i += 1_000) {
            await producer.send(topic, values.slice(i, i + 1_000).map((value, j) => ({ key: `fuzz-${(i + j) % 64}`, value })));
          }
        }
      } finally {
        await producer.disconnect();
      }
      ctx.say(`decoder-fuzz: ${(2 * FUZZ.messages).toLocaleString('en')} messages sent at +${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for the worker`);
      for (const kind of ['metrics', 'tracking'] as const) {
        const topic = kind === 'metrics' ? topics.metrics : topics.tracking;
        const dlqTopic = kind === 'metrics' ? topics.metricsDeadLetter : topics.trackingDeadLetter;
        const expected = predict(kind, inputs[kind], nowMs);
        // Stored + dead-lettered until every message is accounted for (or nothing moves for 45 s, or the worker died).
        const admin = await busOf(env, ctx.log).admin();
        try {
          let last = -1;
          let lastChange = Date.now();
          for (;;) {
            const s = await storedFrom(ch, kind, topic).catch(() => undefined);
            const dlqEnd = await admin
              .lag(`chaos-dlq-probe-${prefix}${kind}`, dlqTopic)
              .then((p) => p.reduce((n, x) => n + x.end, 0))
              .catch(() => 0);
            const seen = (s?.messages ?? 0) + dlqEnd;
            if (seen !== last) lastChange = Date.now();
            last = seen;
            if (seen >= FUZZ.messages || Date.now() - lastChange > 45_000 || pool.alive().length === 0) break;
            await sleep(500);
          }
        } finally {
          await admin.disconnect();
        }
        await sleep(1_000);
        const stored = await storedFrom(ch, kind, topic);
        const dlq = await deadLetters(env, expected.dead, ctx.log, pool.alive().length ? 30_000 : 1_000, dlqTopic);
        const c: DecoderFuzzCounts = {
          topic: kind,
          inputs: FUZZ.messages,
          stored: stored.messages,
          storedRows: stored.rows,
          expectedStored: expected.stored,
          expectedRows: expected.rows,
          deadLettered: dlq.distinct,
          deadLetterRecords: dlq.records,
          lost: Math.max(0, FUZZ.messages - stored.messages - dlq.distinct),
          duplicatedRows: stored.rows - stored.distinctRows,
        };
        counts.push(c);
        if (stored.messages !== expected.stored || stored.rows !== expected.rows) {
          result.failures.push(`${kind}: stored ${stored.messages} messages / ${stored.rows} rows, the decoder predicts ${expected.stored} / ${expected.rows}`);
        }
        if (stored.messages + dlq.distinct > FUZZ.messages) result.failures.push(`${kind}: ${stored.messages + dlq.distinct - FUZZ.messages} messages both stored and dead-lettered`);
      }
      const alive = pool.alive().includes(worker) && pool.workers.length === 1;
      result.fuzz = { decoder: { topics: counts, workerAlive: alive } };
      if (!alive) result.failures.push(`the worker did not survive: ${pool.events.join('; ')}`);
    } finally {
      await pool.stopAll();
      pool.saveLog('decoder-fuzz');
      await ch.close();
    }
    result.sent = counts.reduce((n, c) => n + c.inputs, 0);
    result.stored = counts.reduce((n, c) => n + c.stored, 0);
    result.distinct = result.stored;
    result.deadLettered = counts.reduce((n, c) => n + c.deadLettered, 0);
    result.deadLetterRecords = counts.reduce((n, c) => n + c.deadLetterRecords, 0);
    result.deadLetterExpected = result.sent - counts.reduce((n, c) => n + c.expectedStored, 0);
    result.lost = counts.reduce((n, c) => n + c.lost, 0);
    result.duplicated = counts.reduce((n, c) => n + c.duplicatedRows, 0);
    result.durationMs = Date.now() - t0;
    return result;
  },
};

const API_TOKEN = 'chaos-fuzzer-token-0123456789abcdef';

export const apiFuzz: Scenario = {
  name: 'api-fuzz',
  title: `HTTP API fuzz: Schemathesis from the OpenAPI document, ${FUZZ.apiExamples} examples per operation, against a real query service`,
  async run(ctx) {
    const t0 = Date.now();
    const { env } = scenarioEnv(ctx.stack, 'api-fuzz', { INGEST_BATCH_LINGER_MS: '10' });
    await createTopics(env, ctx.log);
    const result = emptyResult(apiFuzz.name, apiFuzz.title);
    // Writes through the MLflow API wait until a worker stored them (read-your-writes): a worker runs too.
    const pool = new WorkerPool(env, t0);
    pool.spawn();
    const svc = await startQueryService(env, ctx.stack, { RUNSTREAM_API_TOKENS: `fuzzer:${API_TOKEN}:read+write` });
    const base = svc.base;
    try {
      await pool.ready();
      ctx.say(`api-fuzz: running Schemathesis against ${base}`);
      const r = await runApiFuzz({ base, token: API_TOKEN, maxExamples: FUZZ.apiExamples, reportDir: join(CHAOS_LOG_DIR, 'api-fuzz') });
      result.fuzz = { api: r };
      if (r.serverErrors || r.serverErrorsByService) result.failures.push(`${r.serverErrors} 5xx seen by Schemathesis, ${r.serverErrorsByService} counted by the service`);
      if (r.timeouts) result.failures.push(`${r.timeouts} requests timed out`);
      if (r.errors) result.failures.push(`${r.errors} Schemathesis errors`);
      if (!r.clean) result.failures.push(`Schemathesis reported failures:\n${r.tail}`);
      if (r.testCases === 0) result.failures.push('Schemathesis generated no test cases');
      if (svc.child.exitCode !== null) result.failures.push(`query service exited (code ${svc.child.exitCode})`);
      if (pool.alive().length !== 1) result.failures.push('the worker did not survive');
    } finally {
      await svc.stop('api-fuzz-service.log');
      await pool.stopAll();
      pool.saveLog('api-fuzz');
    }
    result.durationMs = Date.now() - t0;
    return result;
  },
};
