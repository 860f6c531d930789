// The drift view: per column Evidently's default method (or the requested one), score, threshold and verdict, both
// histograms over the same bins, and the dataset-level share of drifted columns. Queries in
// @runstream/clickhouse return counts and sums; @runstream/drift turns them into scores.
import {
  categoryCounts,
  DISTINCT_CAP,
  distinctValues,
  driftColumns,
  fewValues,
  numericBuckets,
  shiftedMoments,
  sideValueCounts,
  type ClickHouse,
  type ColumnTypeName,
  type RowSelection,
} from '@runstream/clickhouse';
import {
  chiSquare,
  defaultMethod,
  hellingerCategorical,
  hellingerNumerical,
  isDrifted,
  jensenShannon,
  klDiv,
  ks,
  METHOD_INFO,
  profileBuckets,
  psi,
  sturgesEdges,
  wassersteinNormed,
  zTest,
  type BinnedCounts,
  type DriftMethod,
  type ScanTotals,
} from '@runstream/drift';
import { ApiError } from '../api-errors.ts';
import { scanNumericColumn, SelectionChangedError } from './numeric-column-scan.ts';
import { pool } from './task-pool.ts';

export interface MethodChoice {
  method?: DriftMethod;
  threshold?: number;
}

export interface DriftRequest {
  reference: RowSelection;
  current: RowSelection;
  columns?: string[];
  methods?: Record<string, MethodChoice>;
  /** Share of drifted columns at or above which the dataset drifted (Evidently's default 0.5). */
  driftShare?: number;
}

export type Histogram =
  | { edges: number[]; counts: number[]; shares: number[] }
  | { values: (string | number)[]; counts: number[]; shares: number[] };

export interface ColumnDrift {
  column: string;
  type: ColumnTypeName;
  method: DriftMethod | null;
  score: number | null;
  threshold: number | null;
  drifted: boolean;
  referenceRows: number;
  currentRows: number;
  referenceHistogram: Histogram | null;
  currentHistogram: Histogram | null;
  /** Why a column has no score (no clean values on one side). */
  note?: string;
}

export interface DriftReport {
  columns: ColumnDrift[];
  driftedColumns: number;
  driftShare: number;
  datasetDrift: boolean;
  driftShareThreshold: number;
}

/** Categories (or values of a low-cardinality numerical column) read per column; beyond this the request is refused. */
export const MAX_VALUES_PER_COLUMN = 100_000;

/** Code-point order, as Python sorts strings (ClickHouse compares UTF-8 bytes, which is the same order). */
export function compareCodePoints(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return Buffer.compare(x, y);
}

/** What the method choice depends on, per column. */
interface ColumnProfile {
  column: string;
  type: ColumnTypeName;
  /** Clean values per side (after dropping missing values and ±inf). */
  n1: number;
  n2: number;
  /** Exact for categorical columns; for numerical ones exact up to DISTINCT_CAP, else DISTINCT_CAP + 1. */
  distinctAll: number;
  distinctRef: number;
}

interface Plan {
  method: DriftMethod;
  threshold: number;
  needsValues: boolean;
  binned: boolean;
}

function planColumn(p: ColumnProfile, choice: MethodChoice | undefined): Plan {
  const method = choice?.method ?? defaultMethod(p.type, p.n1, p.distinctAll);
  if (!METHOD_INFO[method].kinds.includes(p.type)) {
    throw new ApiError(400, 'INVALID_ARGUMENT', `method ${method} does not apply to the ${p.type} column ${JSON.stringify(p.column)}`);
  }
  const threshold = choice?.threshold ?? METHOD_INFO[method].threshold;
  // PSI, KL and JS bin numerical columns with more than 20 distinct reference values (Sturges); otherwise per value.
  const binned = p.type === 'numerical' && ['psi', 'kl_div', 'jensenshannon'].includes(method) && p.distinctRef > 20;
  const needsValues = p.type === 'categorical' || method === 'chisquare' || method === 'z' || (['psi', 'kl_div', 'jensenshannon'].includes(method) && !binned);
  return { method, threshold, needsValues, binned };
}

interface ValueCount {
  value: string | number;
  reference: number;
  current: number;
}

