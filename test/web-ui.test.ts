// The web UI end to end: data through the real pipeline (MLflow API for runs, params and model versions, the SDK
// through Kafka for metric series), the query service serving /ui/, and Debian's Chromium driving each page.
// Charts are checked by the data they plot (window.__runstream.charts()) against the generated values.
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { queryRows, sql } from '@runstream/clickhouse';
import { createMetricsProducer } from '@runstream/sdk';
import { parseTokens } from '../services/query-service/src/auth.ts';
import { launchChromium } from './support/browser.ts';
import { isolatedEnv, log, startPipelineService, waitFor, type PipelineService } from './support/pipeline-fixture.ts';

const env = isolatedEnv({ INGEST_BATCH_LINGER_MS: '20' });
const TOKEN = `ui-${randomUUID()}`;
const ARTIFACTS = 'test-artifacts/ui';
const RUNS = 100;
const SPIKE_STEPS = 10_000;
const OTHER_STEPS = 2000;
const SPIKE_AT = 7777;
const LRS = ['0.01', '0.1', '0.001'];
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

/** Known series: loss decays per run, run 0 has one spike; acc rises. One point per step, one second apart. */
const lossAt = (run: number, step: number) => (run === 0 && step === SPIKE_AT ? 50 : 2 / (1 + step / 200) + 0.01 * run);
const accAt = (run: number, step: number) => (step / SPIKE_STEPS) * (0.5 + run / 200);
const stepsOf = (run: number) => (run === 0 ? SPIKE_STEPS : OTHER_STEPS);
/** Two more series per run, so the 100-run compare draws four charts; grad_norm wiggles inside every bucket. */
const gradNormAt = (run: number, step: number) => 1 + 0.5 * Math.sin(step / 3 + run);
const lrAt = (step: number) => 0.1 * 0.999 ** step;

interface PlottedSeries { label: string; x: number[]; xFirst: number[]; xLast: number[]; min: number[]; max: number[]; line: number[] }
interface Plotted { title: string; xKind: string; log: boolean; xDomain: [number, number]; plotArea: { left: number; top: number; width: number; height: number }; series: PlottedSeries[] }

let svc: PipelineService;
let browser: Browser;
let context: BrowserContext;
let experimentId: string;
const runIds: string[] = [];
const MODEL = `ui-model-${randomUUID().slice(0, 8)}`;
const ACCURACY = [0.9, 0.91, 0.85, 0.92];
const DATASET = `ui-data-${randomUUID().slice(0, 8)}`;
const DATA_ROWS = 1000;
const HOUR = 3_600_000;
const CATS = ['a', 'b', 'c'];
/** Reference x uniform on [0, 1), current shifted by 0.5 (drift); cat the same mix, plus a new 'd' in current. */
const refX = (i: number) => i / DATA_ROWS;
const curX = (i: number) => i / DATA_ROWS + 0.5;
const curCat = (i: number) => (i >= DATA_ROWS - 10 ? 'd' : CATS[i % 3]!);

async function call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${svc.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json as T;
}

async function inParallel<T>(n: number, items: T[], fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}

