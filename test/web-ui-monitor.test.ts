// The monitoring page and the compare page's single-value charts in a real browser (Debian's Chromium driven by
// playwright-core) against the real pipeline: every number the monitoring page shows — per-window metrics, the
// chart, the confusion matrix, fairness per group, the alert history — is checked against the API's answers, and a
// metric with one value per run is drawn as one bar per run with the logged values.
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parseTokens } from '../services/query-service/src/auth.ts';
import { launchChromium } from './support/browser.ts';
import { isolatedEnv, startPipelineService, waitFor, type PipelineService } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '20' });
const TOKEN = `ui-${randomUUID()}`;
const ARTIFACTS = 'test-artifacts/ui';
const T0 = Date.UTC(2026, 2, 9);
const HOUR = 3_600_000;
const id = randomUUID().slice(0, 8);
const DATASET = `ui-monitor-${id}`;
const MODEL = `ui-monitored-${id}`;
const MONITOR = `ui-mon-${id}`;
const FINAL_ACC = [0.81, 0.875, 0.9];

let svc: PipelineService;
let browser: Browser;
let context: BrowserContext;
const runIds: string[] = [];

async function call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${svc.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

async function open(path: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${svc.base}${path}`);
  await page.waitForFunction("(() => { const app = document.getElementById('app'); return app?.dataset.status !== 'loading' && Number(app?.dataset.renders ?? 0) > 0; })()", undefined, { timeout: 60_000 });
  const status = await page.evaluate("document.getElementById('app').dataset.status");
  if (status === 'error') throw new Error(`page error: ${await page.textContent('#status-banner')}`);
  return page;
}

async function loadData(): Promise<void> {
  // Three hourly windows of 120 predictions in two segments; group "b" is selected more often in the last window.
  const rows = [];
  for (let w = 0; w < 3; w++) {
    for (let i = 0; i < 120; i++) {
      const label = i % 3 === 0 ? 1 : 0;
      const group = i % 2 === 0 ? 'a' : 'b';
      const pred = (w === 2 && group === 'b') || i % (5 + w) === 0 ? 1 : label;
      rows.push({ timestamp_ms: T0 + w * HOUR + i * 1000, segment: i % 4 === 0 ? 'mobile' : 'web', values: { pred, label, score: pred ? 0.5 + (i % 50) / 100 : (i % 50) / 100, grp: group } });
    }
  }
  await call('POST', `/api/v1/datasets/${DATASET}/rows`, { columns: { pred: 'numerical', label: 'numerical', score: 'numerical', grp: 'categorical' }, rows });
  await call('POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  await call('POST', '/api/2.0/mlflow/model-versions/create', { name: MODEL, source: 'mlflow-artifacts:/m/1' });
  await call('POST', '/api/2.0/mlflow/model-versions/create', { name: MODEL, source: 'mlflow-artifacts:/m/2' });
  await call('POST', `/api/v1/models/${MODEL}/versions/1/metrics`, { metrics: [{ key: 'eval/accuracy', value: 0.8 }] });
  await call('POST', '/api/v1/monitors', {
    name: MONITOR,
    model: { name: MODEL, version: '2' },
    task: 'binary',
    dataset: DATASET,
    prediction_column: 'pred',
    label_column: 'label',
    score_column: 'score',
    sensitive_columns: ['grp'],
    window_ms: HOUR,
    alerts: [{ name: 'acc-vs-v1', metric: 'accuracy', op: 'below', baseline: { version: '1', key: 'eval/accuracy', tolerance: 0 } }],
  });
  await call('POST', `/api/v1/monitors/${MONITOR}/evaluate`);

  // Runs with one final accuracy each (and a loss series, drawn as a line).
  const experiment = (await call('POST', '/api/2.0/mlflow/experiments/create', { name: `ui-monitor-${id}` })).experiment_id;
  for (let i = 0; i < FINAL_ACC.length; i++) {
    const run = (await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experiment, run_name: `final-${i}`, start_time: T0 })).run.info.run_id;
    runIds.push(run);
    await call('POST', '/api/2.0/mlflow/runs/log-batch', {
      run_id: run,
      metrics: [{ key: 'final_acc', value: FINAL_ACC[i], timestamp: T0, step: 0 }, ...[0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1 + i), timestamp: T0 + step, step }))],
    });
  }
}

describe('web UI: monitoring page and single-value charts', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [svc, browser] = await Promise.all([startPipelineService(env, { tokens: parseTokens(`ui:${TOKEN}:read+write`) }), launchChromium()]);
    await loadData();
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    await context.addInitScript((token) => localStorage.setItem('runstream.token', token), TOKEN);
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.close();
  });

  it('monitoring page: per-window metrics, chart, confusion matrix, fairness bars and alert history equal the API\'s', async () => {
    const report = await call('POST', `/api/v1/monitors/${MONITOR}/report`, {});
    const alerts = await waitFor('alert events readable', async () => {
      const a = await call('GET', `/api/v1/monitors/${MONITOR}/alerts`);
      return a.alerts[0].history.length > 0 ? a : undefined;
    });
    expect(report.windows).toHaveLength(3);
    const page = await open(`/ui/monitors?monitor=${MONITOR}&metric=accuracy`);
    await page.screenshot({ path: `${ARTIFACTS}/monitors.png`, fullPage: true });

    const all = (w: any) => w.segments.find((s: any) => s.segment === null);
    // Browser-side code as strings: this file is type-checked without the DOM library.
    const cells = (await page.evaluate(
      "[...document.querySelectorAll('#monitor-windows tbody tr')].map((tr) => ({ window: Number(tr.dataset.window), values: Object.fromEntries([...tr.querySelectorAll('td[data-metric]')].map((td) => [td.dataset.metric, td.dataset.value])) }))",
    )) as { window: number; values: Record<string, string> }[];
    expect(cells.map((c) => c.window)).toEqual(report.windows.map((w: any) => w.start_ms));
    for (const [i, c] of cells.entries()) {
      for (const [metric, value] of Object.entries(c.values)) {
        const ours = all(report.windows[i]).metrics[metric];
        expect(value, `${metric} of window ${i}`).toBe(ours === null ? 'null' : String(ours));
      }
      expect(Number(c.values.accuracy)).toBe(all(report.windows[i]).metrics.accuracy);
    }

    const [chart] = (await page.evaluate('window.__runstream.charts()')) as { series: { line: number[]; xFirst: number[] }[] }[];
    expect(chart!.series[0]!.line).toEqual(report.windows.map((w: any) => all(w).metrics.accuracy));
    expect(chart!.series[0]!.xFirst).toEqual(report.windows.map((w: any) => w.start_ms));

    // The newest window is selected: its confusion matrix and fairness bars.
    const last = all(report.windows[2]);
    const matrix = await page.evaluate("[...document.querySelectorAll('#confusion-matrix td')].map((td) => [td.dataset.true, td.dataset.pred, Number(td.dataset.count)])");
    expect(matrix).toEqual(last.confusion_matrix.classes.flatMap((t: string, i: number) => last.confusion_matrix.classes.map((p: string, j: number) => [t, p, last.confusion_matrix.matrix[i][j]])));
    const bars = (await page.evaluate(`[...document.querySelectorAll('.fairness[data-feature="grp"] .value-bar')].map((el) => [el.dataset.group, Number(el.dataset.value), Number(el.dataset.tpr), Number(el.dataset.count)])`)) as [string, number, number, number][];
    expect(bars).toEqual(last.fairness[0].groups.map((g: any) => [g.group, g.selection_rate, g.tpr, g.count]));
    expect(bars[1]![1]).toBeGreaterThan(bars[0]![1]);

    const history = await page.evaluate("[...document.querySelectorAll('#alert-history tbody tr')].map((tr) => [tr.dataset.rule, tr.dataset.state])");
    const expected = alerts.alerts.flatMap((a: any) => a.history.map((e: any) => ({ rule: a.rule, ...e }))).sort((x: any, y: any) => y.window_start_ms - x.window_start_ms);
    expect(history).toEqual(expected.map((e: any) => [e.rule, e.state]));
    expect(await page.getAttribute('#alerts [data-rule="acc-vs-v1"]', 'data-state')).toBe(alerts.alerts[0].state);
  });

  it('compare page: a metric with one value per run is one bar per run with the logged values; a series stays a line', async () => {
    const page = await open(`/ui/compare?${runIds.map((r) => `run=${r}`).join('&')}&key=final_acc&key=loss`);
    await page.screenshot({ path: `${ARTIFACTS}/compare-single-value.png`, fullPage: true });
    const bars = (await page.evaluate(`[...document.querySelectorAll('.single-value[data-key="final_acc"] .value-bar')].map((el) => [el.dataset.run, Number(el.dataset.value), el.querySelector('.value-bar-fill')?.style.width ?? ''])`)) as [string, number, string][];
    expect(bars.map((b) => [b[0], b[1]])).toEqual(runIds.map((r, i) => [r, FINAL_ACC[i]]));
    // Bars grow with the value, from 0.
    const widths = bars.map((b) => parseFloat(b[2]));
    expect(widths[2]).toBeCloseTo(100, 6);
    expect(widths[0]! / widths[2]!).toBeCloseTo(FINAL_ACC[0]! / FINAL_ACC[2]!, 6);
    const charts = (await page.evaluate('window.__runstream.charts()')) as { title: string; series: { line: number[] }[] }[];
    expect(charts.map((c) => c.title)).toEqual(['loss']);
    expect(charts[0]!.series.map((s) => s.line.length)).toEqual([3, 3, 3]);
  });
});
