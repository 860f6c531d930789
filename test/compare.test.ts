// Comparison views on the real pipeline (SDK / MLflow API → Kafka → worker → ClickHouse → API) with generated data
// whose answers are known: bucket min/max/mean/last/count against a reference computed here from the raw values,
// alignment by step and by time, zoom, smoothing, best-by-goal, param diff, ranking, model-version trend, search
// DSL and hostile filters, streamed export.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsProducer, type MetricsProducer } from '@runstream/sdk';
import { fromJsonDouble } from '@runstream/clickhouse';
import { ema } from '../services/query-service/src/series/smoothing.ts';
import { isolatedEnv, log, startPipelineService, waitFor, type PipelineService } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '50' });
const tag = randomUUID().slice(0, 8);
const T0 = 1_750_000_000_000;
const LONG = 200_000; // points of the long run's loss: read from the rollups
const SHORT = 20_000; // points of the other runs' loss: aggregated from raw points
const SPIKE_STEP = 123_457;

let pipeline: PipelineService;
let sdk: MetricsProducer;
let experimentId: string;
const runs: { id: string; lr: string; seed: string }[] = [];
const model = `churn-${tag}`;

/** The long run's loss: multiples of 1/4 (sums stay exact), a spike, NaN at steps 1000..1009. */
function longValue(step: number): number {
  if (step === SPIKE_STEP) return 1000;
  if (step >= 1000 && step < 1010) return NaN;
  return (step % 97) / 4;
}
const shortValue = (run: number, step: number): number => ((step * (run + 3)) % 89) / 8 + run;