async function loadData(): Promise<void> {
  experimentId = (await call('POST', '/api/2.0/mlflow/experiments/create', { name: `ui-${randomUUID()}` })).experiment_id;
  const indexes = Array.from({ length: RUNS }, (_, i) => i);
  await inParallel(8, indexes, async (i) => {
    const run = (await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: i === 0 ? 'spike' : `run-${String(i).padStart(3, '0')}`, start_time: T0 })).run.info.run_id;
    runIds[i] = run;
    await call('POST', '/api/2.0/mlflow/runs/log-batch', {
      run_id: run,
      params: [
        { key: 'lr', value: LRS[i % 3] },
        { key: 'batch', value: '32' },
        { key: 'seed', value: String(i) },
      ],
    });
  });
  const sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, lingerMs: 10, producerId: 'web-ui-test', logger: log });
  let expected = 0;
  for (let i = 0; i < RUNS; i++) {
    for (let step = 0; step < stepsOf(i); step++) {
      await sdk.logMetrics({ run: runIds[i]! }, { loss: lossAt(i, step), acc: accAt(i, step), grad_norm: gradNormAt(i, step), lr: lrAt(step) }, { step, timestampMs: T0 + step * 1000 });
      expected += 4;
    }
  }
  await sdk.close();
  await waitFor(
    `${expected} points stored`,
    async () => {
      const [row] = await queryRows<{ c: string }>(svc.ch, sql`SELECT count() AS c FROM metric_points_v2 WHERE entity_id IN ${runIds}`);
      return Number(row!.c) >= expected;
    },
    180_000,
    500,
  );

  await call('POST', `/api/v1/datasets/${DATASET}/rows`, {
    version: 'reference',
    rows: Array.from({ length: DATA_ROWS }, (_, i) => ({ timestamp_ms: T0 - 86_400_000 + i * 1000, values: { x: refX(i), cat: CATS[i % 3] } })),
  });
  await call('POST', `/api/v1/datasets/${DATASET}/rows`, {
    version: 'current',
    rows: Array.from({ length: DATA_ROWS }, (_, i) => ({ timestamp_ms: T0 + i * 18_000, values: { x: curX(i), cat: curCat(i) } })),
  });

  await call('POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL });
  for (let v = 1; v <= ACCURACY.length; v++) {
    await call('POST', '/api/2.0/mlflow/model-versions/create', { name: MODEL, source: `runs:/${runIds[v]}/model`, run_id: runIds[v] });
    await call('POST', `/api/v1/models/${MODEL}/versions/${v}/metrics`, { metrics: [{ key: 'accuracy', value: ACCURACY[v - 1], timestamp_ms: T0 + v * 86_400_000 }] });
  }
}

async function renders(page: Page): Promise<number> {
  return Number(await page.evaluate("document.getElementById('app')?.dataset.renders ?? 0"));
}

/** Waits until the page finished rendering more than `after` times; fails with the page's error banner. */
async function settled(page: Page, after = 0): Promise<void> {
  // Browser-side code as strings: this file is type-checked without the DOM library.
  await page.waitForFunction(`(() => { const app = document.getElementById('app'); return app?.dataset.status !== 'loading' && Number(app?.dataset.renders ?? 0) > ${after}; })()`, undefined, { timeout: 60_000 });
  const status = await page.evaluate("document.getElementById('app').dataset.status");
  if (status === 'error') throw new Error(`page error: ${await page.textContent('#status-banner')}`);
}

async function charts(page: Page): Promise<Plotted[]> {
  return (await page.evaluate('window.__runstream.charts()')) as Plotted[];
}

