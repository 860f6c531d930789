// Data: the quality table of a dataset selection, the drift report of current against reference (per column method,
// score, threshold, verdict, overlaid histograms) and drift over time windows of the current selection.
import { api, enc } from '../api-client.ts';
import type { ColumnDrift, DatasetInfo, DriftOverTimeResponse, DriftResponse, QualityResponse, RowSelection, ValueShare } from '../api-types.ts';
import { seriesColor } from '../chart-scale.ts';
import { formatValue, h } from '../dom.ts';
import { HistogramChart } from '../histogram-chart.ts';
import { toNumber, type JsonDouble } from '../json-double.ts';
import { setStatus, showError, trackCharts, trackHistograms } from '../page-status.ts';
import { SeriesChart } from '../series-chart.ts';
import { dataQuery, parseDataState, type DataState, type SideState } from '../url-state.ts';

const WINDOWS = 10;
/** Drift methods per column type (Evidently's: KS and Wasserstein need numbers, chi-square and z-test categories). */
const METHODS = {
  numerical: ['ks', 'wasserstein', 'jensenshannon', 'psi', 'kl_div', 'hellinger'],
  categorical: ['chisquare', 'z', 'jensenshannon', 'psi', 'kl_div', 'hellinger'],
};

export async function renderDataPage(root: HTMLElement): Promise<void> {
  let state = parseDataState(new URLSearchParams(location.search));
  const datasets = (await api<{ datasets: DatasetInfo[] }>('GET', '/api/v1/datasets?max_results=1000')).datasets;
  root.append(h('h1', {}, 'Data'));
  if (datasets.length === 0) {
    root.append(h('p', { class: 'empty' }, 'No datasets yet.'));
    setStatus('ready');
    return;
  }
  if (!datasets.some((d) => d.dataset === state.dataset)) state = { ...state, dataset: datasets[0]!.dataset };
  const controls = h('form', { class: 'controls', id: 'data-controls' });
  const quality = h('section', { class: 'table-section', id: 'quality' });
  const drift = h('section', { class: 'table-section', id: 'drift' });
  const overTime = h('section', { class: 'table-section', id: 'drift-over-time' });
  root.append(controls, drift, overTime, quality);

  const info = () => datasets.find((d) => d.dataset === state.dataset)!;
  const commit = (next: DataState) => {
    state = next;
    history.replaceState(null, '', dataQuery(state));
  };

  function renderControls(): void {
    const d = info();
    const sideControls = (name: 'reference' | 'current', s: SideState) => {
      const version = h(
        'select',
        { id: `${name}-version` },
        h('option', { value: '' }, 'all versions'),
        ...d.versions.filter((v) => v !== '').map((v) => h('option', { value: v, selected: s.version === v }, v)),
      );
      const from = h('input', { type: 'datetime-local', step: 1, id: `${name}-from`, value: s.from === undefined ? '' : toLocalInput(s.from) });
      const to = h('input', { type: 'datetime-local', step: 1, id: `${name}-to`, value: s.to === undefined ? '' : toLocalInput(s.to) });
      return { el: h('fieldset', { class: 'side' }, h('legend', {}, name), version, ' from ', from, ' to ', to), read: (): SideState => readSide(version.value, from.value, to.value) };
    };
    const ref = sideControls('reference', state.reference);
    const cur = sideControls('current', state.current);
    const datasetSelect = h('select', { id: 'dataset' }, ...datasets.map((x) => h('option', { value: x.dataset, selected: x.dataset === state.dataset }, x.dataset)));
    const label = h(
      'select',
      { id: 'label-column' },
      h('option', { value: '' }, 'none'),
      ...d.columns.filter((c) => c.type === 'categorical').map((c) => h('option', { value: c.name, selected: state.label === c.name }, c.name)),
    );
    const windowMin = h('input', { type: 'number', id: 'window-minutes', min: 0, step: 'any', value: state.windowMs ? state.windowMs / 60_000 : '', placeholder: 'auto' });
    controls.onsubmit = (e: Event) => {
      e.preventDefault();
      const changedDataset = datasetSelect.value !== state.dataset;
      const labelValue = label.value;
      const next: DataState = changedDataset
        ? { dataset: datasetSelect.value, reference: {}, current: {}, windowMs: 0, methods: {} }
        : {
            dataset: state.dataset,
            reference: ref.read(),
            current: cur.read(),
            windowMs: Math.round(Number(windowMin.value || 0) * 60_000),
            ...(labelValue ? { label: labelValue } : {}),
            methods: state.methods,
          };
      commit(next);
      if (changedDataset) renderControls();
      void refresh();
    };
    controls.replaceChildren(
      h('label', {}, 'Dataset ', datasetSelect),
      h('span', { class: 'hint' }, `${d.rows.toLocaleString('en')} rows · ${d.columns.length} columns · ${isoMinute(d.first_timestamp_ms)} – ${isoMinute(d.last_timestamp_ms)}`),
      h('div', { class: 'control-row' }, ref.el, cur.el),
      h('label', {}, 'label column ', label),
      h('label', {}, 'drift-over-time window (minutes) ', windowMin),
      h('button', { type: 'submit', id: 'apply' }, 'Apply'),
    );
  }

  async function refresh(): Promise<void> {
    setStatus('loading');
    try {
      const reference = selection(state.dataset, state.reference);
      const current = selection(state.dataset, state.current);
      const range = currentRange(state, info());
      const windowMs = state.windowMs || Math.max(1, Math.ceil((range.to - range.from) / WINDOWS));
      const methods = Object.keys(state.methods).length ? { methods: Object.fromEntries(Object.entries(state.methods).map(([c, m]) => [c, { method: m }])) } : {};
      const [q, d, t] = await Promise.all([
        api<QualityResponse>('POST', `/api/v1/datasets/${enc(state.dataset)}/quality`, {
          ...stripDataset(current),
          reference,
          ...(state.label ? { label_column: state.label } : {}),
        }),
        api<DriftResponse>('POST', '/api/v1/drift', { reference, current, ...methods }),
        api<DriftOverTimeResponse>('POST', '/api/v1/drift/over-time', { reference, current: { ...current, from_ms: range.from, to_ms: range.to }, window_ms: windowMs, ...methods }),
      ]);
      renderDrift(drift, d, state.methods, (column, method) => {
        const methods = { ...state.methods };
        if (method) methods[column] = method;
        else delete methods[column];
        commit({ ...state, methods });
        void refresh();
      });
      renderOverTime(overTime, t);
      renderQuality(quality, q);
      setStatus('ready');
    } catch (err) {
      showError(err);
    }
  }

  renderControls();
  await refresh();
}