/** Times a column is read again when rows arrive between its reads. */
const READ_ATTEMPTS = 3;
/** Numerical columns computed at once (each is a few queries; ClickHouse runs every one on all its cores). */
const COLUMN_CONCURRENCY = 4;

export async function driftReport(ch: ClickHouse, req: DriftRequest): Promise<DriftReport> {
  const found = await driftColumns(ch, req.reference, req.current, req.columns);
  for (const name of Object.keys(req.methods ?? {})) {
    if (!found.some((c) => c.column === name)) throw new ApiError(400, 'INVALID_ARGUMENT', `methods names the column ${JSON.stringify(name)}, which has no rows in either selection`);
  }
  const choice = (column: string) => (req.methods && Object.hasOwn(req.methods, column) ? req.methods[column] : undefined);
  const mixed = found.filter((c) => c.types.length > 1);
  const categorical = found.filter((c) => c.types.length === 1 && c.types[0] === 'categorical').map((c) => c.column);
  const numerical = found.filter((c) => c.types.length === 1 && c.types[0] === 'numerical').map((c) => c.column);

  const results = new Map<string, ColumnDrift | null>();
  const [counts] = await Promise.all([
    categoryCounts(ch, req.reference, req.current, categorical, MAX_VALUES_PER_COLUMN + 1),
    pool(numerical, COLUMN_CONCURRENCY, async (column) => results.set(column, await numericalColumn(ch, req, column, choice(column)))),
  ]);
  for (const column of categorical) {
    const values = counts.filter((c) => c.column === column).sort((a, b) => compareCodePoints(a.value, b.value));
    results.set(column, categoricalColumn(column, values, choice(column)));
  }
  for (const c of mixed) {
    results.set(c.column, {
      ...unscored(c.column, c.types[0]!, 0, 0),
      note: `stored as ${c.types.join(' and ')} values in different rows; drift needs one type per column`,
    });
  }
  const columns = found.map((c) => results.get(c.column)).filter((c): c is ColumnDrift => c !== null && c !== undefined);
  if (columns.length === 0) throw new ApiError(404, 'NOT_FOUND', 'neither selection has rows for the requested columns');

  const scored = columns.filter((c) => c.score !== null);
  const driftedColumns = scored.filter((c) => c.drifted).length;
  const share = scored.length === 0 ? 0 : driftedColumns / scored.length;
  const threshold = req.driftShare ?? 0.5;
  return { columns, driftedColumns, driftShare: share, datasetDrift: scored.length > 0 && share >= threshold, driftShareThreshold: threshold };
}

function unscored(column: string, type: ColumnTypeName, n1: number, n2: number): ColumnDrift {
  const side = n1 === 0 ? 'reference' : 'current';
  return {
    column,
    type,
    method: null,
    score: null,
    threshold: null,
    drifted: false,
    referenceRows: n1,
    currentRows: n2,
    referenceHistogram: null,
    currentHistogram: null,
    note: `no values in the ${side} selection after dropping missing and infinite values`,
  };
}

function valueHistograms(values: readonly ValueCount[], n1: number, n2: number): Pick<ColumnDrift, 'referenceHistogram' | 'currentHistogram'> {
  const list = values.map((v) => v.value);
  return {
    referenceHistogram: { values: list, counts: values.map((v) => v.reference), shares: values.map((v) => v.reference / n1) },
    currentHistogram: { values: [...list], counts: values.map((v) => v.current), shares: values.map((v) => v.current / n2) },
  };
}

function perValueCounts(values: readonly ValueCount[], n1: number, n2: number): BinnedCounts {
  return { reference: values.map((v) => v.reference), current: values.map((v) => v.current), referenceTotal: n1, currentTotal: n2 };
}

