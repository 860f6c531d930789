// Monitor evaluation on the real pipeline: window metrics become model-version metrics, alert rules (a fixed
// threshold, a baseline version, a fairness difference) fire and resolve window by window, their states are served
// and exported to Prometheus, and each change reaches a real local webhook receiver that fails its first answers —
// retried with the same idempotency key, delivered once per change. Evaluating again changes nothing.
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetProducer } from '@runstream/sdk';
import { queryRows, sql } from '@runstream/clickhouse';
import { busFor, isolatedEnv, startPipelineService, topicsFor, waitFor, type PipelineService } from './support/pipeline-fixture.ts';

const T0 = Date.UTC(2026, 1, 2);
const HOUR = 3_600_000;

interface Received {
  key: string | undefined;
  body: any;
  status: number;
}

describe('monitor evaluation: model-version metrics, alerts, webhook', () => {
  const env = isolatedEnv();
  const run = randomUUID().slice(0, 8);
  const dataset = `alerts-${run}`;
  const model = `fraud-${run}`;
  let svc: PipelineService;
  let receiver: Server;
  let receiverUrl = '';
  const received: Received[] = [];
  let firstEvaluation: any;
  let secondEvaluation: any;

  const call = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${svc.base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const json = await res.json();
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  beforeAll(async () => {
    // Fails the first two requests with 503, then accepts.
    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (d) => (data += d));
      req.on('end', () => {
        const status = received.length < 2 ? 503 : 200;
        received.push({ key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(data), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    svc = await startPipelineService(env, { webhook: { attempts: 5, firstDelayMs: 20, timeoutMs: 2000 } });

    // Window 0: 90 % correct (precision 25/35); window 1: group "b" always predicted positive (accuracy 0.62,
    // selection rates 0.26 and 1); window 2: 95 % correct (precision 25/30).
    const rows = [];
    for (let w = 0; w < 3; w++) {
      for (let i = 0; i < 100; i++) {
        const label = i % 4 === 0 ? 1 : 0;
        const wrong = w === 0 ? i % 10 === 1 : w === 2 && i % 20 === 1;
        const group = i < 50 ? 'a' : 'b';
        const pred = w === 1 && group === 'b' ? 1 : wrong ? 1 - label : label;
        rows.push({ timestampMs: T0 + w * HOUR + i * 1000, segment: 'web', values: { pred, label, score: pred === 1 ? 0.8 : 0.2, grp: group } });
      }
    }
    const producer = new DatasetProducer({ producer: await busFor(env).producer({ idempotent: true }), topic: topicsFor(env).datasets, producerId: 'alerts-test' });
    await producer.logRows(dataset, rows, { columns: { pred: 'NUMERICAL', label: 'NUMERICAL', score: 'NUMERICAL', grp: 'CATEGORICAL' } });
    await producer.close();
    await waitFor('rows stored', async () => {
      const [row] = await queryRows<{ c: string }>(svc.ch, sql`SELECT count() AS c FROM dataset_rows_v2 WHERE dataset = ${dataset}`);
      return Number(row!.c) === rows.length * 4;
    }, 120_000);
    await call('POST', '/api/2.0/mlflow/registered-models/create', { name: model });
    for (let v = 1; v <= 2; v++) await call('POST', '/api/2.0/mlflow/model-versions/create', { name: model, source: `mlflow-artifacts:/fraud/${v}` });
    // The baseline version's offline evaluation.
    await call('POST', `/api/v1/models/${model}/versions/1/metrics`, { metrics: [{ key: 'offline/precision', value: 0.85 }] });
    await call('POST', '/api/v1/monitors', {
      name: `mon-${run}`,
      model: { name: model, version: '2' },
      task: 'binary',
      dataset,
      prediction_column: 'pred',
      label_column: 'label',
      score_column: 'score',
      sensitive_columns: ['grp'],
      window_ms: HOUR,
      alerts: [
        { name: 'accuracy-low', metric: 'accuracy', op: 'below', threshold: 0.8 },
        { name: 'precision-vs-v1', metric: 'precision', op: 'below', baseline: { version: '1', key: 'offline/precision', tolerance: 0.05 } },
        { name: 'parity', metric: 'fairness.grp.demographic_parity_difference', op: 'above', threshold: 0.3 },
      ],
      webhook: { url: receiverUrl },
    });
    firstEvaluation = await call('POST', `/api/v1/monitors/mon-${run}/evaluate`);
    secondEvaluation = await call('POST', `/api/v1/monitors/mon-${run}/evaluate`);
  }, 300_000);

  afterAll(async () => {
    await svc?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('fires and resolves each rule at the windows where its value crosses the threshold', async () => {
    const rules = Object.fromEntries(firstEvaluation.alerts.map((a: any) => [a.rule, a]));
    const states = (rule: string) => rules[rule].history.map((e: any) => [e.state, (e.window_start_ms - T0) / HOUR]);
    expect(states('accuracy-low')).toEqual([['firing', 1], ['resolved', 2]]);
    expect(states('parity')).toEqual([['firing', 1], ['resolved', 2]]);
    expect(states('precision-vs-v1')).toEqual([['firing', 0], ['resolved', 2]]);
    expect(rules['precision-vs-v1'].history[0].threshold).toBeCloseTo(0.8, 12);
    expect(rules['precision-vs-v1'].history[0].value).toBeCloseTo(25 / 35, 12);
    expect(rules['accuracy-low'].state).toBe('resolved');
    const firing = rules['accuracy-low'].history[0];
    expect(firing.value).toBe(0.62);
    expect(firing.threshold).toBe(0.8);
    // The served states are the stored ones.
    const served = await call('GET', `/api/v1/monitors/mon-${run}/alerts`);
    expect(served.alerts).toEqual(firstEvaluation.alerts);
  });

  it('evaluating again writes nothing and changes no state', () => {
    expect(firstEvaluation.points_written).toBeGreaterThan(0);
    expect(secondEvaluation.points_written).toBe(0);
    expect(secondEvaluation.alerts).toEqual(firstEvaluation.alerts);
  });

  it('delivers every change to the webhook once, retrying failures with the same idempotency key', () => {
    const changes = firstEvaluation.alerts.flatMap((a: any) => a.history.map((e: any) => e.idempotency_key));
    const delivered = received.filter((r) => r.status === 200).map((r) => r.key);
    expect(delivered.sort()).toEqual([...changes].sort());
    expect(received.slice(0, 3).map((r) => r.key)).toEqual([received[0]!.key, received[0]!.key, received[0]!.key]);
    expect(received[2]!.body).toMatchObject({ monitor: `mon-${run}`, model: { name: model, version: '2' }, rule: expect.any(String), state: 'firing' });
  });

  it('writes each window into the model version\'s history and exports alert states to Prometheus', async () => {
    const history = await call('GET', `/api/v1/models/${model}/versions/2/metric-history?key=${encodeURIComponent(`mon-${run}/accuracy`)}`);
    const points = history.metrics ?? history.points;
    expect(points.map((p: any) => [p.step - T0 / HOUR, p.value])).toEqual([[0, 0.9], [1, 0.62], [2, 0.95]]);
    const perSegment = await call('GET', `/api/v1/models/${model}/versions/2/metrics`);
    expect(JSON.stringify(perSegment)).toContain(`mon-${run}/web/accuracy`);
    const metrics = await (await fetch(`${svc.base}/metrics`)).text();
    expect(metrics).toContain(`runstream_monitor_alert_firing{monitor="mon-${run}",rule="accuracy-low"} 0`);
    expect(metrics).toMatch(new RegExp(`runstream_monitor_alert_firing\\{monitor="mon-${run}",rule="precision-vs-v1"\\} [01]`));
    expect(metrics).toMatch(/runstream_monitor_webhook_deliveries_total\{outcome="delivered"\} \d+/);
  });

  it('answers bad monitors with 400 and unknown ones with 404, and keeps the reserved datasets to itself', async () => {
    const send = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${svc.base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const base = { name: `bad-${run}`, model: { name: model, version: '2' }, task: 'binary', dataset, prediction_column: 'pred', label_column: 'label' };
    for (const bad of [
      { ...base, label_column: undefined },
      { ...base, task: 'ranking' },
      { ...base, name: 'a/b' },
      { ...base, window_ms: 10 },
      { ...base, alerts: [{ name: 'x', metric: 'accuracy', op: 'below' }] },
      { ...base, alerts: [{ name: 'x', metric: 'drift_share', op: 'above', threshold: 0.5 }] },
      { ...base, webhook: { url: 'file:///etc/passwd' } },
    ]) {
      const r = await send('POST', '/api/v1/monitors', bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.error.code).toBe('INVALID_ARGUMENT');
    }
    expect((await send('POST', `/api/v1/monitors/nope-${run}/report`, {})).status).toBe(404);
    expect((await send('GET', `/api/v1/monitors/nope-${run}/alerts`)).status).toBe(404);
    expect((await send('POST', `/api/v1/monitors/mon-${run}/report`, { from_ms: 10, to_ms: 5 })).status).toBe(400);
    expect((await send('POST', '/api/v1/datasets/_runstream.monitors/rows', { rows: [{ values: { name: 'x' } }] })).status).toBe(400);
    const listed = await send('GET', '/api/v1/datasets?max_results=1000');
    expect(listed.body.datasets.some((d: any) => d.dataset.startsWith('_runstream.'))).toBe(false);
  });
});
