// Ranks: one metric of a run that many ranks of a distributed job logged into, split by rank (a line and band per
// rank) or as the cross-rank band; the slowest rank per step is in the API (rank-steps). URL: ?run=&key=&view=.
import { api, enc } from '../api-client.ts';
import type { RankBucketsResponse } from '../api-types.ts';
import { seriesColor } from '../chart-scale.ts';
import { h } from '../dom.ts';
import { setStatus, showError, trackCharts } from '../page-status.ts';
import { rankChartSeries, rankLabel, type RankView } from '../rank-series.ts';
import { SeriesChart } from '../series-chart.ts';
import { plotWidthIn } from '../series-data.ts';

interface RanksState {
  run: string;
  key: string;
  view: RankView;
  from?: number;
  to?: number;
}

function parseState(q: URLSearchParams): RanksState {
  const num = (name: string) => (q.get(name) !== null && Number.isFinite(Number(q.get(name))) ? Number(q.get(name)) : undefined);
  const from = num('from');
  const to = num('to');
  return { run: q.get('run') ?? '', key: q.get('key') ?? '', view: q.get('view') === 'band' ? 'band' : 'split', ...(from !== undefined && to !== undefined ? { from, to } : {}) };
}

function query(s: RanksState): string {
  const q = new URLSearchParams({ run: s.run, key: s.key, view: s.view });
  if (s.from !== undefined && s.to !== undefined) q.set('from', String(s.from)), q.set('to', String(s.to));
  return `?${q}`;
}

export async function renderRanksPage(root: HTMLElement): Promise<void> {
  let state = parseState(new URLSearchParams(location.search));
  const runInput = h('input', { type: 'text', id: 'rank-run', placeholder: 'run id', value: state.run });
  const keySelect = h('select', { id: 'rank-key' });
  const viewSelect = h('select', { id: 'rank-view' }, h('option', { value: 'split', selected: state.view === 'split' }, 'split by rank'), h('option', { value: 'band', selected: state.view === 'band' }, 'cross-rank band'));
  const chartBox = h('section', { class: 'charts', id: 'charts' });
  const form = h(
    'form',
    {
      class: 'controls',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const run = runInput.value.trim();
        state = { run, key: run === state.run ? keySelect.value : '', view: viewSelect.value === 'band' ? 'band' : 'split' };
        history.pushState(null, '', query(state));
        void load();
      },
    },
    h('label', { class: 'grow' }, 'Run ', runInput),
    h('label', {}, 'Metric ', keySelect),
    h('label', {}, 'View ', viewSelect),
    h('button', { type: 'submit', id: 'rank-show' }, 'Show'),
  );
  keySelect.addEventListener('change', () => form.requestSubmit());
  viewSelect.addEventListener('change', () => form.requestSubmit());
  root.append(h('h1', {}, 'Ranks'), form, chartBox);

  async function load(): Promise<void> {
    if (!state.run) {
      trackCharts([]);
      chartBox.replaceChildren(h('p', { class: 'empty' }, 'Enter the id of a run that several ranks logged into.'));
      setStatus('ready');
      return;
    }
    setStatus('loading');
    try {
      const { metrics } = await api<{ metrics: { key: string }[] }>('GET', `/api/v1/runs/${enc(state.run)}/metrics`);
      const keys = metrics.map((m) => m.key);
      if (!keys.includes(state.key)) state = { ...state, key: keys[0] ?? '' };
      history.replaceState(null, '', query(state));
      keySelect.replaceChildren(...keys.map((k) => h('option', { value: k, selected: k === state.key }, k)));
      const width = plotWidthIn(chartBox.clientWidth || 1000, 10_000);
      const range = state.from !== undefined && state.to !== undefined ? `&from=${Math.floor(state.from)}&to=${Math.ceil(state.to)}` : '';
      const res = await api<RankBucketsResponse>('GET', `/api/v1/runs/${enc(state.run)}/rank-buckets?key=${enc(state.key)}&buckets=${Math.min(1000, Math.max(50, width))}${range}`);
      const chart = new SeriesChart({
        title: state.key,
        xKind: 'step',
        log: false,
        ...(state.from !== undefined && state.to !== undefined ? { xDomain: [state.from, state.to] as [number, number] } : {}),
        onZoom: (from, to) => {
          state = { ...state, from, to };
          history.pushState(null, '', query(state));
          void load();
        },
        onReset: () => {
          if (state.from === undefined) return;
          state = { run: state.run, key: state.key, view: state.view };
          history.pushState(null, '', query(state));
          void load();
        },
      });
      const points = res.ranks.reduce((n, r) => n + r.buckets.reduce((m, b) => m + b.points, 0), 0);
      const ranks = res.ranks.map((r) => rankLabel(r.rank)).join(', ');
      chartBox.replaceChildren(h('div', { class: 'chart-card' }, chart.element, h('div', { class: 'chart-meta', id: 'rank-meta' }, `${res.ranks.length} ranks (${ranks}) · ${points.toLocaleString('en')} points`)));
      chart.setData(rankChartSeries(res, state.view, seriesColor), { width: chart.element.clientWidth });
      trackCharts([chart]);
      setStatus('ready');
    } catch (err) {
      showError(err);
    }
  }

  window.addEventListener('popstate', () => {
    state = parseState(new URLSearchParams(location.search));
    runInput.value = state.run;
    viewSelect.value = state.view;
    void load();
  });
  await load();
}
