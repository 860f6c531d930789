// Page state <-> URL query, so every view is a shareable link. Pure functions, unit-tested.
import type { XAxis } from './api-types.ts';

export interface RunsState {
  experiments: string[];
  filter: string;
  orderBy: string;
  columns: string[];
  selected: string[];
}

export interface CompareState {
  runs: string[];
  keys: string[];
  x: XAxis;
  /** EMA weight in [0, 1); 0 = no smoothing. */
  smoothing: number;
  from?: number;
  to?: number;
  log: boolean;
  onlyDiffering: boolean;
  /** Metric the summary ranks runs by. */
  rankBy?: string;
}

export interface ModelsState {
  model: string;
  key: string;
  baseline?: number;
  goal?: 'min' | 'max';
  tolerance: number;
}

const X_AXES: readonly XAxis[] = ['step', 'time', 'relative'];

function num(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const v = Number(raw);
  return Number.isFinite(v) ? v : undefined;
}

function list(q: URLSearchParams, name: string): string[] {
  return [...new Set(q.getAll(name).filter((v) => v !== ''))];
}

function query(entries: [string, string | number | boolean | undefined | string[]][]): string {
  const q = new URLSearchParams();
  for (const [name, value] of entries) {
    if (value === undefined || value === false || value === '') continue;
    if (Array.isArray(value)) for (const v of value) q.append(name, v);
    else q.set(name, value === true ? '1' : String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function parseRunsState(q: URLSearchParams): RunsState {
  return { experiments: list(q, 'exp'), filter: q.get('filter') ?? '', orderBy: q.get('order') ?? '', columns: list(q, 'col'), selected: list(q, 'run') };
}

export function runsQuery(s: RunsState): string {
  return query([['exp', s.experiments], ['filter', s.filter], ['order', s.orderBy], ['col', s.columns], ['run', s.selected]]);
}

export function parseCompareState(q: URLSearchParams): CompareState {
  const x = q.get('x') as XAxis | null;
  const smoothing = num(q, 'smooth') ?? 0;
  const from = num(q, 'from');
  const to = num(q, 'to');
  const zoom = from !== undefined && to !== undefined && from <= to ? { from, to } : {};
  const rankBy = q.get('rank');
  return {
    runs: list(q, 'run'),
    keys: list(q, 'key'),
    x: x && X_AXES.includes(x) ? x : 'step',
    smoothing: smoothing > 0 && smoothing < 1 ? smoothing : 0,
    ...zoom,
    log: q.get('log') === '1',
    onlyDiffering: q.get('diff') === '1',
    ...(rankBy ? { rankBy } : {}),
  };
}

export function compareQuery(s: CompareState): string {
  return query([
    ['run', s.runs],
    ['key', s.keys],
    ['x', s.x === 'step' ? undefined : s.x],
    ['smooth', s.smoothing || undefined],
    ['from', s.from],
    ['to', s.to],
    ['log', s.log],
    ['diff', s.onlyDiffering],
    ['rank', s.rankBy],
  ]);
}

export function parseModelsState(q: URLSearchParams): ModelsState {
  const goal = q.get('goal');
  const baseline = num(q, 'baseline');
  return {
    model: q.get('model') ?? '',
    key: q.get('key') ?? '',
    ...(baseline !== undefined && Number.isInteger(baseline) ? { baseline } : {}),
    ...(goal === 'min' || goal === 'max' ? { goal } : {}),
    tolerance: Math.max(0, num(q, 'tol') ?? 0),
  };
}

export function modelsQuery(s: ModelsState): string {
  return query([['model', s.model], ['key', s.key], ['baseline', s.baseline], ['goal', s.goal], ['tol', s.tolerance || undefined]]);
}

/** One side of a drift comparison: a version and/or a time window of the dataset. */
export interface SideState { version?: string; from?: number; to?: number }

export interface DataState {
  dataset: string;
  reference: SideState;
  current: SideState;
  /** Drift over time: window length in ms (0 = ten windows over the current range). */
  windowMs: number;
  label?: string;
  /** Per column drift method chosen instead of the default one. */
  methods: Record<string, string>;
}

function side(q: URLSearchParams, prefix: string): SideState {
  const version = q.get(`${prefix}_version`);
  const from = num(q, `${prefix}_from`);
  const to = num(q, `${prefix}_to`);
  const window = from !== undefined && to !== undefined && from <= to ? { from, to } : {};
  return { ...(version ? { version } : {}), ...window };
}

export function parseDataState(q: URLSearchParams): DataState {
  const label = q.get('label');
  return {
    dataset: q.get('dataset') ?? '',
    reference: side(q, 'ref'),
    current: side(q, 'cur'),
    windowMs: Math.max(0, Math.floor(num(q, 'window') ?? 0)),
    ...(label ? { label } : {}),
    methods: Object.fromEntries([...q.entries()].filter(([k, v]) => k.startsWith('method.') && k.length > 7 && v !== '').map(([k, v]) => [k.slice(7), v])),
  };
}

export function dataQuery(s: DataState): string {
  return query([
    ['dataset', s.dataset],
    ['ref_version', s.reference.version],
    ['ref_from', s.reference.from],
    ['ref_to', s.reference.to],
    ['cur_version', s.current.version],
    ['cur_from', s.current.from],
    ['cur_to', s.current.to],
    ['window', s.windowMs || undefined],
    ['label', s.label],
    ...Object.entries(s.methods).map(([column, method]): [string, string] => [`method.${column}`, method]),
  ]);
}
