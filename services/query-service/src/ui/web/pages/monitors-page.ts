// Model monitoring: a monitor's metric per time window against the baseline, the chosen window's confusion matrix
// and fairness per group, and the alert history (POST /api/v1/monitors/{name}/report, GET …/alerts).
import { api, enc } from '../api-client.ts';
import { formatValue, h } from '../dom.ts';
import { setStatus, showError, trackCharts } from '../page-status.ts';
import { SeriesChart } from '../series-chart.ts';

interface Segment {
  segment: string | null;
  rows: number;
  labelled: number;
  metrics: Record<string, number | null>;
  confusion_matrix: { classes: string[]; matrix: number[][] } | null;
  fairness: { feature: string; groups: { group: string; count: number; selection_rate: number; tpr: number; accuracy: number; small: boolean }[]; warnings: string[] }[];
}
interface Report { monitor: string; window_ms: number; windows: { start_ms: number; end_ms: number; segments: Segment[] }[] }
interface Rule { name: string; metric: string; segment?: string; op: string; threshold?: number; baseline?: { version: string; key?: string; tolerance: number } }
interface Monitor { name: string; model: { name: string; version: string }; task: string; alerts: Rule[] }
interface AlertEvent { state: string; window_start_ms: number; value: number; threshold: number; at_ms: number }
interface AlertState { rule: string; state: string; history: AlertEvent[] }

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const sel = (id: string, value: string, options: [string, string][], onchange: (v: string) => void) =>
  h('select', { id, onchange: (e: Event) => onchange((e.target as HTMLSelectElement).value) }, ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));

