// Model versions: one metric across a model's versions over time, degradation against a baseline version flagged.
import { api, enc } from '../api-client.ts';
import type { RegisteredModel, TrendResponse } from '../api-types.ts';
import { formatValue, h } from '../dom.ts';
import { toNumber } from '../json-double.ts';
import { setStatus, showError, trackCharts } from '../page-status.ts';
import { SeriesChart } from '../series-chart.ts';
import { modelsQuery, parseModelsState, type ModelsState } from '../url-state.ts';

interface VersionDetail { version_metrics: { key: string }[]; run: { latest_metrics: { key: string }[] } | null }

export async function renderModelsPage(root: HTMLElement): Promise<void> {
  let state = parseModelsState(new URLSearchParams(location.search));
  const models = (await api<{ items: RegisteredModel[] }>('GET', '/api/v1/models?max_results=1000')).items;
  root.append(h('h1', {}, 'Model versions'));
  if (models.length === 0) {
    root.append(h('p', { class: 'empty' }, 'No registered models yet.'));
    setStatus('ready');
    return;
  }
  if (!models.some((m) => m.name === state.model)) state = { ...state, model: models[0]!.name };
  const controls = h('form', { class: 'controls', id: 'model-controls' });
  const chartBox = h('section', { class: 'charts', id: 'charts' });
  const table = h('section', { class: 'table-section', id: 'versions' });
  root.append(controls, chartBox, table);

  const commit = (next: ModelsState) => {
    state = next;
    history.replaceState(null, '', modelsQuery(state));
  };

  async function metricKeys(model: RegisteredModel): Promise<string[]> {
    const latest = [...model.versions].sort((a, b) => Number(b.version) - Number(a.version))[0];
    if (!latest) return [];
    const d = await api<VersionDetail>('GET', `/api/v1/models/${enc(model.name)}/versions/${enc(latest.version)}`);
    return [...new Set([...d.version_metrics.map((m) => m.key), ...(d.run?.latest_metrics ?? []).map((m) => m.key)])].sort();
  }

  async function renderControls(): Promise<void> {
    const model = models.find((m) => m.name === state.model)!;
    const keys = await metricKeys(model);
    if (!keys.includes(state.key)) commit({ ...state, key: keys[0] ?? '' });
    const versions = [...model.versions].sort((a, b) => Number(a.version) - Number(b.version));
    const sel = (id: string, value: string, options: [string, string][], onchange: (v: string) => void) =>
      h('select', { id, onchange: (e: Event) => onchange((e.target as HTMLSelectElement).value) }, ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
    controls.replaceChildren(
      h('label', {}, 'Model ', sel('model', state.model, models.map((m) => [m.name, m.name]), (v) => {
        const { baseline: _b, ...rest } = state;
        commit({ ...rest, model: v });
        void refresh(true);
      })),
      h('label', {}, 'Metric ', sel('metric', state.key, keys.map((k) => [k, k]), (v) => {
        commit({ ...state, key: v });
        void refresh(false);
      })),
      h('label', {}, 'Baseline ', sel('baseline', String(state.baseline ?? ''), [['', 'first version'], ...versions.map((v): [string, string] => [v.version, `version ${v.version}`])], (v) => {
        const { baseline: _b, ...rest } = state;
        commit(v ? { ...rest, baseline: Number(v) } : rest);
        void refresh(false);
      })),
      h('label', {}, 'Goal ', sel('goal', state.goal ?? '', [['', 'auto'], ['max', 'higher is better'], ['min', 'lower is better']], (v) => {
        const { goal: _g, ...rest } = state;
        commit(v === 'min' || v === 'max' ? { ...rest, goal: v } : rest);
        void refresh(false);
      })),
      h('label', {}, 'Tolerance ', h('input', { type: 'number', id: 'tolerance', min: 0, step: 'any', value: state.tolerance, onchange: (e: Event) => {
        commit({ ...state, tolerance: Math.max(0, Number((e.target as HTMLInputElement).value) || 0) });
        void refresh(false);
      } })),
    );
  }

  async function refresh(withControls: boolean): Promise<void> {
    setStatus('loading');
    try {
      if (withControls) await renderControls();
      if (!state.key) {
        trackCharts([]);
        chartBox.replaceChildren(h('p', { class: 'empty' }, 'This model has no metrics yet.'));
        table.replaceChildren();
        setStatus('ready');
        return;
      }
      const q = new URLSearchParams({ key: state.key });
      if (state.baseline !== undefined) q.set('baseline', String(state.baseline));
      if (state.goal) q.set('goal', state.goal);
      if (state.tolerance) q.set('tolerance', String(state.tolerance));
      const trend = await api<TrendResponse>('GET', `/api/v1/models/${enc(state.model)}/metric-trend?${q}`);
      renderTrend(trend);
      setStatus('ready');
    } catch (err) {
      showError(err);
    }
  }

  function renderTrend(trend: TrendResponse): void {
    const v = trend.versions.filter((x) => x.count > 0);
    const baseline = trend.versions.find((x) => x.version === trend.baseline_version);
    const chart = new SeriesChart({
      title: `${trend.key} by version`,
      xKind: 'time',
      log: false,
      markers: true,
      height: 280,
      ...(baseline && baseline.count > 0 ? { reference: { value: toNumber(baseline.value), label: `baseline v${baseline.version}` } } : {}),
    });
    chartBox.replaceChildren(h('div', { class: 'chart-card' }, chart.element, h('div', { class: 'chart-meta' }, `baseline version ${trend.baseline_version} · ${trend.goal === 'min' ? 'lower' : 'higher'} is better · degraded versions in red`)));
    chart.setData([
      {
        label: trend.key,
        color: '#2f6fdf',
        xFirst: v.map((x) => x.created_at),
        xLast: v.map((x) => x.created_at),
        min: v.map((x) => toNumber(x.min)),
        max: v.map((x) => toNumber(x.max)),
        line: v.map((x) => toNumber(x.value)),
        flagged: v.map((x) => x.degraded),
        pointLabels: v.map((x) => `v${x.version}`),
      },
    ]);
    trackCharts([chart]);
    const runs = [...new Set(trend.versions.map((x) => x.run_id).filter(Boolean))];
    table.replaceChildren(
      h(
        'h2',
        {},
        'Versions ',
        runs.length > 0 ? h('a', { class: 'button', id: 'compare-version-runs', href: `/ui/compare?${runs.map((r) => `run=${enc(r)}`).join('&')}` }, `Compare the ${runs.length} runs behind them`) : '',
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'versions-table' },
          h('thead', {}, h('tr', {}, ...['version', 'created', 'run', trend.key, 'min', 'max', 'points', `Δ vs v${trend.baseline_version}`, ''].map((c) => h('th', {}, c)))),
          h(
            'tbody',
            {},
            ...trend.versions.map((x) =>
              h(
                'tr',
                { 'data-version': x.version, class: x.degraded ? 'degraded' : undefined },
                h('td', {}, x.version === trend.baseline_version ? `${x.version} (baseline)` : x.version),
                h('td', {}, new Date(x.created_at).toISOString().slice(0, 16).replace('T', ' ')),
                h('td', {}, x.run_id ? h('a', { href: `/ui/compare?run=${enc(x.run_id)}` }, x.run_id.slice(0, 12)) : ''),
                h('td', { class: 'num' }, x.count ? formatValue(toNumber(x.value)) : '—'),
                h('td', { class: 'num' }, x.count ? formatValue(toNumber(x.min)) : ''),
                h('td', { class: 'num' }, x.count ? formatValue(toNumber(x.max)) : ''),
                h('td', { class: 'num' }, x.count),
                h('td', { class: 'num' }, x.count ? formatValue(toNumber(x.delta)) : ''),
                h('td', { class: 'flag' }, x.degraded ? 'degraded' : ''),
              ),
            ),
          ),
        ),
      ),
    );
  }

  await refresh(true);
}
