// The faster fault scenarios inside `npm test`: the Kafka broker restarted mid-stream, a consumer group of
// three workers with one SIGKILLed and one added, and the decoder fuzz through Kafka to a real worker. They stop and restart servers, so they run on a private
// Kafka + ClickHouse started here (never the shared stack the global setup started). The slower scenarios
// (ClickHouse outages, frozen worker, query burst) run with `npm run chaos`.
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '@runstream/config';
import type { ChaosContext } from './chaos-kit.ts';
import { CHAOS_LOG_DIR, PrivateStack } from './private-stack.ts';
import { expectExact } from './expect-exact.ts';
import { kafkaRestart, rebalance } from './scenarios.ts';
import { decoderFuzz } from './fuzz-scenarios.ts';

let stack: PrivateStack | undefined;
let ctx: ChaosContext;

beforeAll(async () => {
  mkdirSync(CHAOS_LOG_DIR, { recursive: true });
  const log = createLogger({ name: 'chaos-test', level: 'info', destination: createWriteStream(join(CHAOS_LOG_DIR, 'vitest-clients.log')) });
  stack = await PrivateStack.create('vitest', { kafka: 24092, kafkaController: 24093, clickhouseHttp: 23123, clickhouseTcp: 24000 }, log);
  ctx = { stack, log, say: (msg) => log.info(msg) };
  try {
    await stack.start();
  } catch (err) {
    await stack.stop({ keepData: true });
    throw err;
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

it('loses and duplicates nothing when the Kafka broker restarts mid-stream', async () => {
  expectExact(await kafkaRestart.run(ctx));
}, 240_000);

it('loses and duplicates nothing when one of three workers is SIGKILLed and another joins mid-stream', async () => {
  expectExact(await rebalance.run(ctx));
}, 180_000);

it('stores or dead-letters every random and mutated message sent through Kafka, and the worker stays alive', async () => {
  const r = await decoderFuzz.run(ctx);
  const d = r.fuzz!.decoder!;
  expect({ failures: r.failures, workerAlive: d.workerAlive, lost: r.lost, duplicated: r.duplicated }).toEqual({ failures: [], workerAlive: true, lost: 0, duplicated: 0 });
  for (const c of d.topics) {
    expect(c.stored + c.deadLettered, c.topic).toBe(c.inputs);
    expect(c.deadLettered, c.topic).toBeGreaterThan(c.inputs / 2);
  }
}, 180_000);
