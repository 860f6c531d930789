// Runs: search with the filter DSL (as the API), a table with the chosen params and metrics, select runs to compare.
import { api } from '../api-client.ts';
import type { Experiment, SearchResponse, SearchRun } from '../api-types.ts';
import { formatValue, h } from '../dom.ts';
import { toNumber } from '../json-double.ts';
import { setStatus, showError } from '../page-status.ts';
import { compareQuery, parseRunsState, runsQuery, type RunsState } from '../url-state.ts';

const PAGE_SIZE = 100;
const DEFAULT_COLUMNS = 8;

export async function renderRunsPage(root: HTMLElement): Promise<void> {
  let state = parseRunsState(new URLSearchParams(location.search));
  const experiments = await api<{ items: Experiment[] }>('GET', '/api/v1/experiments?max_results=1000');
  const selected = new Set(state.selected);
  let runs: SearchRun[] = [];
  let total = 0;
  let nextToken: string | undefined;

  const filter = h('input', { type: 'text', id: 'filter', class: 'wide', placeholder: "params.lr = '0.1' AND (metrics.acc > 0.9 OR min(metrics.loss) < 0.2)", value: state.filter });
  const order = h('input', { type: 'text', id: 'order-by', placeholder: 'metrics.acc DESC', value: state.orderBy });
  const expSelect = h(
    'select',
    { id: 'experiments', multiple: true, size: Math.min(4, Math.max(2, experiments.items.length)) },
    ...experiments.items.map((e) => h('option', { value: e.experiment_id, selected: state.experiments.includes(e.experiment_id) }, e.name)),
  );
  const form = h(
    'form',
    {
      class: 'controls search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        state = { ...state, filter: filter.value.trim(), orderBy: order.value.trim(), experiments: [...expSelect.selectedOptions].map((o) => o.value) };
        history.replaceState(null, '', runsQuery(state));
        void search(false);
      },
    },
    h('label', { class: 'grow' }, 'Filter ', filter),
    h('label', {}, 'Order by ', order),
    h('label', {}, 'Experiments ', expSelect),
    h('button', { type: 'submit', id: 'search' }, 'Search'),
  );
  const summary = h('div', { class: 'result-summary', id: 'result-summary' });
  const columnsBox = h('details', { class: 'columns', id: 'columns' });
  const table = h('div', { class: 'table-wrap', id: 'runs' });
  const more = h('button', { type: 'button', id: 'load-more', hidden: true, onclick: () => void search(true) }, 'Load more');
  const compareLink = h('a', { class: 'button primary', id: 'compare-selected' }, '');
  root.append(h('h1', {}, 'Runs'), form, h('div', { class: 'toolbar' }, summary, compareLink, columnsBox), table, more);

  function updateSelection(): void {
    state = { ...state, selected: [...selected] };
    history.replaceState(null, '', runsQuery(state));
    compareLink.textContent = `Compare ${selected.size} selected`;
    compareLink.classList.toggle('disabled', selected.size === 0);
    compareLink.setAttribute('href', `/ui/compare${compareQuery({ runs: [...selected], keys: [], x: 'step', smoothing: 0, log: false, onlyDiffering: false })}`);
  }

  function allKeys(): { params: string[]; metrics: string[] } {
    const params = new Set<string>();
    const metrics = new Set<string>();
    for (const r of runs) {
      for (const k of Object.keys(r.params)) params.add(k);
      for (const k of Object.keys(r.metrics)) metrics.add(k);
    }
    return { params: [...params].sort(), metrics: [...metrics].sort() };
  }

  function columns(): string[] {
    if (state.columns.length > 0) return state.columns;
    const { params, metrics } = allKeys();
    return [...params.slice(0, DEFAULT_COLUMNS).map((k) => `params.${k}`), ...metrics.slice(0, DEFAULT_COLUMNS).map((k) => `metrics.${k}`)];
  }

  function renderColumnChooser(): void {
    const chosen = new Set(columns());
    const { params, metrics } = allKeys();
    const box = (col: string) =>
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          value: col,
          checked: chosen.has(col),
          onchange: (e: Event) => {
            if ((e.target as HTMLInputElement).checked) chosen.add(col);
            else chosen.delete(col);
            state = { ...state, columns: [...params.map((k) => `params.${k}`), ...metrics.map((k) => `metrics.${k}`)].filter((c) => chosen.has(c)) };
            history.replaceState(null, '', runsQuery(state));
            renderTable();
          },
        }),
        col,
      );
    columnsBox.replaceChildren(h('summary', {}, 'Columns'), h('div', { class: 'column-list' }, ...params.map((k) => box(`params.${k}`)), ...metrics.map((k) => box(`metrics.${k}`))));
    columnsBox.open = columnsBox.open || false;
  }

  function cell(r: SearchRun, col: string) {
    if (col.startsWith('params.')) return h('td', {}, r.params[col.slice(7)] ?? '');
    const v = r.metrics[col.slice(8)];
    return h('td', { class: 'num' }, v === undefined ? '' : formatValue(toNumber(v)));
  }

  /** A header that orders the search by its column (click again to flip the direction). */
  function sortable(label: string, column: string) {
    const [current, dir] = state.orderBy.split(/\s+/);
    const active = current === column;
    const quoted = /^(params|metrics|tags)\.[^`]*[^\w.]/.test(column) ? column.replace(/^(\w+)\.(.*)$/, '$1.`$2`') : column;
    return h(
      'th',
      {
        class: active ? 'sortable sorted' : 'sortable',
        title: `order by ${column}`,
        onclick: () => {
          order.value = `${quoted} ${active && dir?.toUpperCase() === 'DESC' ? 'ASC' : 'DESC'}`;
          form.requestSubmit();
        },
      },
      active ? `${label} ${dir?.toUpperCase() === 'DESC' ? '↓' : '↑'}` : label,
    );
  }

  function renderTable(): void {
    const cols = columns();
    const pageIds = runs.map((r) => r.run_id);
    const all = h('input', {
      type: 'checkbox',
      id: 'select-all',
      title: 'select all shown',
      checked: pageIds.length > 0 && pageIds.every((id) => selected.has(id)),
      onchange: (e: Event) => {
        for (const id of pageIds) {
          if ((e.target as HTMLInputElement).checked) selected.add(id);
          else selected.delete(id);
        }
        renderTable();
        updateSelection();
      },
    });
    table.replaceChildren(
      h(
        'table',
        { id: 'runs-table' },
        h('thead', {}, h('tr', {}, h('th', {}, all), sortable('run', 'attributes.run_name'), sortable('status', 'attributes.status'), sortable('started', 'attributes.start_time'), ...cols.map((c) => sortable(c, c)))),
        h(
          'tbody',
          {},
          ...runs.map((r) =>
            h(
              'tr',
              { 'data-run': r.run_id },
              h(
                'td',
                {},
                h('input', {
                  type: 'checkbox',
                  class: 'select-run',
                  value: r.run_id,
                  checked: selected.has(r.run_id),
                  onchange: (e: Event) => {
                    if ((e.target as HTMLInputElement).checked) selected.add(r.run_id);
                    else selected.delete(r.run_id);
                    updateSelection();
                  },
                }),
              ),
              h('td', { title: r.run_id }, h('a', { href: `/ui/compare?run=${encodeURIComponent(r.run_id)}` }, r.run_name || r.run_id)),
              h('td', {}, r.status),
              h('td', {}, r.start_time ? new Date(r.start_time).toISOString().slice(0, 16).replace('T', ' ') : ''),
              ...cols.map((c) => cell(r, c)),
            ),
          ),
        ),
      ),
    );
  }

  async function search(append: boolean): Promise<void> {
    setStatus('loading');
    try {
      const res = await api<SearchResponse>('POST', '/api/v1/runs/search', {
        ...(state.experiments.length ? { experiment_ids: state.experiments } : {}),
        ...(state.filter ? { filter: state.filter } : {}),
        ...(state.orderBy ? { order_by: state.orderBy.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        max_results: PAGE_SIZE,
        ...(append && nextToken ? { page_token: nextToken } : {}),
      });
      runs = append ? [...runs, ...res.runs] : res.runs;
      total = res.total_count;
      nextToken = res.next_page_token;
      more.hidden = !nextToken;
      summary.textContent = `${total.toLocaleString('en')} run${total === 1 ? '' : 's'} match · ${runs.length} shown`;
      renderColumnChooser();
      renderTable();
      setStatus('ready');
    } catch (err) {
      runs = append ? runs : [];
      showError(err);
    }
  }

  updateSelection();
  await search(false);
}