export async function renderMonitorsPage(root: HTMLElement): Promise<void> {
  const params = new URLSearchParams(location.search);
  const monitors = (await api<{ monitors: Monitor[] }>('GET', '/api/v1/monitors')).monitors;
  root.append(h('h1', {}, 'Model monitoring'));
  if (monitors.length === 0) {
    root.append(h('p', { class: 'empty' }, 'No monitors yet (POST /api/v1/monitors).'));
    setStatus('ready');
    return;
  }
  const state = {
    monitor: monitors.some((m) => m.name === params.get('monitor')) ? params.get('monitor')! : monitors[0]!.name,
    metric: params.get('metric') ?? '',
    segment: params.get('segment') ?? '',
    window: params.get('window') ?? '',
  };
  const controls = h('form', { class: 'controls', id: 'monitor-controls' });
  const chartBox = h('section', { class: 'charts', id: 'charts' });
  const windowsBox = h('section', { class: 'table-section', id: 'windows' });
  const detailBox = h('section', { class: 'table-section', id: 'window-detail' });
  const alertsBox = h('section', { class: 'table-section', id: 'alerts' });
  root.append(controls, chartBox, windowsBox, detailBox, alertsBox);

  const commit = () => {
    const q = new URLSearchParams(Object.entries(state).filter(([, v]) => v !== ''));
    history.replaceState(null, '', `/ui/monitors?${q}`);
  };

  async function refresh(): Promise<void> {
    setStatus('loading');
    try {
      const m = monitors.find((x) => x.name === state.monitor)!;
      const [report, alerts] = await Promise.all([
        api<Report>('POST', `/api/v1/monitors/${enc(m.name)}/report`, {}),
        api<{ alerts: AlertState[] }>('GET', `/api/v1/monitors/${enc(m.name)}/alerts`),
      ]);
      const segOf = (w: Report['windows'][number]) => w.segments.find((s) => (s.segment ?? '') === state.segment && (state.segment !== '' || s.segment === null));
      const metricNames = [...new Set(report.windows.flatMap((w) => w.segments.flatMap((s) => Object.keys(s.metrics))))].sort();
      if (!metricNames.includes(state.metric)) state.metric = metricNames.includes('accuracy') ? 'accuracy' : metricNames.includes('mae') ? 'mae' : (metricNames[0] ?? '');
      const segments = [...new Set(report.windows.flatMap((w) => w.segments.map((s) => s.segment)).filter((s): s is string => s !== null))].sort();
      if (!report.windows.some((w) => String(w.start_ms) === state.window)) state.window = String(report.windows.at(-1)?.start_ms ?? '');
      commit();
      controls.replaceChildren(
        h('label', {}, 'Monitor ', sel('monitor', state.monitor, monitors.map((x) => [x.name, `${x.name} (${x.model.name} v${x.model.version})`]), (v) => {
          state.monitor = v;
          void refresh();
        })),
        h('label', {}, 'Metric ', sel('metric', state.metric, metricNames.map((k) => [k, k]), (v) => {
          state.metric = v;
          void refresh();
        })),
        h('label', {}, 'Segment ', sel('segment', state.segment, [['', 'all segments'], ...segments.map((s): [string, string] => [s, s || '(none)'])], (v) => {
          state.segment = v;
          void refresh();
        })),
      );
      const baseline = await baselineOf(m, state.metric);
      const points = report.windows.map((w) => ({ w, v: segOf(w)?.metrics[state.metric] ?? null })).filter((p): p is { w: Report['windows'][number]; v: number } => p.v !== null);
      const chart = new SeriesChart({ title: `${state.metric} per window`, xKind: 'time', log: false, markers: true, height: 260, ...(baseline ? { reference: baseline } : {}) });
      chartBox.replaceChildren(h('div', { class: 'chart-card' }, chart.element, h('div', { class: 'chart-meta' }, `${points.length} windows of ${report.window_ms / 60_000} min${baseline ? ` · ${baseline.label}` : ''}`)));
      chart.setData([{ label: state.metric, color: '#2f6fdf', xFirst: points.map((p) => p.w.start_ms), xLast: points.map((p) => p.w.start_ms), min: points.map((p) => p.v), max: points.map((p) => p.v), line: points.map((p) => p.v) }]);
      trackCharts([chart]);
      renderWindows(report, segOf);
      renderDetail(report, segOf);
      renderAlerts(alerts.alerts);
      setStatus('ready');
    } catch (err) {
      showError(err);
    }
  }

  /** The baseline of the chosen metric: a rule's baseline version's latest value of its key, when a rule has one. */
  async function baselineOf(m: Monitor, metric: string): Promise<{ value: number; label: string } | undefined> {
    const rule = m.alerts.find((r) => r.metric === metric && r.baseline);
    if (!rule?.baseline) return undefined;
    const key = rule.baseline.key ?? `${m.name}/${metric}`;
    const d = await api<{ version_metrics: { key: string; value: number | string }[] }>('GET', `/api/v1/models/${enc(m.model.name)}/versions/${enc(rule.baseline.version)}`).catch(() => undefined);
    const found = d?.version_metrics.find((x) => x.key === key);
    return found && typeof found.value === 'number' ? { value: found.value, label: `baseline v${rule.baseline.version} (${key})` } : undefined;
  }

  function renderWindows(report: Report, segOf: (w: Report['windows'][number]) => Segment | undefined): void {
    const columns = [...new Set([state.metric, 'accuracy', 'f1', 'roc_auc', 'mae', 'r2'])].filter((k) => report.windows.some((w) => segOf(w)?.metrics[k] !== undefined));
    windowsBox.replaceChildren(
      h('h2', {}, 'Windows'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { id: 'monitor-windows' },
          h('thead', {}, h('tr', {}, ...['window', 'rows', 'labelled', ...columns].map((c) => h('th', {}, c)))),
          h(
            'tbody',
            {},
            ...report.windows.map((w) => {
              const s = segOf(w);
              return h(
                'tr',
                { 'data-window': w.start_ms, class: String(w.start_ms) === state.window ? 'selected' : undefined, onclick: () => {
                  state.window = String(w.start_ms);
                  void refresh();
                } },
                h('td', {}, iso(w.start_ms)),
                h('td', { class: 'num' }, s?.rows ?? 0),
                h('td', { class: 'num' }, s?.labelled ?? 0),
                ...columns.map((k) => {
                  const v = s?.metrics[k] ?? null;
                  return h('td', { class: 'num', 'data-metric': k, 'data-value': v === null ? 'null' : String(v) }, v === null ? '—' : formatValue(v));
                }),
              );
            }),
          ),
        ),
      ),
    );
  }

  function renderDetail(report: Report, segOf: (w: Report['windows'][number]) => Segment | undefined): void {
    const w = report.windows.find((x) => String(x.start_ms) === state.window);
    const s = w && segOf(w);
    if (!w || !s) {
      detailBox.replaceChildren();
      return;
    }
    const cm = s.confusion_matrix;
    detailBox.replaceChildren(
      h('h2', {}, `Window ${iso(w.start_ms)}`),
      cm
        ? h(
            'table',
            { id: 'confusion-matrix', class: 'matrix' },
            h('thead', {}, h('tr', {}, h('th', {}, 'true \\ predicted'), ...cm.classes.map((c) => h('th', {}, c)))),
            h('tbody', {}, ...cm.matrix.map((row, i) => h('tr', {}, h('th', {}, cm.classes[i]!), ...row.map((n, j) => h('td', { class: i === j ? 'diag' : undefined, 'data-true': cm.classes[i]!, 'data-pred': cm.classes[j]!, 'data-count': n }, n))))),
          )
        : h('p', { class: 'empty' }, 'No confusion matrix (regression, or no labelled rows).'),
      ...s.fairness.map((f) =>
        h(
          'div',
          { class: 'chart-card fairness', 'data-feature': f.feature },
          h('div', { class: 'chart-title' }, `Fairness: ${f.feature} (selection rate per group)`),
          h(
            'div',
            { class: 'value-bars' },
            ...f.groups.map((g) =>
              h(
                'div',
                { class: 'value-bar', 'data-group': g.group, 'data-value': String(g.selection_rate), 'data-tpr': String(g.tpr), 'data-count': g.count },
                h('span', { class: 'value-bar-label' }, `${g.group} (${g.count}${g.small ? ', small' : ''})`),
                h('span', { class: 'value-bar-track' }, h('span', { class: 'value-bar-fill', style: `left:0;width:${(g.selection_rate * 100).toFixed(3)}%;background:#2f6fdf` })),
                h('span', { class: 'value-bar-value num' }, `${formatValue(g.selection_rate)} · TPR ${formatValue(g.tpr)}`),
              ),
            ),
          ),
          ...f.warnings.map((msg) => h('div', { class: 'chart-meta' }, msg)),
        ),
      ),
    );
  }

  function renderAlerts(alerts: AlertState[]): void {
    const rows = alerts.flatMap((a) => a.history.map((e) => ({ rule: a.rule, ...e }))).sort((x, y) => y.window_start_ms - x.window_start_ms);
    alertsBox.replaceChildren(
      h('h2', {}, 'Alerts ', ...alerts.map((a) => h('span', { class: a.state === 'firing' ? 'alert-firing' : undefined, 'data-rule': a.rule, 'data-state': a.state }, ` ${a.rule}: ${a.state}`))),
      rows.length === 0
        ? h('p', { class: 'empty' }, 'No alert has fired.')
        : h(
            'table',
            { id: 'alert-history' },
            h('thead', {}, h('tr', {}, ...['window', 'rule', 'state', 'value', 'threshold'].map((c) => h('th', {}, c)))),
            h('tbody', {}, ...rows.map((e) => h('tr', { 'data-rule': e.rule, 'data-state': e.state }, h('td', {}, iso(e.window_start_ms)), h('td', {}, e.rule), h('td', { class: e.state === 'firing' ? 'alert-firing' : undefined }, e.state), h('td', { class: 'num' }, formatValue(e.value)), h('td', { class: 'num' }, formatValue(e.threshold))))),
          ),
    );
  }

  await refresh();
}
