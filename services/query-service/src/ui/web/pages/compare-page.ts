// Compare: one chart per chosen metric for the selected runs (server-downsampled, min/max band, drag-zoom
// re-queried at full resolution), x-axis / smoothing / log controls, a summary table and a params table.
import { api } from '../api-client.ts';
import type { CompareResponse, CompareRun, SeriesColumns, SeriesRequest, SeriesResponse, XAxis } from '../api-types.ts';
import { formatDuration, formatX, seriesColor } from '../chart-scale.ts';
import { formatValue, h } from '../dom.ts';
import { toNumber } from '../json-double.ts';
import { recordTiming, setStatus, showError, trackCharts } from '../page-status.ts';
import { SeriesChart } from '../series-chart.ts';
import { bucketsFor, byKey, chartSeries, plotWidthIn } from '../series-data.ts';
import { compareQuery, parseCompareState, type CompareState } from '../url-state.ts';

const DEFAULT_KEYS = 4;
/** What one series request may ask for. */
const MAX_CHARTED_RUNS = 100;
const MAX_CHARTED_KEYS = 20;

export async function renderComparePage(root: HTMLElement): Promise<void> {
  let state = parseCompareState(new URLSearchParams(location.search));
  if (state.runs.length === 0) {
    root.append(h('p', { class: 'empty' }, 'No runs selected. Pick runs on the ', h('a', { href: '/ui/runs' }, 'Runs'), ' page.'));
    setStatus('ready');
    return;
  }
  const controls = h('section', { class: 'controls' });
  const charts = h('section', { class: 'charts', id: 'charts' });
  const summary = h('section', { class: 'table-section', id: 'summary' });
  const params = h('section', { class: 'table-section', id: 'params' });
  root.append(h('h1', {}, `Compare ${state.runs.length} run${state.runs.length === 1 ? '' : 's'}`), controls, charts, summary, params);

  setStatus('loading');
  let compare = await loadCompare(state);
  const names = new Map(compare.runs.map((r) => [r.run_id, r.run_name || r.run_id]));
  if (state.keys.length === 0) {
    state = { ...state, keys: compare.metric_keys.slice(0, DEFAULT_KEYS) };
    history.replaceState(null, '', compareQuery(state));
  }

  let inflight: AbortController | undefined;
  const commit = (next: CompareState, push: boolean) => {
    state = next;
    if (push) history.pushState(null, '', compareQuery(state));
    else history.replaceState(null, '', compareQuery(state));
  };

  async function refreshSeries(): Promise<void> {
    inflight?.abort();
    const ctl = new AbortController();
    inflight = ctl;
    setStatus('loading');
    try {
      await drawCharts(charts, state, names, ctl.signal, {
        onZoom: (from, to) => {
          commit({ ...state, from, to }, true);
          renderControls();
          void refreshSeries();
        },
        onReset: () => resetZoom(),
      });
      if (inflight === ctl) setStatus('ready');
    } catch (err) {
      if (!ctl.signal.aborted) showError(err);
    }
  }

  function resetZoom(): void {
    if (state.from === undefined && state.to === undefined) return;
    const { from: _f, to: _t, ...rest } = state;
    commit(rest, true);
    renderControls();
    void refreshSeries();
  }

  async function refreshTables(): Promise<void> {
    compare = await loadCompare(state);
    renderTables(summary, params, compare, state, updateTables);
  }

  function updateTables(patch: Partial<CompareState>): void {
    const next = { ...state, ...patch };
    if (!next.rankBy) delete next.rankBy;
    commit(next, false);
    void refreshTables().catch(showError);
  }

  function renderControls(): void {
    const keyBoxes = compare.metric_keys.map((k) =>
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          name: 'key',
          value: k,
          checked: state.keys.includes(k),
          onchange: (e: Event) => {
            const on = (e.target as HTMLInputElement).checked;
            const keys = on ? compare.metric_keys.filter((x) => x === k || state.keys.includes(x)) : state.keys.filter((x) => x !== k);
            commit({ ...state, keys }, false);
            renderTables(summary, params, compare, state, updateTables);
            void refreshSeries();
          },
        }),
        k,
      ),
    );
    const xSelect = h(
      'select',
      {
        id: 'x-axis',
        onchange: (e: Event) => {
          const { from: _f, to: _t, ...rest } = state;
          commit({ ...rest, x: (e.target as HTMLSelectElement).value as XAxis }, false);
          renderControls();
          void refreshSeries();
        },
      },
      ...(['step', 'time', 'relative'] as const).map((x) => h('option', { value: x, selected: state.x === x }, { step: 'Step', time: 'Wall time', relative: 'Relative time' }[x])),
    );
    const smoothOut = h('output', { id: 'smoothing-value' }, state.smoothing ? state.smoothing.toFixed(2) : 'off');
    const smooth = h('input', {
      type: 'range',
      id: 'smoothing',
      min: 0,
      max: 0.99,
      step: 0.01,
      value: state.smoothing,
      oninput: (e: Event) => {
        const v = Number((e.target as HTMLInputElement).value);
        smoothOut.textContent = v ? v.toFixed(2) : 'off';
      },
      onchange: (e: Event) => {
        const v = Number((e.target as HTMLInputElement).value);
        smoothOut.textContent = v ? v.toFixed(2) : 'off';
        commit({ ...state, smoothing: v }, false);
        void refreshSeries();
      },
    });
    const log = h('input', {
      type: 'checkbox',
      id: 'log-scale',
      checked: state.log,
      onchange: (e: Event) => {
        commit({ ...state, log: (e.target as HTMLInputElement).checked }, false);
        for (const el of charts.querySelectorAll<HTMLElement & { chart?: SeriesChart }>('.chart')) el.chart?.setLog(state.log);
      },
    });
    const zoom =
      state.from !== undefined && state.to !== undefined
        ? h(
            'span',
            { class: 'zoom', id: 'zoom-range' },
            `zoom ${formatX(state.x, state.from, state.to - state.from)} – ${formatX(state.x, state.to, state.to - state.from)} `,
            h('button', { type: 'button', id: 'reset-zoom', onclick: () => resetZoom() }, 'Reset zoom'),
          )
        : h('span', { class: 'hint' }, 'drag on a chart to zoom, double-click to reset');
    controls.replaceChildren(
      h('div', { class: 'control-row keys' }, h('span', { class: 'label' }, 'Metrics'), ...keyBoxes),
      h(
        'div',
        { class: 'control-row' },
        h('label', {}, 'x-axis ', xSelect),
        h('label', {}, 'smoothing ', smooth, ' ', smoothOut),
        h('label', { class: 'check' }, log, 'log scale'),
        zoom,
      ),
    );
  }

  renderControls();
  renderTables(summary, params, compare, state, updateTables);
  window.addEventListener('popstate', () => location.reload());
  await refreshSeries();
}

