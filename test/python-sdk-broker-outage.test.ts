// The Python SDK through a Kafka broker SIGKILLed mid-run and started again: the points logged before, during and
// after the outage are buffered, delivered once the broker is back, and stored exactly once. The broker is a private
// one (test/chaos/private-stack.ts), never the shared stack.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '@runstream/config';
import { CHAOS_LOG_DIR, PrivateStack } from './chaos/private-stack.ts';
import { createTopics, scenarioEnv, settle, sleep, WorkerPool } from './chaos/chaos-kit.ts';
import { clickhouseFor, waitFor } from './support/pipeline-fixture.ts';
import type { PythonEnv } from './support/python-deps.ts';
import { ensurePythonSdk } from './support/python-sdk-env.ts';

let stack: PrivateStack | undefined;
let py: PythonEnv;
const log = (() => {
  mkdirSync(CHAOS_LOG_DIR, { recursive: true });
  return createLogger({ name: 'python-sdk-outage', level: 'info', destination: createWriteStream(join(CHAOS_LOG_DIR, 'python-sdk-outage.log')) });
})();

beforeAll(async () => {
  stack = await PrivateStack.create('pysdk', { kafka: 26092, kafkaController: 26093, clickhouseHttp: 26123, clickhouseTcp: 26000 }, log);
  try {
    [py] = await Promise.all([ensurePythonSdk(), stack.start()]);
  } catch (err) {
    await stack.stop({ keepData: true });
    throw err;
  }
}, 600_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

// Logs `total` points at about 10,000/s, printing its progress; flushes at the end and prints the report.
const LOGGER_SCRIPT = `
import json, sys, time, runstream
run_id, total = sys.argv[1], int(sys.argv[2])
c = runstream.Client(transport="kafka", delivery_timeout_s=180, linger_ms=50)
run = c.run(run_id)
for i in range(total):
    run.log_metric("x", float(i), step=i)
    if i % 1000 == 999:
        print(json.dumps({"logged": i + 1}), flush=True)
        time.sleep(0.1)
r = c.flush(180)
print(json.dumps({"done": True, "ok": r.ok, "logged": r.logged, "delivered": r.delivered, "failed": r.failed, "errors": r.errors}), flush=True)
c.close()
`;

it('buffers through a broker SIGKILLed mid-run and delivers everything exactly once when it is back', async () => {
  const s = stack!;
  const { env, prefix } = scenarioEnv(s, 'pysdk');
  await createTopics(env, log);
  const pool = new WorkerPool(env);
  pool.supervise();
  pool.spawn();
  const ch = clickhouseFor('admin', env);
  try {
    await pool.ready();
    const total = 150_000;
    const runId = `${prefix}run`;
    const child = spawn(py.python, ['-c', LOGGER_SCRIPT, runId, String(total)], {
      env: { ...py.env, RUNSTREAM_KAFKA_BROKERS: s.kafkaBrokers, RUNSTREAM_TOPIC_PREFIX: env.KAFKA_TOPIC_PREFIX!, RUNSTREAM_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const logged = () => Math.max(0, ...[...out.matchAll(/"logged": (\d+)/g)].map((m) => Number(m[1])));

    await waitFor('20,000 points logged', async () => logged() >= 20_000, 60_000, 50);
    const kafkaPid = Number(readFileSync(join(s.dataDir, 'kafka', 'kafka.pid'), 'utf8').trim());
    process.kill(kafkaPid, 'SIGKILL');
    const killedAt = logged();
    await sleep(5_000);
    const duringOutage = logged() - killedAt;
    await s.kafka('start');

    expect(await exited, `logger failed: ${err.slice(-3000)}`).toBe(0);
    const report = JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; logged: number; delivered: number; failed: number; errors: string[] };
    expect(report).toMatchObject({ ok: true, logged: total, delivered: total, failed: 0 });
    // The outage really happened while the script was logging.
    expect(duringOutage).toBeGreaterThan(10_000);

    const stored = await settle(ch, prefix, total, 60_000);
    expect({ count: stored.count, distinct: stored.distinct, sum: stored.sum }, pool.events.join('\n')).toEqual({ count: total, distinct: total, sum: (total * (total - 1)) / 2 });
    console.log(`broker SIGKILLed after ${killedAt.toLocaleString('en')} points, down 5 s while ${duringOutage.toLocaleString('en')} more were logged; all ${total.toLocaleString('en')} stored once`);
  } finally {
    await pool.stopAll();
    await ch.close();
  }
}, 600_000);
