// The drift view: per column Evidently's default method (or the requested one), score, threshold and verdict, both
// histograms over the same bins, and the dataset-level share of drifted columns. Queries in
// @runstream/clickhouse return counts and sums; @runstream/drift turns them into scores.
import {
  binnedCounts,
  DISTINCT_CAP,
  distinctValues,
  driftProfile,
  ecdfStatistics,
  sideValueCounts,
  type BinRequest,
  type ClickHouse,
  type ColumnTypeName,
  type DriftProfileRow,
  type RowSelection,
  type SideValueCount,
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
  psi,
  sturgesEdges,
  wassersteinNormed,
  zTest,
  type BinnedCounts,
  type DriftMethod,
} from '@runstream/drift';
import { ApiError } from '../api-errors.ts';
import { wassersteinNumerators, type WassersteinColumn } from './wasserstein-exact.ts';

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

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return compareCodePoints(String(a), String(b));
}

interface Plan {
  profile: DriftProfileRow;
  method: DriftMethod;
  threshold: number;
  needsValues: boolean;
  binned: boolean;
}

function planColumn(p: DriftProfileRow, choice: MethodChoice | undefined): Plan {
  const method = choice?.method ?? defaultMethod(p.type, p.n1, p.distinctAll);
  if (!METHOD_INFO[method].kinds.includes(p.type)) {
    throw new ApiError(400, 'INVALID_ARGUMENT', `method ${method} does not apply to the ${p.type} column ${JSON.stringify(p.column)}`);
  }
  const threshold = choice?.threshold ?? METHOD_INFO[method].threshold;
  // PSI, KL and JS bin numerical columns with more than 20 distinct reference values (Sturges); otherwise per value.
  const binned = p.type === 'numerical' && ['psi', 'kl_div', 'jensenshannon'].includes(method) && p.distinctRef > 20;
  const needsValues = p.type === 'categorical' || method === 'chisquare' || method === 'z' || (['psi', 'kl_div', 'jensenshannon'].includes(method) && !binned);
  return { profile: p, method, threshold, needsValues, binned };
}

const histogramId = (column: string) => `h:${column}`;
const hellingerId = (column: string) => `g:${column}`;