function loadCompare(state: CompareState): Promise<CompareResponse> {
  return api<CompareResponse>('POST', '/api/v1/compare/runs', { runs: state.runs, only_differing_params: state.onlyDiffering, ...(state.rankBy ? { rank_by: state.rankBy } : {}) });
}

interface ZoomHandlers { onZoom: (from: number, to: number) => void; onReset: () => void }

async function drawCharts(container: HTMLElement, state: CompareState, names: Map<string, string>, signal: AbortSignal, zoom: ZoomHandlers): Promise<void> {
  if (state.keys.length === 0) {
    trackCharts([]);
    container.replaceChildren(h('p', { class: 'empty' }, 'Choose a metric above.'));
    return;
  }
  const width = plotWidthIn(container.clientWidth);
  const charted = state.runs.slice(0, MAX_CHARTED_RUNS);
  const keys = state.keys.slice(0, MAX_CHARTED_KEYS);
  const req: SeriesRequest = {
    runs: charted,
    keys,
    x: state.x,
    buckets: bucketsFor(width, charted.length),
    ...(state.from !== undefined && state.to !== undefined ? { from: state.from, to: state.to } : {}),
    ...(state.smoothing ? { smoothing: { method: 'ema' as const, weight: state.smoothing } } : {}),
  };
  const sent = performance.now();
  const res = await api<SeriesResponse>('POST', '/api/v1/series', req, signal);
  const received = performance.now();
  const grouped = byKey(res.series, keys, charted);
  const colorOf = new Map(charted.map((r, i) => [r, seriesColor(i)]));
  const list: SeriesChart[] = [];
  const listSeries: SeriesColumns[][] = [];
  const nodes: HTMLElement[] = [];
  for (const [key, series] of grouped) {
    const points = series.reduce((n, s) => n + s.points, 0);
    // A metric logged once per run (a final accuracy) has no line to draw: one bar per run instead.
    if (series.length > 0 && series.every((s) => s.points <= 1)) {
      nodes.push(singleValueBars(key, series, names, colorOf));
      continue;
    }
    const chart = new SeriesChart({
      title: key,
      xKind: res.x,
      log: state.log,
      ...(req.from !== undefined && req.to !== undefined ? { xDomain: [req.from, req.to] as [number, number] } : {}),
      ...zoom,
    });
    list.push(chart);
    listSeries.push(series);
    const resolution = series.every((s) => s.resolution === 'raw') ? 'raw points' : `${res.buckets} buckets, min/max band`;
    nodes.push(h('div', { class: 'chart-card' }, chart.element, h('div', { class: 'chart-meta' }, `${series.length} series · ${points.toLocaleString('en')} points · ${resolution}`)));
    chart.element.dataset.points = String(points);
  }
  container.replaceChildren(...nodes);
  if (state.runs.length > charted.length || state.keys.length > keys.length) {
    container.prepend(h('p', { class: 'banner' }, `Charts show the first ${charted.length} of ${state.runs.length} runs and ${keys.length} of ${state.keys.length} metrics; the tables show all.`));
  }
  // Every width read before any drawing: one layout instead of one per chart.
  const widths = list.map((c) => c.element.clientWidth);
  list.forEach((chart, i) => chart.setData(listSeries[i]!.map((s) => chartSeries(s, names.get(s.run) ?? s.run, colorOf.get(s.run) ?? '#333')), { width: widths[i]! }));
  trackCharts(list);
  const drawn = performance.now();
  await new Promise((r) => requestAnimationFrame(() => r(undefined)));
  const framed = performance.now();
  // From the last byte of the response (JSON parsing included) to the charts on screen.
  const entries = performance.getEntriesByName(new URL('/api/v1/series', location.href).href) as PerformanceResourceTiming[];
  const responseEnd = entries.at(-1)?.responseEnd ?? received;
  performance.clearResourceTimings();
  recordTiming('seriesRequestMs', responseEnd - sent);
  recordTiming('seriesParseMs', received - responseEnd);
  recordTiming('compareRenderMs', drawn - received);
  recordTiming('compareFrameMs', framed - responseEnd);
}