function readSide(version: string, from: string, to: string): SideState {
  const f = from ? fromLocalInput(from) : undefined;
  const t = to ? fromLocalInput(to) : undefined;
  return { ...(version ? { version } : {}), ...(f !== undefined && t !== undefined && f <= t ? { from: f, to: t } : {}) };
}

function selection(dataset: string, s: SideState): RowSelection {
  return { dataset, ...(s.version ? { version: s.version } : {}), ...(s.from !== undefined && s.to !== undefined ? { from_ms: s.from, to_ms: s.to } : {}) };
}

function stripDataset(s: RowSelection): Omit<RowSelection, 'dataset'> {
  const { dataset: _d, ...rest } = s;
  return rest;
}

/** The time range drift over time splits: the current window, else the dataset's whole time range. */
function currentRange(state: DataState, d: DatasetInfo): { from: number; to: number } {
  if (state.current.from !== undefined && state.current.to !== undefined) return { from: state.current.from, to: state.current.to };
  return { from: d.first_timestamp_ms, to: d.last_timestamp_ms + 1 };
}

// datetime-local inputs show UTC here, like every other time on these pages.
const toLocalInput = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const fromLocalInput = (v: string) => Date.parse(`${v.length === 16 ? `${v}:00` : v}Z`);
const isoMinute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

function score(c: ColumnDrift): number {
  return c.score === null ? NaN : toNumber(c.score);
}

function renderDrift(section: HTMLElement, d: DriftResponse, chosen: Record<string, string>, choose: (column: string, method: string) => void): void {
  const histograms: HistogramChart[] = [];
  const cards = d.columns.map((c) => {
    const ref = c.reference_histogram;
    const cur = c.current_histogram;
    let chart: HistogramChart | undefined;
    if (ref && cur) {
      chart =
        'edges' in ref
          ? new HistogramChart({ column: c.column, edges: ref.edges, reference: ref.counts, current: cur.counts })
          : new HistogramChart({ column: c.column, labels: ref.values.map(String), reference: ref.counts, current: cur.counts });
      histograms.push(chart);
    }
    return h(
      'div',
      { class: c.drifted ? 'histogram-card drifted' : 'histogram-card' },
      h('div', { class: 'chart-title' }, c.column, ' ', h('span', { class: c.drifted ? 'verdict-drift' : 'verdict-ok' }, c.drifted ? 'drift' : 'no drift')),
      chart ? chart.element : h('p', { class: 'empty' }, c.note ?? 'no histogram'),
    );
  });
  trackHistograms(histograms);
  section.replaceChildren(
    h('h2', {}, 'Drift'),
    h(
      'p',
      { id: 'drift-verdict', class: d.dataset_drift ? 'banner error' : 'banner' },
      d.dataset_drift ? 'Dataset drift detected: ' : 'No dataset drift: ',
      `${d.number_of_drifted_columns} of ${d.number_of_columns} columns drifted (share ${formatValue(d.share_of_drifted_columns)}, threshold ${formatValue(d.drift_share)}).`,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'drift-table' },
        h('thead', {}, h('tr', {}, ...['column', 'type', 'method', 'score', 'threshold', 'drifted', 'reference rows', 'current rows'].map((c) => h('th', {}, c)))),
        h(
          'tbody',
          {},
          ...d.columns.map((c) =>
            h(
              'tr',
              { 'data-column': c.column, class: c.drifted ? 'degraded' : undefined },
              h('td', {}, c.column),
              h('td', {}, c.type),
              h(
                'td',
                {},
                h(
                  'select',
                  { class: 'method', 'aria-label': `drift method for ${c.column}`, onchange: (e: Event) => choose(c.column, (e.target as HTMLSelectElement).value) },
                  h('option', { value: '', selected: !chosen[c.column] }, chosen[c.column] ? 'default' : `${c.method ?? '—'} (default)`),
                  ...METHODS[c.type].map((m) => h('option', { value: m, selected: chosen[c.column] === m }, m)),
                ),
              ),
              h('td', { class: 'num' }, formatValue(score(c))),
              h('td', { class: 'num' }, formatValue(c.threshold)),
              h('td', { class: 'flag' }, c.drifted ? 'drift' : ''),
              h('td', { class: 'num' }, c.reference_rows),
              h('td', { class: 'num' }, c.current_rows),
            ),
          ),
        ),
      ),
    ),
    h('div', { class: 'histograms' }, ...cards),
  );
}