export async function driftReport(ch: ClickHouse, req: DriftRequest): Promise<DriftReport> {
  const profiles = await driftProfile(ch, req.reference, req.current, req.columns);
  if (profiles.length === 0) throw new ApiError(404, 'NOT_FOUND', 'neither selection has rows for the requested columns');
  for (const name of Object.keys(req.methods ?? {})) {
    if (!profiles.some((p) => p.column === name)) throw new ApiError(400, 'INVALID_ARGUMENT', `methods names the column ${JSON.stringify(name)}, which has no rows in either selection`);
  }
  const scorable = profiles.filter((p) => p.n1 > 0 && p.n2 > 0);
  const plans = new Map(scorable.map((p) => [p.column, planColumn(p, req.methods && Object.hasOwn(req.methods, p.column) ? req.methods[p.column] : undefined)]));
  // The profile counts numerical distinct values only up to a cap: Hellinger's bins need the exact count, and so does
  // the size check of a per-value comparison (a chi-square requested on a continuous column).
  const needExact = [...plans.values()].filter((p) => p.profile.type === 'numerical' && (p.method === 'hellinger' || (p.needsValues && p.profile.distinctAll > DISTINCT_CAP)));
  const exactDistinct = await distinctValues(ch, req.reference, req.current, needExact.map((p) => p.profile.column));
  for (const plan of plans.values()) {
    const distinct = exactDistinct.get(plan.profile.column) ?? plan.profile.distinctAll;
    if (plan.needsValues && distinct > MAX_VALUES_PER_COLUMN) {
      throw new ApiError(400, 'INVALID_ARGUMENT', `column ${JSON.stringify(plan.profile.column)} has ${distinct} distinct values; at most ${MAX_VALUES_PER_COLUMN} are compared per column`);
    }
  }
  const ecdfColumns = [...plans.values()].filter((p) => p.method === 'ks').map((p) => p.profile.column);
  const valueColumns = [...plans.values()].filter((p) => p.needsValues).map((p) => p.profile.column);
  // Every numerical column's histogram; a Wasserstein column's comes with its bucket read, the others are counted here.
  const bins: BinRequest[] = [];
  const wassersteinColumns: WassersteinColumn[] = [];
  for (const p of scorable) {
    if (p.type !== 'numerical') continue;
    const edges = sturgesEdges(p.min, p.max, p.n1 + p.n2);
    if (plans.get(p.column)!.method === 'wasserstein') wassersteinColumns.push({ profile: p, histogram: edges });
    else bins.push({ id: histogramId(p.column), column: p.column, edges });
    if (plans.get(p.column)!.method === 'hellinger') bins.push({ id: hellingerId(p.column), column: p.column, edges: sturgesEdges(p.min, p.max, exactDistinct.get(p.column)!) });
  }
  const [ecdfKs, wasserstein, values, binned] = await Promise.all([
    ecdfStatistics(ch, req.reference, req.current, ecdfColumns),
    wassersteinNumerators(ch, req.reference, req.current, wassersteinColumns),
    sideValueCounts(ch, req.reference, req.current, valueColumns, MAX_VALUES_PER_COLUMN),
    binnedCounts(ch, req.reference, req.current, bins),
  ]);
  for (const w of wasserstein) {
    const c = wassersteinColumns.find((x) => x.profile.column === w.column)!;
    binned.push({ id: histogramId(w.column), reference: w.histogram.reference, current: w.histogram.current });
    bins.push({ id: histogramId(w.column), column: w.column, edges: c.histogram });
  }
  const ecdf = [...ecdfKs, ...wasserstein];
  const valuesByColumn = new Map<string, SideValueCount[]>();
  for (const v of values) {
    let list = valuesByColumn.get(v.column);
    if (!list) valuesByColumn.set(v.column, (list = []));
    list.push(v);
  }
  const binsById = new Map(binned.map((b) => [b.id, b]));
  const edgesById = new Map(bins.map((b) => [b.id, b.edges]));

  const columns: ColumnDrift[] = profiles.map((p) => {
    const plan = plans.get(p.column);
    const base = { column: p.column, type: p.type, referenceRows: p.n1, currentRows: p.n2 };
    if (!plan) {
      const side = p.n1 === 0 ? 'reference' : 'current';
      return { ...base, method: null, score: null, threshold: null, drifted: false, referenceHistogram: null, currentHistogram: null, note: `no values in the ${side} selection after dropping missing and infinite values` };
    }
    const valueCounts = (valuesByColumn.get(p.column) ?? []).sort((a, b) => compareValues(a.value, b.value));
    const perValue: BinnedCounts = { reference: valueCounts.map((v) => v.reference), current: valueCounts.map((v) => v.current), referenceTotal: p.n1, currentTotal: p.n2 };
    const hist = binsById.get(histogramId(p.column));
    const perBin: BinnedCounts | undefined = hist && { reference: hist.reference, current: hist.current, referenceTotal: p.n1, currentTotal: p.n2 };
    const score = scoreOf(plan, perValue, perBin, ecdf.find((e) => e.column === p.column), valueCounts, () => {
      const h = binsById.get(hellingerId(p.column))!;
      return hellingerNumerical({ reference: h.reference, current: h.current, referenceTotal: p.n1, currentTotal: p.n2 }, edgesById.get(hellingerId(p.column))!);
    });
    const histograms = p.type === 'numerical' && hist
      ? {
          referenceHistogram: { edges: [...edgesById.get(histogramId(p.column))!], counts: hist.reference, shares: hist.reference.map((c) => c / p.n1) },
          currentHistogram: { edges: [...edgesById.get(histogramId(p.column))!], counts: hist.current, shares: hist.current.map((c) => c / p.n2) },
        }
      : {
          referenceHistogram: { values: valueCounts.map((v) => v.value), counts: perValue.reference as number[], shares: perValue.reference.map((c) => c / p.n1) },
          currentHistogram: { values: valueCounts.map((v) => v.value), counts: perValue.current as number[], shares: perValue.current.map((c) => c / p.n2) },
        };
    return { ...base, method: plan.method, score, threshold: plan.threshold, drifted: isDrifted(plan.method, score, plan.threshold), ...histograms };
  });

  const scored = columns.filter((c) => c.score !== null);
  const driftedColumns = scored.filter((c) => c.drifted).length;
  const share = scored.length === 0 ? 0 : driftedColumns / scored.length;
  const threshold = req.driftShare ?? 0.5;
  return { columns, driftedColumns, driftShare: share, datasetDrift: scored.length > 0 && share >= threshold, driftShareThreshold: threshold };
}

function scoreOf(
  plan: Plan,
  perValue: BinnedCounts,
  perBin: BinnedCounts | undefined,
  ecdf: { n1: number; n2: number; dNumerator: number; wNumerator: number } | undefined,
  valueCounts: SideValueCount[],
  hellingerNumeric: () => number,
): number {
  const p = plan.profile;
  switch (plan.method) {
    case 'ks':
      return ks(p.n1, p.n2, ecdf!.dNumerator);
    case 'wasserstein':
      return wassersteinNormed(ecdf!.wNumerator / (p.n1 * p.n2), p.refStdPop);
    case 'chisquare':
      return chiSquare(perValue);
    case 'z': {
      const first = valueCounts[0]!;
      // One value in reference ∪ current: both sides hold that same single value.
      const single = p.distinctAll === 1;
      return zTest(p.n1, p.n2, first.reference, first.current, single);
    }
    case 'psi':
      return psi(plan.binned ? perBin! : perValue);
    case 'kl_div':
      return klDiv(plan.binned ? perBin! : perValue);
    case 'jensenshannon':
      return jensenShannon(plan.binned ? perBin! : perValue);
    case 'hellinger':
      return p.type === 'categorical' ? hellingerCategorical(perValue) : hellingerNumeric();
  }
}