function renderTables(summary: HTMLElement, params: HTMLElement, compare: CompareResponse, state: CompareState, update: (patch: Partial<CompareState>) => void): void {
  const keys = compare.metric_keys.filter((k) => state.keys.includes(k));
  const shown = keys.length > 0 ? keys : compare.metric_keys.slice(0, DEFAULT_KEYS);
  const bestOf = new Map<string, number>();
  for (const k of shown) {
    const values = compare.runs.map((r) => toNumber(r.metrics[k]?.best)).filter(Number.isFinite);
    const goal = compare.runs.find((r) => r.metrics[k])?.metrics[k]?.goal ?? 'max';
    if (values.length) bestOf.set(k, goal === 'min' ? Math.min(...values) : Math.max(...values));
  }
  const ranked = compare.runs.some((r) => r.rank !== undefined);
  const rankSelect = h(
    'select',
    { id: 'rank-by', onchange: (e: Event) => update({ rankBy: (e.target as HTMLSelectElement).value }) },
    h('option', { value: '' }, 'as selected'),
    ...compare.metric_keys.map((k) => h('option', { value: k, selected: state.rankBy === k }, k)),
  );
  summary.replaceChildren(
    h('h2', {}, 'Summary ', h('label', { class: 'check small' }, 'rank by ', rankSelect)),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'summary-table' },
        h(
          'thead',
          {},
          h('tr', {}, ranked ? h('th', { rowspan: 2 }, 'rank') : null, h('th', { rowspan: 2 }, 'run'), h('th', { rowspan: 2 }, 'status'), h('th', { rowspan: 2 }, 'duration'), ...shown.map((k) => h('th', { colspan: 4, class: 'group' }, `${k} (${goalOf(compare.runs, k)})`))),
          h('tr', {}, ...shown.flatMap(() => ['last', 'min', 'max', 'best'].map((c) => h('th', { class: 'sub' }, c)))),
        ),
        h(
          'tbody',
          {},
          ...compare.runs.map((r) =>
            h(
              'tr',
              { 'data-run': r.run_id },
              ranked ? h('td', { class: 'num rank' }, r.rank ?? '') : null,
              h('td', { title: r.run_id }, r.run_name || r.run_id),
              h('td', {}, r.status),
              h('td', { class: 'num' }, r.duration_ms === null ? '' : formatDuration(r.duration_ms)),
              ...shown.flatMap((k) => {
                const m = r.metrics[k];
                if (!m) return [h('td', { colspan: 4, class: 'missing' }, '—')];
                const best = toNumber(m.best);
                return [
                  h('td', { class: 'num', 'data-metric': k, 'data-stat': 'last' }, formatValue(toNumber(m.last))),
                  h('td', { class: 'num', 'data-metric': k, 'data-stat': 'min' }, formatValue(toNumber(m.min))),
                  h('td', { class: 'num', 'data-metric': k, 'data-stat': 'max' }, formatValue(toNumber(m.max))),
                  h('td', { class: best === bestOf.get(k) ? 'num best' : 'num', 'data-metric': k, 'data-stat': 'best' }, formatValue(best)),
                ];
              }),
            ),
          ),
        ),
      ),
    ),
  );

  const differing = new Set(compare.differing_params);
  params.replaceChildren(
    h(
      'h2',
      {},
      'Params ',
      h(
        'label',
        { class: 'check small' },
        h('input', { type: 'checkbox', id: 'only-differing', checked: state.onlyDiffering, onchange: (e: Event) => update({ onlyDiffering: (e.target as HTMLInputElement).checked }) }),
        'only what differs',
      ),
    ),
    compare.param_keys.length === 0
      ? h('p', { class: 'empty' }, state.onlyDiffering ? 'All params are the same.' : 'No params.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'params-table' },
            h('thead', {}, h('tr', {}, h('th', {}, 'run'), ...compare.param_keys.map((p) => h('th', { class: differing.has(p) ? 'differs' : undefined }, p)))),
            h('tbody', {}, ...compare.runs.map((r: CompareRun) => h('tr', { 'data-run': r.run_id }, h('td', { title: r.run_id }, r.run_name || r.run_id), ...compare.param_keys.map((p) => h('td', { class: differing.has(p) ? 'differs' : undefined }, r.params[p] ?? ''))))),
          ),
        ),
  );
}