async function mlflow(path: string, body: unknown): Promise<any> {
  const res = await fetch(`${pipeline.base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${pipeline.base}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}

/** Reference buckets: floor(x / width), NaN skipped in min/max/mean, last = highest step. */
function expectedBuckets(points: { x: number; step: number; v: number }[], width: number, lo = -Infinity, hi = Infinity) {
  const byBucket = new Map<number, { x: number; step: number; v: number }[]>();
  for (const p of points) {
    if (p.x < lo || p.x > hi) continue;
    const k = Math.floor(p.x / width);
    byBucket.set(k, [...(byBucket.get(k) ?? []), p]);
  }
  return [...byBucket.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const ps = byBucket.get(k)!;
      const finite = ps.filter((p) => !Number.isNaN(p.v));
      const last = ps.reduce((a, b) => (b.step > a.step ? b : a));
      return {
        xFirst: Math.min(...ps.map((p) => p.x)),
        xLast: Math.max(...ps.map((p) => p.x)),
        count: ps.length,
        min: finite.length ? Math.min(...finite.map((p) => p.v)) : NaN,
        max: finite.length ? Math.max(...finite.map((p) => p.v)) : NaN,
        mean: finite.length ? finite.reduce((s, p) => s + p.v, 0) / finite.length : NaN,
        last: last.v,
      };
    });
}

function columns(series: any) {
  return series.x_first.map((_: number, i: number) => ({
    xFirst: series.x_first[i],
    xLast: series.x_last[i],
    count: series.count[i],
    min: fromJsonDouble(series.min[i]),
    max: fromJsonDouble(series.max[i]),
    mean: fromJsonDouble(series.mean[i]),
    last: fromJsonDouble(series.last[i]),
  }));
}

const longPoints = Array.from({ length: LONG }, (_, step) => ({ step, x: step, v: longValue(step) }));

beforeAll(async () => {
  pipeline = await startPipelineService(env);
  sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, lingerMs: 20, producerId: `compare-${tag}`, logger: log });
  experimentId = (await mlflow('experiments/create', { name: `sweep-${tag}` })).experiment_id;
  const grid = [
    ['0.1', '1'],
    ['0.01', '1'],
    ['0.001', '1'],
    ['0.01', '2'],
  ];
  for (const [i, [lr, seed]] of grid.entries()) {
    const { run } = await mlflow('runs/create', { experiment_id: experimentId, run_name: `sweep-${i}`, start_time: T0 + i * 3_600_000 });
    const id = run.info.run_id as string;
    runs.push({ id, lr: lr!, seed: seed! });
    await mlflow('runs/log-batch', {
      run_id: id,
      params: [
        { key: 'lr', value: lr },
        { key: 'optimizer', value: 'adam' },
        { key: 'seed', value: seed },
        ...(i === 3 ? [{ key: 'note', value: "x' OR 1=1 --" }] : []),
      ],
      tags: [{ key: 'team', value: i % 2 === 0 ? 'Vision' : 'nlp' }],
    });
    await mlflow('runs/update', { run_id: id, status: 'FINISHED', end_time: T0 + i * 3_600_000 + 60_000 * (i + 1) });
  }
  // Run 0 holds the long series, starting at T0 with 100 ms between steps; runs 1..3 start an hour apart each.
  for (let step = 0; step < LONG; step++) {
    await sdk.logMetric({ run: runs[0]!.id }, 'loss', longValue(step), { step, timestampMs: T0 + step * 100 });
  }
  for (let r = 1; r < runs.length; r++) {
    for (let step = 0; step < SHORT; step++) {
      await sdk.logMetric({ run: runs[r]!.id }, 'loss', shortValue(r, step), { step, timestampMs: T0 + r * 3_600_000 + step * 100 });
    }
  }
  for (const [r, acc] of [0.81, 0.9, 0.88, 0.93].entries()) await sdk.logMetric({ run: runs[r]!.id }, 'accuracy', acc, { step: 1, timestampMs: T0 });
  await sdk.flush();

  // A registered model with three versions; accuracy logged on each version.
  await mlflow('registered-models/create', { name: model });
  for (const [v, acc] of [0.9, 0.92, 0.85].entries()) {
    await mlflow('model-versions/create', { name: model, source: `runs:/${runs[v]!.id}/model`, run_id: runs[v]!.id });
    await sdk.logMetric({ modelVersion: { name: model, version: v + 1 } }, 'accuracy', acc, { step: 0, timestampMs: T0 + v });
  }
  await sdk.flush();
  const total = LONG + (runs.length - 1) * SHORT;
  await waitFor(
    'all points stored',
    async () => {
      const res = await api('POST', '/api/v1/compare/runs', { runs: runs.map((r) => r.id), metrics: ['loss'] });
      const n = res.body?.runs?.reduce((s: number, r: any) => s + (r.metrics.loss?.count ?? 0), 0);
      return n === total;
    },
    120_000,
    500,
  );
}, 300_000);

afterAll(async () => {
  await sdk?.close();
  await pipeline?.close();
});

describe('series', () => {
  it('downsamples a long series from the rollups with exact min, max, mean, last and count — the spike survives', async () => {
    const res = await api('POST', '/api/v1/series', { runs: [runs[0]!.id], keys: ['loss'], buckets: 1000 });
    expect(res.status).toBe(200);
    // 200,000 steps into at most 1000 buckets: width 200 → the 64-step rollups, width 256.
    expect(res.body.bucket_width).toBe(256);
    const [series] = res.body.series;
    expect(series.resolution).toBe('bucketed');
    expect(series.points).toBe(LONG);
    const got = columns(series);
    expect(got).toEqual(expectedBuckets(longPoints, 256));
    const spike = got.find((b: any) => b.xFirst <= SPIKE_STEP && SPIKE_STEP <= b.xLast);
    expect(spike.max).toBe(1000);
    expect(got.filter((b: any) => b.max === 1000)).toHaveLength(1);
  });

  it('aligns runs by step: one bucket width for all, raw aggregation for shorter spans', async () => {
    const ids = runs.slice(1).map((r) => r.id);
    // 20,000 steps into 1000 buckets: width 20, below the finest rollup level → aggregated from raw points.
    const res = await api('POST', '/api/v1/series', { runs: ids, keys: ['loss'], buckets: 1000 });
    expect(res.body.bucket_width).toBe(20);
    for (const [i, series] of res.body.series.entries()) {
      const r = i + 1;
      const points = Array.from({ length: SHORT }, (_, step) => ({ step, x: step, v: shortValue(r, step) }));
      expect(series.run).toBe(runs[r]!.id);
      expect(columns(series)).toEqual(expectedBuckets(points, 20));
    }
    // Same buckets in every run: bucket i starts at step 20 * i everywhere.
    expect(new Set(res.body.series.map((s: any) => JSON.stringify(s.x_first))).size).toBe(1);
  });

  it('buckets by wall time and by time relative to each run’s first point', async () => {
    const wall = await api('POST', '/api/v1/series', { runs: [runs[0]!.id], keys: ['loss'], x: 'time', buckets: 1000 });
    // 20,000 s of wall time: 20 s per bucket, a multiple of the 4 s rollups.
    expect(wall.body.bucket_width).toBe(20_000);
    const timed = longPoints.map((p) => ({ ...p, x: T0 + p.step * 100 }));
    expect(columns(wall.body.series[0])).toEqual(expectedBuckets(timed, 20_000));

    const rel = await api('POST', '/api/v1/series', { runs: [runs[0]!.id, runs[2]!.id], keys: ['loss'], x: 'relative', buckets: 100, to: 1_999_999 });
    expect(rel.status).toBe(200);
    for (const s of rel.body.series) {
      expect(s.x_first[0]).toBe(0);
      expect(Math.max(...s.x_last)).toBeLessThanOrEqual(1_999_999);
    }
    // Run 2 (20,000 points, 100 ms apart) has 2,000 s of data; the first 2,000 s of both runs compare.
    expect(rel.body.series[1].points).toBe(SHORT);
  });

  it('zooms: a range re-buckets at full resolution, and a range with few points comes back raw', async () => {
    const zoom = await api('POST', '/api/v1/series', { runs: [runs[0]!.id], keys: ['loss'], buckets: 1000, from: 123_000, to: 124_999 });
    expect(zoom.body.bucket_width).toBe(2);
    expect(columns(zoom.body.series[0])).toEqual(expectedBuckets(longPoints, 2, 123_000, 124_999));

    const raw = await api('POST', '/api/v1/series', { runs: [runs[0]!.id], keys: ['loss'], buckets: 1000, from: SPIKE_STEP - 10, to: SPIKE_STEP + 10 });
    const [s] = raw.body.series;
    expect(s.resolution).toBe('raw');
    expect(s.x_first).toEqual(Array.from({ length: 21 }, (_, i) => SPIKE_STEP - 10 + i));
    expect(s.max[10]).toBe(1000);

    // NaN points: a bucket of nothing but NaN says so; the raw values come back as "NaN".
    const nan = await api('POST', '/api/v1/series', { runs: [runs[0]!.id], keys: ['loss'], buckets: 1000, from: 1000, to: 1009 });
    expect(nan.body.series[0].mean).toEqual(Array(10).fill('NaN'));
  });

  it('pages through every raw point of many series', async () => {
    const body = { runs: [runs[1]!.id, runs[2]!.id], keys: ['loss', 'accuracy'], raw: true, max_results: 7_000, from: 100, to: 9_099 };
    const seen: Record<string, number[]> = {};
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await api('POST', '/api/v1/series', { ...body, ...(token ? { page_token: token } : {}) });
      expect(res.status, res.text).toBe(200);
      for (const s of res.body.series) (seen[`${s.run}/${s.key}`] ??= []).push(...s.x_first);
      token = res.body.next_page_token;
      pages++;
    } while (token);
    // loss: steps 100..9099 of both runs (18,000 points in 3 pages); accuracy was logged at step 1 only, in range.
    expect(pages).toBe(3);
    for (const r of [1, 2]) {
      expect(seen[`${runs[r]!.id}/loss`]).toEqual(Array.from({ length: 9_000 }, (_, i) => 100 + i));
      expect(seen[`${runs[r]!.id}/accuracy`]).toBeUndefined();
    }
    expect((await api('POST', '/api/v1/series', { ...body, page_token: 'bm9wZQ' })).status).toBe(400);
    expect((await api('POST', '/api/v1/series', { runs: [runs[1]!.id], keys: ['loss'], page_token: 'x' })).status).toBe(400);
  });

  it('smooths on the server with a debiased EMA of the bucket means', async () => {
    const res = await api('POST', '/api/v1/series', { runs: [runs[1]!.id], keys: ['loss'], buckets: 200, smoothing: { method: 'ema', weight: 0.8 } });
    const s = res.body.series[0];
    expect(s.smoothed).toEqual(ema(s.mean.map(fromJsonDouble), 0.8));
  });

  it('rejects bad requests with 400', async () => {
    const bad = [
      { keys: ['loss'] },
      { runs: [runs[0]!.id], keys: [] },
      { runs: [runs[0]!.id], keys: ['loss'], buckets: 0 },
      { runs: [runs[0]!.id], keys: ['loss'], from: 10, to: 5 },
      { runs: [runs[0]!.id], keys: ['loss'], x: 'epoch' },
      { runs: Array.from({ length: 101 }, (_, i) => `r${i}`), keys: ['loss'] },
      { runs: [runs[0]!.id], keys: ["loss'; DROP TABLE metric_points_v2 --"] },
      { runs: [runs[0]!.id], keys: ['loss'], smoothing: { method: 'ema', weight: 1 } },
    ];
    for (const body of bad) expect((await api('POST', '/api/v1/series', body)).status, JSON.stringify(body)).toBe(400);
    // Unknown runs are not an error: their series are empty.
    const none = await api('POST', '/api/v1/series', { runs: ['no-such-run'], keys: ['loss'] });
    expect(none.body.series[0]).toMatchObject({ run: 'no-such-run', points: 0, x_first: [] });
  });
});

describe('export', () => {
  it('streams a full series as CSV and JSON Lines', async () => {
    const csv = await api('GET', `/api/v1/runs/${runs[0]!.id}/metrics/loss/export?format=csv`);
    expect(csv.status).toBe(200);
    const lines = csv.text.trimEnd().split('\n');
    expect(lines[0]).toBe('step,timestamp_ms,value');
    expect(lines).toHaveLength(LONG + 1);
    expect(lines[1]).toBe(`0,${T0},0`);
    expect(lines[1 + SPIKE_STEP]).toBe(`${SPIKE_STEP},${T0 + SPIKE_STEP * 100},1000`);
    expect(lines[1 + 1000]).toBe(`1000,${T0 + 100_000},NaN`);
    const sum = lines.slice(1).reduce((s, l) => s + (l.endsWith('NaN') ? 0 : Number(l.split(',')[2])), 0);
    expect(sum).toBe(longPoints.reduce((s, p) => s + (Number.isNaN(p.v) ? 0 : p.v), 0));

    const jsonl = await api('GET', `/api/v1/runs/${runs[1]!.id}/metrics/loss/export?format=jsonl`);
    const rows = jsonl.text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(SHORT);
    expect(rows[7]).toEqual({ step: 7, timestamp_ms: T0 + 3_600_000 + 700, value: shortValue(1, 7) });
    expect((await api('GET', `/api/v1/runs/${runs[1]!.id}/metrics/nope/export`)).status).toBe(404);
  });
});

describe('compare', () => {
  it('puts runs side by side with best-by-goal, params that differ, tags, status and duration, ranked', async () => {
    const res = await api('POST', '/api/v1/compare/runs', { runs: runs.map((r) => r.id), only_differing_params: true, rank_by: 'accuracy' });
    expect(res.status).toBe(200);
    expect(res.body.metric_keys).toEqual(['accuracy', 'loss']);
    expect(res.body.goals).toEqual({ accuracy: 'max', loss: 'min' });
    expect(res.body.differing_params).toEqual(['lr', 'note', 'seed']);
    expect(res.body.param_keys).toEqual(['lr', 'note', 'seed']);
    // Ranked by accuracy, best (highest) first: runs 3, 1, 2, 0.
    expect(res.body.runs.map((r: any) => r.run_id)).toEqual([3, 1, 2, 0].map((i) => runs[i]!.id));
    expect(res.body.runs.map((r: any) => r.rank)).toEqual([1, 2, 3, 4]);
    const run0 = res.body.runs.find((r: any) => r.run_id === runs[0]!.id);
    expect(run0.metrics.loss).toEqual({ last: longValue(LONG - 1), min: 0, max: 1000, best: 0, count: LONG, last_step: LONG - 1, goal: 'min' });
    expect(run0.params).toEqual({ lr: '0.1', seed: '1' });
    expect(run0.tags).toMatchObject({ team: 'Vision' });
    expect(run0).toMatchObject({ status: 'FINISHED', duration_ms: 60_000, run_name: 'sweep-0' });
    expect(res.body.runs.find((r: any) => r.run_id === runs[3]!.id).params.note).toBe("x' OR 1=1 --");

    const all = await api('POST', '/api/v1/compare/runs', { runs: [runs[0]!.id, runs[1]!.id], goals: { loss: 'max' } });
    expect(all.body.param_keys).toEqual(['lr', 'optimizer', 'seed']);
    expect(all.body.runs[0].metrics.loss.best).toBe(1000);
    expect((await api('POST', '/api/v1/compare/runs', { runs: ['nope'] })).status).toBe(404);
  });

  it('follows a metric across model versions and flags degradation against the baseline', async () => {
    const res = await api('GET', `/api/v1/models/${model}/metric-trend?key=accuracy&tolerance=0.01`);
    expect(res.status).toBe(200);
    expect(res.body.baseline_version).toBe('1');
    expect(res.body.versions.map((v: any) => [v.version, v.value, v.degraded, v.source])).toEqual([
      ['1', 0.9, false, 'model_version'],
      ['2', 0.92, false, 'model_version'],
      ['3', 0.85, true, 'model_version'],
    ]);
    expect(res.body.versions[2].delta).toBeCloseTo(-0.05, 12);
    // Against version 2, with the loss of each version's run (minimised): falls back to the run's metric.
    const loss = await api('GET', `/api/v1/models/${model}/metric-trend?key=loss&baseline=2`);
    expect(loss.body.goal).toBe('min');
    expect(loss.body.versions.map((v: any) => v.source)).toEqual(['run', 'run', 'run']);
    expect((await api('GET', `/api/v1/models/${model}/metric-trend?key=accuracy&baseline=9`)).status).toBe(400);
    expect((await api('GET', `/api/v1/models/no-such-${tag}/metric-trend?key=accuracy`)).status).toBe(404);
  });
});

describe('search', () => {
  const search = (body: object) => api('POST', '/api/v1/runs/search', { experiment_ids: [experimentId], ...body });
  const names = (res: { status: number; body: any; text: string }) => {
    expect(res.status, res.text).toBe(200);
    return res.body.runs.map((r: any) => r.run_name).sort();
  };

  it('filters by params, tags, latest / min / max metrics and attributes, with AND before OR and parentheses', async () => {
    expect(names(await search({ filter: "params.lr = '0.01'" }))).toEqual(['sweep-1', 'sweep-3']);
    // AND binds tighter than OR.
    expect(names(await search({ filter: "params.lr = '0.1' OR params.lr = '0.01' AND params.seed = '2'" }))).toEqual(['sweep-0', 'sweep-3']);
    expect(names(await search({ filter: "(params.lr = '0.1' OR params.lr = '0.01') AND params.seed = '2'" }))).toEqual(['sweep-3']);
    expect(names(await search({ filter: 'max(metrics.loss) >= 1000' }))).toEqual(['sweep-0']);
    expect(names(await search({ filter: 'min(metrics.loss) >= 2' }))).toEqual(['sweep-2', 'sweep-3']);
    expect(names(await search({ filter: 'min(metrics.loss) > 2' }))).toEqual(['sweep-3']);
    expect(names(await search({ filter: 'metrics.accuracy > 0.85' }))).toEqual(['sweep-1', 'sweep-2', 'sweep-3']);
    expect(names(await search({ filter: "tags.team ILIKE 'vis%'" }))).toEqual(['sweep-0', 'sweep-2']);
    expect(names(await search({ filter: "tags.team LIKE 'vis%'" }))).toEqual([]);
    expect(names(await search({ filter: "attributes.status = 'FINISHED' AND attributes.run_name LIKE 'sweep-%'" }))).toHaveLength(4);
    // A missing key matches nothing, even with != (MLflow's semantics).
    expect(names(await search({ filter: "params.note != 'y'" }))).toEqual(['sweep-3']);
    // SQL in a value is a value: stored verbatim and matched as such.
    expect(names(await search({ filter: "params.note = 'x\\' OR 1=1 --'" }))).toEqual(['sweep-3']);
  });

  it('orders by a metric, pages, and counts the total', async () => {
    const first = await search({ order_by: ['metrics.accuracy DESC'], max_results: 3 });
    expect(first.body.total_count).toBe(4);
    expect(first.body.runs.map((r: any) => r.run_name)).toEqual(['sweep-3', 'sweep-1', 'sweep-2']);
    expect(first.body.runs[0].params).toMatchObject({ lr: '0.01', seed: '2' });
    expect(first.body.runs[0].metrics.accuracy).toBe(0.93);
    const second = await search({ order_by: ['metrics.accuracy DESC'], max_results: 3, page_token: first.body.next_page_token });
    expect(second.body.runs.map((r: any) => r.run_name)).toEqual(['sweep-0']);
    expect(second.body.next_page_token).toBeUndefined();
    const byMin = await search({ order_by: ['min(metrics.loss) ASC'], filter: "params.optimizer = 'adam'" });
    expect(byMin.body.runs[0].run_name).toBe('sweep-0');
  });

  it('answers hostile or malformed filters with 400', async () => {
    for (const filter of [
      "params.lr = '0.1'; DROP TABLE runs_v1",
      "params.lr = '0.1' OR 1=1",
      'metrics.loss < 1) OR (1',
      "params.lr = '0.1",
      'min(params.lr) > 1',
      'max(metrics.loss > 1',
      'sleep(3) = 1',
      "attributes.secret = 'x'",
      '((((((((((((((((((((((metrics.a > 1))))))))))))))))))))))',
    ]) {
      const res = await search({ filter });
      expect(res.status, filter).toBe(400);
      expect(res.body.error.code).toBe('INVALID_ARGUMENT');
    }
    expect((await search({ order_by: ['metrics.loss; DROP'] })).status).toBe(400);
  });
});

describe('BI views', () => {
  const settings = { url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:18123', database: process.env.CLICKHOUSE_DATABASE ?? 'runstream_test' };
  async function asBi(query: string): Promise<any[]> {
    const url = new URL(settings.url);
    url.search = new URLSearchParams({ user: process.env.CLICKHOUSE_BI_USER ?? 'runstream_bi', password: process.env.CLICKHOUSE_BI_PASSWORD ?? 'bi_local', database: settings.database }).toString();
    const res = await fetch(url, { method: 'POST', body: `${query} FORMAT JSONEachRow` });
    const text = await res.text();
    expect(res.ok, text).toBe(true);
    return text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l));
  }
  const quoted = (s: string) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

  it('serve runs, params long and wide, tags, model versions, metric summaries and downsampled series to the BI user', async () => {
    const id0 = quoted(runs[0]!.id);
    const [run] = await asBi(`SELECT run_name, experiment_name, status, duration_s FROM bi_runs WHERE run_id = ${id0}`);
    expect(run).toEqual({ run_name: 'sweep-0', experiment_name: `sweep-${tag}`, status: 'FINISHED', duration_s: 60 });
    expect(await asBi(`SELECT key, value FROM bi_run_params WHERE run_id = ${id0} ORDER BY key`)).toEqual([
      { key: 'lr', value: '0.1' },
      { key: 'optimizer', value: 'adam' },
      { key: 'seed', value: '1' },
    ]);
    expect(await asBi(`SELECT param_keys, param_values[indexOf(param_keys, 'lr')] AS lr FROM bi_run_params_wide WHERE run_id = ${id0}`)).toEqual([
      { param_keys: ['lr', 'optimizer', 'seed'], lr: '0.1' },
    ]);
    expect(await asBi(`SELECT value FROM bi_run_tags WHERE run_id = ${id0} AND key = 'team'`)).toEqual([{ value: 'Vision' }]);
    expect((await asBi(`SELECT version, run_id FROM bi_model_versions WHERE model = ${quoted(model)} ORDER BY version`)).map((v) => v.version)).toEqual(['1', '2', '3']);
    const [summary] = await asBi(`SELECT points, nan_points, min_value, max_value, last_step FROM bi_metric_summaries WHERE entity_id = ${id0} AND key = 'loss'`);
    expect(summary).toEqual({ points: String(LONG), nan_points: '10', min_value: 0, max_value: 1000, last_step: String(LONG - 1) });
    // Every rollup level holds every point once, and the spike's bucket shows it.
    const levels = await asBi(`SELECT axis, granularity, sum(points) AS n, max(max_value) AS top FROM bi_metric_rollups WHERE entity_id = ${id0} AND key = 'loss' GROUP BY axis, granularity ORDER BY axis, granularity`);
    expect(levels).toHaveLength(6);
    for (const l of levels) expect(l).toMatchObject({ n: String(LONG), top: 1000 });
    const [spike] = await asBi(`SELECT x_start, max_value FROM bi_metric_rollups WHERE entity_id = ${id0} AND key = 'loss' AND axis = 'step' AND granularity = 1024 AND max_value = 1000`);
    expect(spike).toEqual({ x_start: String(Math.floor(SPIKE_STEP / 1024) * 1024), max_value: 1000 });
  });
});