async function open(path: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${svc.base}${path}`);
  await settled(page);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

/** Every bucket's min and max are exactly those of the generated points inside it (steps are contiguous). */
function expectBucketsExact(s: PlottedSeries, valueAt: (step: number) => number, lastStep: number): void {
  expect(s.xFirst.length).toBeGreaterThan(0);
  for (let b = 0; b < s.xFirst.length; b++) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    const from = s.xFirst[b]!;
    const to = Math.min(s.xLast[b]!, lastStep);
    for (let step = from; step <= to; step++) {
      const v = valueAt(step);
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    expect(s.min[b]).toBe(min);
    expect(s.max[b]).toBe(max);
    expect(s.line[b]).toBeCloseTo(sum / (to - from + 1), 9);
  }
}

describe('web UI', () => {
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

  it('serves its assets without a token and asks for one before showing data', async () => {
    const js = await fetch(`${svc.base}/ui/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${svc.base}/ui/runs`)).status).toBe(200);
    const fresh = await browser.newContext();
    const page = await fresh.newPage();
    const external: string[] = [];
    page.on('request', (r) => void (r.url().startsWith(svc.base) || external.push(r.url())));
    await page.goto(`${svc.base}/ui/runs?exp=${experimentId}`);
    await page.waitForSelector('#app[data-status=error]');
    expect(await page.textContent('#status-banner')).toMatch(/token/i);
    await page.fill('#token-input', TOKEN);
    await page.click('.token-form button');
    await page.waitForSelector('#app[data-status=ready]');
    expect(await page.locator('#runs-table tbody tr').count()).toBe(RUNS);
    expect(external).toEqual([]);
    await fresh.close();
  });

  it('runs page: filter with the DSL, choose columns, select runs and open the comparison', async () => {
    const page = await open(`/ui/runs?exp=${experimentId}&filter=${encodeURIComponent("params.lr = '0.1' AND metrics.loss < 1")}&col=params.lr&col=params.seed&col=metrics.loss`);
    const expected = runIds.filter((_, i) => LRS[i % 3] === '0.1' && lossAt(i, stepsOf(i) - 1) < 1);
    expect(await page.locator('#runs-table tbody tr').count()).toBe(expected.length);
    expect(await page.textContent('#result-summary')).toContain(`${expected.length} runs match`);
    expect(await page.locator('#runs-table thead th').allTextContents()).toEqual(['', 'run', 'status', 'started', 'params.lr', 'params.seed', 'metrics.loss']);
    await shot(page, 'runs');
    const beforeSort = await renders(page);
    const sortReq = page.waitForRequest((r) => r.url().endsWith('/api/v1/runs/search'));
    await page.click('#runs-table thead th:has-text("metrics.loss")');
    expect((await sortReq).postDataJSON().order_by).toEqual(['metrics.loss DESC']);
    await settled(page, beforeSort);
    const byLoss = [...expected].sort((a, b) => lossAt(runIds.indexOf(b), stepsOf(runIds.indexOf(b)) - 1) - lossAt(runIds.indexOf(a), stepsOf(runIds.indexOf(a)) - 1));
    const rowIds = await Promise.all(Array.from({ length: expected.length }, (_, i) => page.locator('#runs-table tbody tr').nth(i).getAttribute('data-run')));
    expect(rowIds).toEqual(byLoss);
    expect(new URL(page.url()).searchParams.get('order')).toBe('metrics.loss DESC');
    // A filter the API rejects shows its message; the table stays usable.
    await page.fill('#filter', "params.lr = = '0.1'");
    await page.click('#search');
    await page.waitForSelector('#app[data-status=error]');
    expect(await page.textContent('#status-banner')).toMatch(/./);
    await page.fill('#filter', "params.lr = '0.1' AND metrics.loss < 1");
    const beforeFix = await renders(page);
    await page.click('#search');
    await settled(page, beforeFix);
    expect(await page.locator('#runs-table tbody tr').count()).toBe(expected.length);

    await page.locator(`tr[data-run="${expected[0]}"] input.select-run`).check();
    await page.locator(`tr[data-run="${expected[1]}"] input.select-run`).check();
    expect(new URL(page.url()).searchParams.getAll('run')).toEqual([expected[0], expected[1]]);
    await page.click('#compare-selected');
    await page.waitForURL(/\/ui\/compare/);
    await settled(page);
    const plotted = await charts(page);
    expect(plotted.map((c) => c.title).sort()).toEqual(['acc', 'grad_norm', 'loss', 'lr']);
    expect(plotted[0]!.series).toHaveLength(2);
    await page.close();
  });

  it('compare page: bucket min/max of a series with a known spike, drag-zoom re-queries the range, shareable link', async () => {
    const runs = runIds.slice(0, 3);
    const page = await open(`/ui/compare?${runs.map((r) => `run=${r}`).join('&')}&key=loss&key=acc`);
    let [loss] = (await charts(page)).filter((c) => c.title === 'loss');
    expect(loss!.series.map((s) => s.label)).toEqual(['spike', 'run-001', 'run-002']);
    const spike = loss!.series[0]!;
    expect(spike.xFirst.length).toBeLessThan(SPIKE_STEPS); // downsampled on the server
    expectBucketsExact(spike, (s) => lossAt(0, s), SPIKE_STEPS - 1);
    expectBucketsExact(loss!.series[1]!, (s) => lossAt(1, s), OTHER_STEPS - 1);
    const spikeBucket = spike.xFirst.findIndex((f, b) => f <= SPIKE_AT && SPIKE_AT <= spike.xLast[b]!);
    expect(spike.max[spikeBucket]).toBe(50);
    const wideBucket = spike.xLast[spikeBucket]! - spike.xFirst[spikeBucket]!;
    await shot(page, 'compare');

    // Drag from step 7000 to 8500 on the loss chart.
    const box = (await page.locator('.chart[data-chart="loss"] canvas').boundingBox())!;
    const px = (step: number) => box.x + loss!.plotArea.left + ((step - loss!.xDomain[0]) / (loss!.xDomain[1] - loss!.xDomain[0])) * loss!.plotArea.width;
    const y = box.y + box.height / 2;
    const before = await renders(page);
    const request = page.waitForRequest((r) => r.url().endsWith('/api/v1/series'));
    await page.mouse.move(px(7000), y);
    await page.mouse.down();
    await page.mouse.move(px(8000), y, { steps: 4 });
    await page.mouse.move(px(8500), y, { steps: 4 });
    await page.mouse.up();
    const body = (await request).postDataJSON();
    await settled(page, before);
    const slack = (loss!.xDomain[1] - loss!.xDomain[0]) / loss!.plotArea.width + 1;
    expect(Math.abs(body.from - 7000)).toBeLessThanOrEqual(slack);
    expect(Math.abs(body.to - 8500)).toBeLessThanOrEqual(slack);
    const url = new URL(page.url());
    expect([Number(url.searchParams.get('from')), Number(url.searchParams.get('to'))]).toEqual([body.from, body.to]);
    [loss] = (await charts(page)).filter((c) => c.title === 'loss');
    const zoomed = loss!.series[0]!;
    expect(loss!.xDomain).toEqual([body.from, body.to]);
    expect(zoomed.xFirst[0]).toBeGreaterThanOrEqual(body.from);
    expect(zoomed.xLast[zoomed.xLast.length - 1]).toBeLessThanOrEqual(body.to);
    expectBucketsExact(zoomed, (s) => lossAt(0, s), SPIKE_STEPS - 1);
    const zb = zoomed.xFirst.findIndex((f, b) => f <= SPIKE_AT && SPIKE_AT <= zoomed.xLast[b]!);
    expect(zoomed.max[zb]).toBe(50);
    expect(zoomed.xLast[zb]! - zoomed.xFirst[zb]!).toBeLessThan(wideBucket); // finer than before the zoom
    await shot(page, 'compare-zoomed');

    // The link alone reproduces the zoomed view.
    const again = await open(`${url.pathname}${url.search}`);
    const [shared] = (await charts(again)).filter((c) => c.title === 'loss');
    expect(shared!.xDomain).toEqual([body.from, body.to]);
    expect(shared!.series[0]!.xFirst).toEqual(zoomed.xFirst);
    await again.close();

    // Double-click resets the zoom.
    const beforeReset = await renders(page);
    await page.locator('.chart[data-chart="loss"] canvas').dblclick();
    await settled(page, beforeReset);
    expect(new URL(page.url()).searchParams.get('from')).toBeNull();
    await page.close();
  });

  it('compare page: wall-time and relative axes, smoothing, log scale, summary and params that differ', async () => {
    const runs = runIds.slice(0, 3);
    const page = await open(`/ui/compare?${runs.map((r) => `run=${r}`).join('&')}&key=loss`);

    let before = await renders(page);
    await page.selectOption('#x-axis', 'time');
    await settled(page, before);
    const [wall] = await charts(page);
    expect(wall!.xKind).toBe('time');
    expect(wall!.series[0]!.xFirst[0]).toBe(T0);
    expect(wall!.series[0]!.xLast.at(-1)).toBe(T0 + (SPIKE_STEPS - 1) * 1000);

    before = await renders(page);
    const relReq = page.waitForRequest((r) => r.url().endsWith('/api/v1/series'));
    await page.selectOption('#x-axis', 'relative');
    expect((await relReq).postDataJSON().x).toBe('relative');
    await settled(page, before);
    let [loss] = await charts(page);
    expect(loss!.xKind).toBe('relative');
    const spike = loss!.series[0]!;
    expect(spike.xFirst[0]).toBe(0);
    expect(spike.xLast[spike.xLast.length - 1]).toBe((SPIKE_STEPS - 1) * 1000);
    expect(new URL(page.url()).searchParams.get('x')).toBe('relative');

    before = await renders(page);
    const smoothRes = page.waitForResponse((r) => r.url().endsWith('/api/v1/series'));
    await page.evaluate("(() => { const el = document.getElementById('smoothing'); el.value = '0.9'; el.dispatchEvent(new Event('change')); })()");
    const smoothed = await (await smoothRes).json();
    expect(JSON.parse((await smoothRes).request().postData()!).smoothing).toEqual({ method: 'ema', weight: 0.9 });
    await settled(page, before);
    [loss] = await charts(page);
    const apiSpike = smoothed.series.find((s: { run: string; key: string }) => s.run === runIds[0] && s.key === 'loss');
    expect(loss!.series[0]!.line).toEqual(apiSpike.smoothed);
    expect(loss!.series[0]!.max).toEqual(apiSpike.max); // the band stays raw

    await page.check('#log-scale');
    [loss] = await charts(page);
    expect(loss!.log).toBe(true);
    expect(new URL(page.url()).searchParams.get('log')).toBe('1');
    await shot(page, 'compare-relative-smoothed-log');

    const row = (i: number) => `#summary-table tr[data-run="${runIds[i]}"]`;
    expect(await page.textContent(`${row(0)} td[data-metric=loss][data-stat=max]`)).toBe('50');
    expect(await page.textContent(`${row(0)} td[data-metric=loss][data-stat=last]`)).toBe(String(Number(lossAt(0, SPIKE_STEPS - 1).toPrecision(6))));
    expect(await page.textContent(`${row(2)} td[data-metric=loss][data-stat=min]`)).toBe(String(Number(lossAt(2, OTHER_STEPS - 1).toPrecision(6))));
    expect(await page.locator('#params-table thead th').allTextContents()).toEqual(expect.arrayContaining(['batch', 'lr', 'seed']));
    before = await renders(page);
    await page.check('#only-differing');
    await page.waitForFunction("![...document.querySelectorAll('#params-table thead th')].some((th) => th.textContent === 'batch')");
    expect((await page.locator('#params-table thead th').allTextContents()).sort()).toEqual(['lr', 'run', 'seed']);
    expect(new URL(page.url()).searchParams.get('diff')).toBe('1');
    await page.close();
  });

  it(`compare page: ${RUNS} runs × 4 metrics render within a second of the response`, async () => {
    const page = await open(`/ui/compare?${runIds.map((r) => `run=${r}`).join('&')}&key=loss&key=acc&key=grad_norm&key=lr`);
    const plotted = await charts(page);
    expect(plotted).toHaveLength(4);
    for (const c of plotted) expect(c.series).toHaveLength(RUNS);
    const acc = plotted.find((c) => c.title === 'acc')!;
    expectBucketsExact(acc.series[42]!, (s) => accAt(42, s), OTHER_STEPS - 1);
    const grad = plotted.find((c) => c.title === 'grad_norm')!;
    expect(grad.series[0]!.xFirst.length).toBeLessThan(OTHER_STEPS); // every bucket holds several points
    expectBucketsExact(grad.series[7]!, (s) => gradNormAt(7, s), OTHER_STEPS - 1);
    const timings = (await page.evaluate('window.__runstream.timings')) as Record<string, number>;
    log.warn({ timings }, `${RUNS}-run compare timings (ms)`);
    expect(timings.compareFrameMs).toBeLessThan(1000);
    await shot(page, 'compare-100-runs');
    await page.close();
  });

  it('model versions page: a metric across versions with degradation against the baseline flagged', async () => {
    const page = await open(`/ui/models?model=${MODEL}&key=accuracy&baseline=1&tol=0.01`);
    const [trend] = await charts(page);
    expect(trend!.series[0]!.line).toEqual(ACCURACY);
    const rows = page.locator('#versions-table tr.degraded');
    const degraded = await Promise.all(Array.from({ length: await rows.count() }, (_, i) => rows.nth(i).getAttribute('data-version')));
    expect(degraded).toEqual(['3']);
    expect(new URL((await page.getAttribute('#compare-version-runs', 'href'))!, svc.base).searchParams.getAll('run')).toEqual(runIds.slice(1, 1 + ACCURACY.length));
    await shot(page, 'models');
    await page.close();
  });

  it('data page: quality table, drift report with overlaid histograms of the generated values, drift over time', async () => {
    const page = await context.newPage();
    const driftRes = page.waitForResponse((r) => r.url().endsWith('/api/v1/drift'));
    const overTimeRes = page.waitForResponse((r) => r.url().endsWith('/api/v1/drift/over-time'));
    await page.goto(`${svc.base}/ui/data?dataset=${DATASET}&ref_version=reference&cur_version=current&cur_from=${T0}&cur_to=${T0 + 5 * HOUR}&window=${HOUR}&label=cat`);
    await settled(page);
    const drift = await (await driftRes).json();
    const overTime = await (await overTimeRes).json();

    // Verdict and per-column table as the API reported them; x (shifted by 0.5) drifted.
    expect(drift.columns.find((c: { column: string }) => c.column === 'x').drifted).toBe(true);
    expect(await page.textContent('#drift-verdict')).toContain(`${drift.number_of_drifted_columns} of ${drift.number_of_columns} columns drifted`);
    for (const c of drift.columns) {
      expect(await page.locator(`#drift-table tr[data-column="${c.column}"] td.flag`).textContent()).toBe(c.drifted ? 'drift' : '');
      expect(await page.locator(`#drift-table tr[data-column="${c.column}"] select.method option:checked`).textContent()).toBe(`${c.method} (default)`);
    }

    // Histograms: per bin, the generated values that fall in it (numpy's bins: half-open, the last one closed).
    const histograms = (await page.evaluate('window.__runstream.histograms()')) as { column: string; bins: string[]; referenceShare: number[]; currentShare: number[] }[];
    const x = histograms.find((hh) => hh.column === 'x')!;
    const edges: number[] = drift.columns.find((c: { column: string }) => c.column === 'x').reference_histogram.edges;
    const binCounts = (values: number[]) =>
      edges.slice(0, -1).map((lo, k) => values.filter((v) => v >= lo && (k === edges.length - 2 ? v <= edges[k + 1]! : v < edges[k + 1]!)).length);
    const ids = Array.from({ length: DATA_ROWS }, (_, i) => i);
    expect(x.referenceShare.map((sh) => Math.round(sh * DATA_ROWS))).toEqual(binCounts(ids.map(refX)));
    const overTimeWindow = ids.filter((i) => T0 + i * 18_000 <= T0 + 5 * HOUR);
    expect(x.currentShare.map((sh) => Math.round(sh * overTimeWindow.length))).toEqual(binCounts(overTimeWindow.map(curX)));
    const cat = histograms.find((hh) => hh.column === 'cat')!;
    const d = cat.bins.indexOf('d');
    expect(d).toBeGreaterThanOrEqual(0);
    expect(cat.referenceShare[d]).toBe(0);
    expect(cat.currentShare[d]).toBeCloseTo(10 / DATA_ROWS, 12);

    // Quality of the current selection.
    const q = (column: string, stat: string) => page.textContent(`#quality-table tr[data-column="${column}"] td[data-stat="${stat}"]`);
    expect(await q('x', 'rows')).toBe(String(DATA_ROWS));
    expect(await q('x', 'missing')).toBe('0');
    expect(await q('x', 'min')).toBe('0.5');
    expect(await q('x', 'max')).toBe('1.499');
    expect(await q('cat', 'new')).toBe('d');
    expect(await page.textContent('#class-balance')).toBe('Class balance of cat: a (33.0%), b (33.0%), c (33.0%), d (1.0%)');

    // Drift over time: five one-hour windows, each plotted at the API's score.
    expect(overTime.windows).toHaveLength(5);
    const plotted = await charts(page);
    const shares = plotted.find((c) => c.title === 'share of drifted columns')!;
    expect(shares.series[0]!.line).toEqual(overTime.windows.map((w: { report: { share_of_drifted_columns: number } }) => w.report.share_of_drifted_columns));
    const scores = plotted.find((c) => c.title === 'drift score per column')!;
    const xScores = scores.series.find((sr) => sr.label === 'x')!;
    expect(xScores.x).toEqual(overTime.windows.map((w: { from_ms: number; to_ms: number }) => (w.from_ms + w.to_ms) / 2));
    expect(xScores.line).toEqual(overTime.windows.map((w: { report: { columns: { column: string; score: number }[] } }) => w.report.columns.find((c) => c.column === 'x')!.score));
    await shot(page, 'data');

    // Another method for one column: asked for, shown, kept in the link.
    const before = await renders(page);
    const psiReq = page.waitForRequest((r) => r.url().endsWith('/api/v1/drift'));
    const psiRes = page.waitForResponse((r) => r.url().endsWith('/api/v1/drift'));
    await page.selectOption('#drift-table tr[data-column="x"] select.method', 'psi');
    expect((await psiReq).postDataJSON().methods).toEqual({ x: { method: 'psi' } });
    const psi = (await (await psiRes).json()).columns.find((c: { column: string }) => c.column === 'x');
    await settled(page, before);
    expect(psi.method).toBe('psi');
    expect(await page.locator('#drift-table tr[data-column="x"] td.num').first().textContent()).toBe(String(Number(psi.score.toPrecision(6))));
    expect(await page.inputValue('#drift-table tr[data-column="x"] select.method')).toBe('psi');
    expect(new URL(page.url()).searchParams.get('method.x')).toBe('psi');
    await page.close();
  });

  it('ranks page: a run logged by 3 ranks, split by rank and as the cross-rank band, both matching the logged values', async () => {
    const RANKS = 3;
    const STEPS = 3000;
    const valueAt = (rank: number, step: number) => Math.sin(step / 50) + rank + (step % 7) * 0.01;
    const run = (await call('POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: 'ddp', start_time: T0 })).run.info.run_id as string;
    // One producer per rank, as each process of a distributed job would have; the rank rides in the producer id.
    for (let rank = 0; rank < RANKS; rank++) {
      const sdk = await createMetricsProducer({ brokers: env.KAFKA_BROKERS!.split(','), topicPrefix: env.KAFKA_TOPIC_PREFIX!, lingerMs: 10, producerId: `rank=${rank}/${RANKS} host=test pid=${rank}`, logger: log });
      for (let step = 0; step < STEPS; step++) await sdk.logMetric({ run }, 'loss', valueAt(rank, step), { step, timestampMs: T0 + step * 1000 });
      await sdk.close();
    }
    await waitFor('rank points stored', async () => {
      const [row] = await queryRows<{ c: string }>(svc.ch, sql`SELECT count() AS c FROM metric_points_v2 WHERE entity_id = ${run}`);
      return Number(row!.c) >= RANKS * STEPS;
    }, 120_000, 300);

    const page = await open(`/ui/ranks?run=${run}&key=loss`);
    const [split] = await charts(page);
    expect(split!.series.map((s) => s.label)).toEqual(['rank 0', 'rank 1', 'rank 2']);
    for (let rank = 0; rank < RANKS; rank++) {
      expect(split!.series[rank]!.xFirst.length).toBeLessThan(STEPS); // downsampled on the server
      expectBucketsExact(split!.series[rank]!, (s) => valueAt(rank, s), STEPS - 1);
    }
    expect(await page.textContent('#rank-meta')).toContain(`${(RANKS * STEPS).toLocaleString('en')} points`);
    await shot(page, 'ranks-split');

    const before = await renders(page);
    await page.selectOption('#rank-view', 'band');
    await settled(page, before);
    expect(new URL(page.url()).searchParams.get('view')).toBe('band');
    const [band] = await charts(page);
    expect(band!.series).toHaveLength(1);
    const s = band!.series[0]!;
    for (let b = 0; b < s.xFirst.length; b++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let step = s.xFirst[b]!; step <= s.xLast[b]!; step++) {
        for (let rank = 0; rank < RANKS; rank++) {
          lo = Math.min(lo, valueAt(rank, step));
          hi = Math.max(hi, valueAt(rank, step));
        }
      }
      expect([s.min[b], s.max[b]]).toEqual([lo, hi]);
    }
    await shot(page, 'ranks-band');
    await page.close();
  });
});