function goalOf(runs: CompareRun[], key: string): string {
  const goal = runs.find((r) => r.metrics[key])?.metrics[key]?.goal;
  return goal === 'min' ? 'lower is better' : 'higher is better';
}

/** One horizontal bar per run for a metric with a single value per run; bars start at 0 (or at the smallest value when some are negative). */
function singleValueBars(key: string, series: SeriesColumns[], names: Map<string, string>, colorOf: Map<string, string>): HTMLElement {
  const rows = series.map((s) => ({ run: s.run, value: s.points === 1 ? toNumber(s.last[0] ?? 'NaN') : NaN }));
  const finite = rows.map((r) => r.value).filter(Number.isFinite);
  const lo = Math.min(0, ...finite);
  const hi = Math.max(0, ...finite);
  const span = hi - lo || 1;
  return h(
    'div',
    { class: 'chart-card single-value', 'data-key': key },
    h('div', { class: 'chart-title' }, key),
    h(
      'div',
      { class: 'value-bars' },
      ...rows.map((r) =>
        h(
          'div',
          { class: 'value-bar', 'data-run': r.run, 'data-value': Number.isFinite(r.value) ? String(r.value) : 'NaN' },
          h('span', { class: 'value-bar-label' }, names.get(r.run) ?? r.run),
          h(
            'span',
            { class: 'value-bar-track' },
            Number.isFinite(r.value) ? h('span', { class: 'value-bar-fill', style: `left:${(((Math.min(0, r.value) - lo) / span) * 100).toFixed(3)}%;width:${((Math.abs(r.value) / span) * 100).toFixed(3)}%;background:${colorOf.get(r.run) ?? '#333'}` }) : '',
          ),
          h('span', { class: 'value-bar-value num' }, formatValue(r.value)),
        ),
      ),
    ),
    h('div', { class: 'chart-meta' }, `${rows.length} runs · one value each`),
  );
}