function renderOverTime(section: HTMLElement, t: DriftOverTimeResponse): void {
  const w = t.windows;
  const columns = [...new Set(w.flatMap((x) => x.report.columns.map((c) => c.column)))];
  const share = new SeriesChart({ title: 'share of drifted columns', xKind: 'time', log: false, markers: true, height: 200 });
  const scores = new SeriesChart({ title: 'drift score per column', xKind: 'time', log: false, markers: true, height: 240 });
  section.replaceChildren(
    h('h2', {}, 'Drift over time'),
    w.length === 0 ? h('p', { class: 'empty' }, 'No windows.') : h('div', { class: 'charts' }, h('div', { class: 'chart-card' }, share.element), h('div', { class: 'chart-card' }, scores.element, h('div', { class: 'chart-meta' }, 'p-values (ks, chisquare, z): drift below the threshold; distances: drift above it. Drifted windows in red.'))),
  );
  if (w.length === 0) {
    trackCharts([]);
    return;
  }
  // Each window is one point, at its middle.
  const xFirst = w.map((x) => (x.from_ms + x.to_ms) / 2);
  const xLast = xFirst;
  const shares = w.map((x) => x.report.share_of_drifted_columns);
  share.setData([{ label: 'drifted share', color: '#2f6fdf', xFirst, xLast, min: shares, max: shares, line: shares, flagged: w.map((x) => x.report.dataset_drift) }], {
    reference: { value: w[0]!.report.drift_share, label: 'dataset drift threshold' },
  });
  scores.setData(
    columns.map((col, i) => {
      const per = w.map((x) => x.report.columns.find((c) => c.column === col));
      const values = per.map((c) => (c ? score(c) : NaN));
      return { label: col, color: seriesColor(i), xFirst, xLast, min: values, max: values, line: values, flagged: per.map((c) => c?.drifted === true) };
    }),
  );
  trackCharts([share, scores]);
}

function renderQuality(section: HTMLElement, q: QualityResponse): void {
  const num = (v: JsonDouble | null | undefined) => (v === null || v === undefined ? '' : formatValue(toNumber(v)));
  const top = (xs: ValueShare[], n = 3) => xs.slice(0, n).map((x) => `${typeof x.value === 'number' ? formatValue(x.value) : String(x.value)} (${(x.share * 100).toFixed(1)}%)`).join(', ');
  section.replaceChildren(
    h('h2', {}, `Quality of the current selection (${q.rows.toLocaleString('en')} rows)`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'quality-table' },
        h('thead', {}, h('tr', {}, ...['column', 'type', 'rows', 'missing', 'missing %', 'distinct', 'min', 'max', 'mean', 'std', 'p25', 'p50', 'p75', 'most common', 'new', 'vanished'].map((c) => h('th', {}, c)))),
        h(
          'tbody',
          {},
          ...q.columns.map((c) =>
            h(
              'tr',
              { 'data-column': c.column },
              h('td', {}, c.column),
              h('td', {}, c.type),
              h('td', { class: 'num', 'data-stat': 'rows' }, c.rows),
              h('td', { class: 'num', 'data-stat': 'missing' }, c.missing),
              h('td', { class: 'num' }, (c.missing_share * 100).toFixed(2)),
              h('td', { class: 'num', 'data-stat': 'distinct' }, c.distinct),
              h('td', { class: 'num', 'data-stat': 'min' }, num(c.min)),
              h('td', { class: 'num', 'data-stat': 'max' }, num(c.max)),
              h('td', { class: 'num', 'data-stat': 'mean' }, num(c.mean)),
              h('td', { class: 'num' }, num(c.std)),
              h('td', { class: 'num' }, num(c.quantiles?.p25)),
              h('td', { class: 'num' }, num(c.quantiles?.p50)),
              h('td', { class: 'num' }, num(c.quantiles?.p75)),
              h('td', {}, top(c.most_common)),
              h('td', { 'data-stat': 'new' }, (c.new_categories ?? []).join(', ')),
              h('td', {}, (c.vanished_categories ?? []).join(', ')),
            ),
          ),
        ),
      ),
    ),
    q.class_balance
      ? h('p', { id: 'class-balance' }, `Class balance of ${q.class_balance.column}: `, top(q.class_balance.classes, 20))
      : '',
  );
}