function categoricalColumn(column: string, values: ValueCount[], choice: MethodChoice | undefined): ColumnDrift | null {
  if (values.length > MAX_VALUES_PER_COLUMN) {
    throw new ApiError(400, 'INVALID_ARGUMENT', `column ${JSON.stringify(column)} has more than ${MAX_VALUES_PER_COLUMN} distinct values; at most ${MAX_VALUES_PER_COLUMN} are compared per column`);
  }
  const n1 = values.reduce((a, v) => a + v.reference, 0);
  const n2 = values.reduce((a, v) => a + v.current, 0);
  if (n1 === 0 && n2 === 0) return null;
  if (n1 === 0 || n2 === 0) return unscored(column, 'categorical', n1, n2);
  const profile: ColumnProfile = { column, type: 'categorical', n1, n2, distinctAll: values.length, distinctRef: values.filter((v) => v.reference > 0).length };
  const plan = planColumn(profile, choice);
  const score = perValueScore(plan, profile, perValueCounts(values, n1, n2), values);
  return { column, type: 'categorical', referenceRows: n1, currentRows: n2, method: plan.method, score, threshold: plan.threshold, drifted: isDrifted(plan.method, score, plan.threshold), ...valueHistograms(values, n1, n2) };
}

async function numericalColumn(ch: ClickHouse, req: DriftRequest, column: string, choice: MethodChoice | undefined): Promise<ColumnDrift | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await numericalColumnOnce(ch, req, column, choice);
    } catch (err) {
      if (!(err instanceof SelectionChangedError)) throw err;
      if (attempt >= READ_ATTEMPTS) throw new ApiError(503, 'UNAVAILABLE', `${err.message} ${READ_ATTEMPTS} times; retry when fewer rows are arriving`);
    }
  }
}

/** Distinct counts and, when few, the values themselves, counted in the rows (capped at DISTINCT_CAP + 1). */
async function countFewValues(ch: ClickHouse, req: DriftRequest, column: string): Promise<{ all: number; ref: number; values?: ValueCount[] }> {
  const rows = await fewValues(ch, req.reference, req.current, column, DISTINCT_CAP + 1);
  const byValue = new Map<number, ValueCount>();
  let ref = 0;
  let cur = 0;
  for (const r of rows) {
    if (r.side === 1) ref++;
    else cur++;
    let v = byValue.get(r.value);
    if (!v) byValue.set(r.value, (v = { value: r.value, reference: 0, current: 0 }));
    if (r.side === 1) v.reference = r.count;
    else v.current = r.count;
  }
  // A side listing DISTINCT_CAP + 1 values was cut short: the union is at least that large.
  const complete = ref <= DISTINCT_CAP && cur <= DISTINCT_CAP;
  const all = complete ? Math.min(byValue.size, DISTINCT_CAP + 1) : DISTINCT_CAP + 1;
  const values = complete && byValue.size <= DISTINCT_CAP ? [...byValue.values()].sort((a, b) => (a.value as number) - (b.value as number)) : undefined;
  return { all, ref, ...(values ? { values } : {}) };
}

