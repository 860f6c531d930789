// The Python SDK (packages/python-sdk) on the real pipeline: installed with pip into an environment of its own, its
// messages read back from Kafka and decoded with the TypeScript codec, then its pytest suite run against a query
// service and ingest worker of this test's own (isolated topic prefix). Any pytest failure fails this file.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaEnv, loadEnv } from '@runstream/config';
import { decodeMetricBatch } from '@runstream/codec';
import { busFor, isolatedEnv, startPipelineService, topicsFor, waitFor, type PipelineService } from './support/pipeline-fixture.ts';
import type { PythonEnv } from './support/python-deps.ts';
import { ensurePythonSdk, PYTHON_SDK_DIR } from './support/python-sdk-env.ts';

const run = promisify(execFile);
const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '20' });
let pipeline: PipelineService;
let py: PythonEnv;
let sdkEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  [pipeline, py] = await Promise.all([startPipelineService(env), ensurePythonSdk()]);
  sdkEnv = {
    ...py.env,
    RUNSTREAM_URL: pipeline.base,
    RUNSTREAM_KAFKA_BROKERS: loadEnv(kafkaEnv, env).brokers.join(','),
    RUNSTREAM_TOPIC_PREFIX: env.KAFKA_TOPIC_PREFIX!,
    RUNSTREAM_REQUIRE_STACK: '1',
    GIT_PYTHON_REFRESH: 'quiet',
  };
}, 900_000);

afterAll(async () => pipeline?.close());

describe('Python SDK', () => {
  it('writes messages the TypeScript codec decodes, keyed onto the partitions the TypeScript producer would choose', async () => {
    const runId = `py-compat-${randomUUID()}`;
    const script = [
      'import sys, runstream',
      'with runstream.Client(rank=2, world_size=4) as c:',
      '    assert c.transport == "kafka", c.transport',
      '    c.run(sys.argv[1]).log_metrics({"loss": [0.5, 0.25], "acc": float("nan")}, step=3)',
      '    c.model_version("py-compat-model", 7).log_metric("auc", 0.75, timestamp_ms=1750000000000)',
      '    assert c.flush(30).ok',
    ].join('\n');
    await run(py.python, ['-c', script, runId], { env: sdkEnv, timeout: 120_000 });

    const bus = busFor(env);
    const got: { partition: number; key: string; value: Buffer }[] = [];
    const consumer = await bus.consumer({ groupId: `test-reader-${randomUUID()}`, topics: [topicsFor(env).metrics], concurrentPartitions: 4, maxBytesPerPartition: 1 << 20 });
    await consumer.run(async (b) => void got.push(...b.messages.map((m) => ({ partition: b.partition, key: m.key!.toString(), value: m.value! }))));
    try {
      await waitFor('the Python messages', async () => got.length >= 2, 30_000);
    } finally {
      await consumer.stop();
    }
    const byKey = new Map(got.map((m) => [m.key, m]));
    const runMessage = byKey.get(`RUN:${runId}`)!;
    const versionMessage = byKey.get('MODEL_VERSION:py-compat-model/7')!;
    expect(runMessage.partition).toBe(bus.partitionOf(`RUN:${runId}`, 4));
    expect(versionMessage.partition).toBe(bus.partitionOf('MODEL_VERSION:py-compat-model/7', 4));

    const decodedRun = decodeMetricBatch(runMessage.value);
    if (!decodedRun.ok) throw new Error(`TypeScript codec rejected the Python message: ${JSON.stringify(decodedRun)}`);
    expect(decodedRun.writerVersion).toBe(2);
    expect(decodedRun.batch.entityKind).toBe('RUN');
    expect(decodedRun.batch.entityId).toBe(runId);
    expect(decodedRun.batch.producer).toMatch(/^rank=2\/4 host=\S+ pid=\d+ sdk=runstream-python\/\d/);
    expect(decodedRun.batch.points.map((p) => [p.key, p.value, p.step])).toEqual([['loss', 0.5, 3], ['loss', 0.25, 4], ['acc', NaN, 3]]);
    const decodedVersion = decodeMetricBatch(versionMessage.value);
    if (!decodedVersion.ok) throw new Error(`TypeScript codec rejected the Python message: ${JSON.stringify(decodedVersion)}`);
    expect(decodedVersion.batch).toMatchObject({ entityKind: 'MODEL_VERSION', entityId: 'py-compat-model/7', points: [{ key: 'auc', value: 0.75, step: 0, timestampMs: 1750000000000 }] });

    // The real worker stored them and the API reads them back.
    const history = await waitFor('the stored points', async () => {
      const res = await fetch(`${pipeline.base}/api/v1/runs/${runId}/metric-history?key=loss`);
      return res.ok ? ((await res.json()) as { points: { step: number; value: number }[] }) : undefined;
    });
    expect(history.points.map((p) => [p.step, p.value])).toEqual([[3, 0.5], [4, 0.25]]);
  });

  it('passes its pytest suite on the real stack (both transports, MLflow flows, Trainer callback, 4 ranks)', async () => {
    const result = await run(py.python, ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-rs', '-s', '--durations=5', 'tests'], {
      cwd: PYTHON_SDK_DIR,
      env: sdkEnv,
      timeout: 1_500_000,
      maxBuffer: 64 << 20,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`pytest failed:\n${(err.stdout ?? '').split('\n').slice(-80).join('\n')}\n${err.stderr?.split('\n').slice(-30).join('\n') ?? err.message}`);
    });
    // The measurements the suite prints (kill -9 loss window, ranks throughput) go to the test log.
    console.log(result.stdout.split('\n').filter((l) => /kill -9|ranks x|passed|skipped|SKIPPED/.test(l)).join('\n'));
    expect(result.stdout).toMatch(/\d+ passed/);
    expect(result.stdout).not.toMatch(/\d+ failed|\d+ error/);
  }, 1_600_000);
});