async function numericalColumnOnce(ch: ClickHouse, req: DriftRequest, column: string, choice: MethodChoice | undefined): Promise<ColumnDrift | null> {
  const { buckets, refMin, refMax, consistent } = await numericBuckets(ch, req.reference, req.current, column);
  if (!consistent) throw new SelectionChangedError(column);
  const bp = profileBuckets(buckets, DISTINCT_CAP, Math.max(Math.abs(refMin), Math.abs(refMax)));
  if (bp.n1 === 0 && bp.n2 === 0) return null;
  if (bp.n1 === 0 || bp.n2 === 0) return unscored(column, 'numerical', bp.n1, bp.n2);
  // Few buckets cannot tell how many distinct values they hold: count them (cheap: few buckets, few values each, or
  // many equal values).
  const few = bp.distinctAll === undefined || bp.distinctRef === undefined ? await countFewValues(ch, req, column) : undefined;
  const distinctAll = bp.distinctAll ?? few!.all;
  const distinctRef = bp.distinctRef ?? few!.ref;
  const profile: ColumnProfile = { column, type: 'numerical', n1: bp.n1, n2: bp.n2, distinctAll, distinctRef };
  const plan = planColumn(profile, choice);
  // Beyond DISTINCT_CAP, exact distinct counts come from the rows (per-value methods and Hellinger's bins need them).
  let exactAll: number | undefined = distinctAll <= DISTINCT_CAP ? distinctAll : undefined;
  const countAll = async () => (exactAll ??= (await distinctValues(ch, req.reference, req.current, [column])).get(column)?.all ?? 0);

  let values: ValueCount[] = [];
  if (plan.needsValues) {
    if (few?.values) values = few.values;
    else {
      const distinct = await countAll();
      if (distinct > MAX_VALUES_PER_COLUMN) {
        throw new ApiError(400, 'INVALID_ARGUMENT', `column ${JSON.stringify(column)} has ${distinct} distinct values; at most ${MAX_VALUES_PER_COLUMN} are compared per column`);
      }
      values = (await sideValueCounts(ch, req.reference, req.current, [column], MAX_VALUES_PER_COLUMN)).map((v) => ({ value: v.value, reference: v.reference, current: v.current }));
      values.sort((a, b) => (a.value as number) - (b.value as number));
      if (values.reduce((a, v) => a + v.reference, 0) !== bp.n1 || values.reduce((a, v) => a + v.current, 0) !== bp.n2) throw new SelectionChangedError(column);
    }
  }
  const min = buckets[0]!.lo;
  const max = buckets[buckets.length - 1]!.hi;
  const edges = [sturgesEdges(min, max, bp.n1 + bp.n2)];
  if (plan.method === 'hellinger') edges.push(sturgesEdges(min, max, await countAll()));
  const totals = await scanNumericColumn({
    ch,
    reference: req.reference,
    current: req.current,
    column,
    buckets,
    goals: { wasserstein: plan.method === 'wasserstein', ks: plan.method === 'ks', histograms: edges.map(() => true) },
    edges,
  });
  let refStdPop = bp.refStdPop;
  if (plan.method === 'wasserstein' && !bp.refStdPrecise) {
    // Values far from their buckets' points: the variance from the values themselves, shifted by the mean the buckets
    // give (close enough that the shifted sums do not cancel).
    const m = await shiftedMoments(ch, req.reference, column, Number.isFinite(bp.refMean) ? bp.refMean : refMin);
    if (m.n !== bp.n1) throw new SelectionChangedError(column);
    refStdPop = Math.sqrt(Math.max(m.sumSq - (m.sum * m.sum) / m.n, 0) / m.n);
  }
  const score = numericalScore(plan, profile, refStdPop, totals, edges, values);
  const [hist] = totals.histograms;
  return {
    column,
    type: 'numerical',
    referenceRows: bp.n1,
    currentRows: bp.n2,
    method: plan.method,
    score,
    threshold: plan.threshold,
    drifted: isDrifted(plan.method, score, plan.threshold),
    referenceHistogram: { edges: [...edges[0]!], counts: hist!.reference, shares: hist!.reference.map((c) => c / bp.n1) },
    currentHistogram: { edges: [...edges[0]!], counts: hist!.current, shares: hist!.current.map((c) => c / bp.n2) },
  };
}

function numericalScore(plan: Plan, p: ColumnProfile, refStdPop: number, totals: ScanTotals, edges: readonly (readonly number[])[], values: ValueCount[]): number {
  const binned = (h: number): BinnedCounts => ({ reference: totals.histograms[h]!.reference, current: totals.histograms[h]!.current, referenceTotal: p.n1, currentTotal: p.n2 });
  switch (plan.method) {
    case 'ks':
      return ks(p.n1, p.n2, totals.dNumerator);
    case 'wasserstein':
      return wassersteinNormed(totals.wasserstein, refStdPop);
    case 'hellinger':
      return hellingerNumerical(binned(1), edges[1]!);
    case 'psi':
    case 'kl_div':
    case 'jensenshannon':
      if (plan.binned) return perValueScore(plan, p, binned(0), values);
  }
  return perValueScore(plan, p, perValueCounts(values, p.n1, p.n2), values);
}

function perValueScore(plan: Plan, p: ColumnProfile, counts: BinnedCounts, values: readonly ValueCount[]): number {
  switch (plan.method) {
    case 'chisquare':
      return chiSquare(counts);
    case 'z': {
      const first = values[0]!;
      // One value in reference ∪ current: both sides hold that same single value.
      return zTest(p.n1, p.n2, first.reference, first.current, p.distinctAll === 1);
    }
    case 'psi':
      return psi(counts);
    case 'kl_div':
      return klDiv(counts);
    case 'jensenshannon':
      return jensenShannon(counts);
    case 'hellinger':
      return hellingerCategorical(counts);
    default:
      throw new Error(`${plan.method} is not a per-value method`);
  }
}
