// The reads of model monitoring: predictions (and labels) stored as dataset rows, reduced by ClickHouse per time
// window and segment to counts and sums that packages/model-metrics finishes. No prediction row leaves ClickHouse:
// - confusion cells: rows per (window, segment, true class, predicted class, sensitive groups);
// - score curves: per (window, segment or all segments, class) the ROC and average-precision sums over distinct
//   scores, ties grouped (arrays sorted inside ClickHouse; no window functions, which 18.16 lacks);
// - probability sums (log loss, Brier) and regression sums per (window, segment).
//
// Dataset rows are stored long (one row per value), so a prediction is pivoted back from its values: all values of
// one row share (source topic, partition, offset, index in message). Labels that arrive later on their own dataset
// are pivoted the same way and joined by the id column; the newest label of an id (Kafka order) wins, and a joined
// label replaces the prediction row's own label column. Windows are those of the prediction's time, so a late label
// changes the window its prediction belongs to the next time the window is read.
import { queryRows, type ClickHouse } from './clickhouse-client.ts';
import { joinSql, sql, sqlArray, SqlFragment } from './sql-literal.ts';

export type MonitorTask = 'binary' | 'multiclass' | 'regression';

export interface MonitorSource {
  task: MonitorTask;
  dataset: string;
  version?: string;
  fromMs?: number;
  toMs?: number;
  windowMs: number;
  predictionColumn: string;
  /** The true value in the prediction rows themselves (absent when labels only come from `labels`). */
  labelColumn?: string;
  /** Binary: the probability (score) of the positive class. */
  scoreColumn?: string;
  /** Multiclass: the probability column of each class. */
  classScores?: { class: string; column: string }[];
  /** Binary: the positive class, as text ("1" for a numerical 1). */
  positiveLabel?: string;
  sensitiveColumns: string[];
  /** Labels that arrive later as rows of another dataset, joined on the prediction's `idColumn`. */
  labels?: { dataset: string; version?: string; idColumn: string; labelColumn: string };
  idColumn?: string;
}

/** A value as text: numbers in ClickHouse's shortest form ("1", "0.5"), categories as they are. */
const TEXT = new SqlFragment("if(column_type = 'numerical', toString(num_value), cat_value)");
/** A value that takes part: not missing, and for numbers finite. */
const PRESENT = new SqlFragment("is_missing = 0 AND (column_type = 'categorical' OR isFinite(num_value))");
const ROW_KEY = new SqlFragment('src_topic, src_partition, src_offset, row_index');
/** numpy's float64 eps: scikit-learn clips probabilities to [eps, 1 − eps] and divides by max(|y|, eps). */
const EPS = 2.220446049250313e-16;

function textOf(column: string, alias: string): SqlFragment {
  return sql`anyIf(${TEXT}, column = ${column} AND ${PRESENT}) AS ${new SqlFragment(alias)}, countIf(column = ${column} AND ${PRESENT}) > 0 AS ${new SqlFragment(`has_${alias}`)}`;
}

function numberOf(column: string, alias: string): SqlFragment {
  return sql`anyIf(num_value, column = ${column} AND column_type = 'numerical' AND ${PRESENT}) AS ${new SqlFragment(alias)}, countIf(column = ${column} AND column_type = 'numerical' AND ${PRESENT}) > 0 AS ${new SqlFragment(`has_${alias}`)}`;
}

function rowFilter(dataset: string, version: string | undefined, columns: string[], fromMs?: number, toMs?: number): SqlFragment {
  const parts = [sql`dataset = ${dataset}`, sql`column IN ${[...new Set(columns)]}`];
  if (version !== undefined) parts.push(sql`version = ${version}`);
  if (fromMs !== undefined) parts.push(sql`timestamp_ms >= ${fromMs}`);
  if (toMs !== undefined) parts.push(sql`timestamp_ms < ${toMs}`);
  return joinSql(parts, ' AND ');
}

const scoreColumnsOf = (m: MonitorSource): string[] => (m.task === 'binary' ? (m.scoreColumn ? [m.scoreColumn] : []) : m.task === 'multiclass' ? (m.classScores ?? []).map((c) => c.column) : []);

/**
 * One row per prediction with: w (window start, ms), seg, y / has_y (true value as text), yhat / has_yhat, y_num and
 * yhat_num (regression), p0… / has_p0… (scores), g0… (sensitive groups, '' when missing).
 */
export function predictionRows(m: MonitorSource): SqlFragment {
  const regression = m.task === 'regression';
  const scores = scoreColumnsOf(m);
  const inlineLabel = m.labelColumn;
  const id = m.labels ? (m.idColumn ?? m.labels.idColumn) : undefined;
  const columns = [m.predictionColumn, ...(inlineLabel ? [inlineLabel] : []), ...scores, ...m.sensitiveColumns, ...(id ? [id] : [])];
  const fields: SqlFragment[] = [
    sql`floor(any(timestamp_ms) / ${m.windowMs}) * ${m.windowMs} AS w`,
    sql`any(segment) AS seg`,
    regression ? numberOf(m.predictionColumn, 'yhat_num') : textOf(m.predictionColumn, 'yhat'),
    ...scores.map((c, i) => numberOf(c, `p${i}`)),
    ...m.sensitiveColumns.map((c, i) => sql`anyIf(${TEXT}, column = ${c} AND ${PRESENT}) AS ${new SqlFragment(`g${i}`)}`),
  ];
  if (inlineLabel) fields.push(regression ? numberOf(inlineLabel, 'own_y_num') : textOf(inlineLabel, 'own_y'));
  else fields.push(regression ? new SqlFragment('nan AS own_y_num, 0 AS has_own_y_num') : new SqlFragment("'' AS own_y, 0 AS has_own_y"));
  if (id) fields.push(sql`anyIf(${TEXT}, column = ${id} AND ${PRESENT}) AS rid`);
  const pivot = sql`SELECT ${joinSql(fields, ', ')} FROM dataset_rows_v2 WHERE ${rowFilter(m.dataset, m.version, columns, m.fromMs, m.toMs)} GROUP BY ${ROW_KEY}`;
  const own = regression ? 'own_y_num' : 'own_y';
  const yField = regression ? 'y_num' : 'y';
  if (!m.labels) return sql`SELECT *, ${new SqlFragment(own)} AS ${new SqlFragment(yField)}, ${new SqlFragment(`has_${own}`)} AS has_y FROM (${pivot})`;
  const l = m.labels;
  const labelValue = regression ? sql`anyIf(num_value, column = ${l.labelColumn} AND column_type = 'numerical' AND ${PRESENT})` : sql`anyIf(${TEXT}, column = ${l.labelColumn} AND ${PRESENT})`;
  const labelPivot = sql`SELECT anyIf(${TEXT}, column = ${l.idColumn} AND ${PRESENT}) AS rid, ${labelValue} AS ly, countIf(column = ${l.labelColumn} AND ${PRESENT}) > 0 AS has_ly, (any(src_partition), any(src_offset), any(row_index)) AS arrival FROM dataset_rows_v2 WHERE ${rowFilter(l.dataset, l.version, [l.idColumn, l.labelColumn])} GROUP BY ${ROW_KEY}`;
  // Labels are keyed by their dataset in Kafka (one partition), so (partition, offset, index) is arrival order.
  const latest = sql`SELECT rid, argMax(ly, arrival) AS late_y, 1 AS late_has FROM (${labelPivot}) WHERE has_ly AND rid != '' GROUP BY rid`;
  return sql`SELECT *, if(late_has = 1, late_y, ${new SqlFragment(own)}) AS ${new SqlFragment(yField)}, late_has = 1 OR ${new SqlFragment(`has_${own}`)} AS has_y FROM (${pivot}) AS prediction_rows ANY LEFT JOIN (${latest}) AS late_labels USING rid`;
}

export interface RowCounts {
  w: number;
  seg: string;
  rows: number;
  labelled: number;
  predicted: number;
}

export interface CellRow {
  w: number;
  seg: string;
  y: string;
  yhat: string;
  groups: string[];
  n: number;
}

export interface CurveRow {
  w: number;
  /** null: all segments together. */
  seg: string | null;
  cls: string;
  positives: number;
  negatives: number;
  aucArea: number;
  apSum: number;
}

export interface ProbabilityRow {
  w: number;
  seg: string;
  rows: number;
  logLossSum: number;
  brierSum: number;
}

export interface RegressionRow {
  w: number;
  seg: string;
  rows: number;
  absErrorSum: number;
  sqErrorSum: number;
  pctErrorSum: number;
  maxAbsError: number;
  labelMean: number;
  labelSqDev: number;
}

export interface MonitorAggregates {
  counts: RowCounts[];
  cells: CellRow[];
  curves: CurveRow[];
  probabilities: ProbabilityRow[];
  regression: RegressionRow[];
}

const num = (v: unknown) => Number(v);

export async function monitorAggregates(ch: ClickHouse, m: MonitorSource, opts: { abortSignal?: AbortSignal } = {}): Promise<MonitorAggregates> {
  // Each query pivots the rows again (ClickHouse 18.16 cannot share a subquery between queries, and the query user
  // may not create temporary tables), so everything is asked in as few queries as possible: two per report.
  const rows = predictionRows(m);
  if (m.task === 'regression') {
    const rs = await queryRows<Record<string, unknown>>(ch, regressionQuery(rows), opts);
    return {
      counts: rs.map((r) => ({ w: num(r.w), seg: String(r.seg), rows: num(r.all_rows), labelled: num(r.labelled), predicted: num(r.predicted) })),
      cells: [],
      curves: [],
      probabilities: [],
      regression: rs
        .filter((r) => num(r.rows) > 0)
        .map((r) => ({ w: num(r.w), seg: String(r.seg), rows: num(r.rows), absErrorSum: num(r.abs_sum), sqErrorSum: num(r.sq_sum), pctErrorSum: num(r.pct_sum), maxAbsError: num(r.max_abs), labelMean: num(r.y_mean), labelSqDev: num(r.y_sq_dev) })),
    };
  }
  const curve = scoredCurveQuery(m, rows);
  const cellsJob = queryRows<Record<string, unknown>>(ch, cellsQuery(m, rows), opts);
  const curvesJob = curve ? queryRows<Record<string, unknown>>(ch, curve, opts) : Promise.resolve([]);
  const [cellRows, curveRows] = await Promise.all([cellsJob, curvesJob]);
  const counts = new Map<string, RowCounts>();
  const cells: CellRow[] = [];
  for (const r of cellRows) {
    const w = num(r.w);
    const seg = String(r.seg);
    const n = num(r.n);
    const labelled = num(r.has_y) === 1;
    const predicted = num(r.has_yhat) === 1;
    const key = `${w}\u0000${seg}`;
    const c = counts.get(key) ?? { w, seg, rows: 0, labelled: 0, predicted: 0 };
    counts.set(key, c);
    c.rows += n;
    if (labelled) c.labelled += n;
    if (predicted) c.predicted += n;
    if (labelled && predicted) cells.push({ w, seg, y: String(r.y), yhat: String(r.yhat), groups: m.sensitiveColumns.map((_, i) => String(r[`g${i}`])), n });
  }
  const curves: CurveRow[] = curveRows.map((r) => ({ w: num(r.w), seg: num(r.all_seg) === 1 ? null : String(r.seg2), cls: String(r.cls), positives: num(r.total_pos), negatives: num(r.total_neg), aucArea: num(r.auc_area), apSum: num(r.ap_sum) }));
  // Log loss and Brier per segment: the sums of the classes' curves (every scored row is positive for one class).
  const probabilities = new Map<string, ProbabilityRow>();
  curveRows.forEach((r, i) => {
    const c = curves[i]!;
    if (c.seg === null) return;
    const key = `${c.w}\u0000${c.seg}`;
    const p = probabilities.get(key) ?? { w: c.w, seg: c.seg, rows: c.positives + c.negatives, logLossSum: 0, brierSum: 0 };
    probabilities.set(key, p);
    p.logLossSum += num(r.ll_sum);
    p.brierSum += num(r.brier_sum);
  });
  return { counts: [...counts.values()], cells, curves, probabilities: [...probabilities.values()], regression: [] };
}

/** The queries of one report (for tests of their portability; monitorAggregates runs them). */
export function monitorQueriesSql(m: MonitorSource): SqlFragment[] {
  const rows = predictionRows(m);
  if (m.task === 'regression') return [regressionQuery(rows)];
  const curve = scoredCurveQuery(m, rows);
  return curve ? [cellsQuery(m, rows), curve] : [cellsQuery(m, rows)];
}

function regressionQuery(rows: SqlFragment): SqlFragment {
  const ready = new SqlFragment('has_y AND has_yhat_num');
  const e = new SqlFragment('(y_num - yhat_num)');
  return sql`SELECT w, seg, count() AS all_rows, countIf(has_y) AS labelled, countIf(has_yhat_num) AS predicted, countIf(${ready}) AS rows,
      sumKahanIf(abs(${e}), ${ready}) AS abs_sum, sumKahanIf(${e} * ${e}, ${ready}) AS sq_sum,
      sumKahanIf(abs(${e}) / greatest(abs(y_num), ${EPS}), ${ready}) AS pct_sum, maxIf(abs(${e}), ${ready}) AS max_abs,
      avgIf(y_num, ${ready}) AS y_mean, varPopStableIf(y_num, ${ready}) * countIf(${ready}) AS y_sq_dev
    FROM (${rows}) GROUP BY w, seg ORDER BY w, seg`;
}

function cellsQuery(m: MonitorSource, rows: SqlFragment): SqlFragment {
  const groups = m.sensitiveColumns.map((_, i) => new SqlFragment(`g${i}`));
  const groupList = groups.length === 0 ? new SqlFragment('') : sql`, ${joinSql(groups, ', ')}`;
  return sql`SELECT w, seg, has_y, has_yhat, y, yhat${groupList}, count() AS n FROM (${rows}) GROUP BY w, seg, has_y, has_yhat, y, yhat${groupList}`;
}

function scoredCurveQuery(m: MonitorSource, rows: SqlFragment): SqlFragment | undefined {
  const scores = scoreColumnsOf(m);
  if (scores.length === 0) return undefined;
  const classes = m.task === 'binary' ? [m.positiveLabel ?? '1'] : (m.classScores ?? []).map((c) => c.class);
  // Multiclass: rows whose true class has no probability column are left out (scikit-learn refuses them).
  const scored = sql`has_y AND ${joinSql(scores.map((_, i) => new SqlFragment(`has_p${i}`)), ' AND ')}${m.task === 'multiclass' ? sql` AND indexOf(${sqlArray(classes)}, y) > 0` : sql``}`;
  return curveQuery(m.task, rows, scored, joinSql(scores.map((_, i) => new SqlFragment(`p${i}`)), ', '), classes);
}

/**
 * Per (window, segment — and once more for all segments —, class): positives and negatives, and over the distinct
 * scores sorted ascending with counts pᵢ, nᵢ and cumulative sums Pᵢ, Nᵢ:
 * aucArea = Σ pᵢ·(Nᵢ − nᵢ/2) (negatives below, ties counted half), apSum = Σ pᵢ·(P − Pᵢ + pᵢ)/((P − Pᵢ + pᵢ) + (N − Nᵢ + nᵢ))
 * (precision at the threshold sᵢ, taking every row scored ≥ sᵢ); and the log-loss and Brier terms of its rows summed
 * (the classes' sums of one segment add up to the segment's: every scored row is the positive of one class).
 */
function curveQuery(task: MonitorTask, rows: SqlFragment, scored: SqlFragment, p: SqlFragment, classes: string[]): SqlFragment {
  const clip = (x: SqlFragment) => sql`least(greatest(${x}, ${EPS}), ${1 - EPS})`;
  // log_loss: −ln p of the true class; a binary score p is the column [1 − p, p], each clipped.
  const negLoss = task === 'binary' ? sql`neg * -log(${clip(new SqlFragment('1 - sc'))})` : sql`0`;
  const perScore = sql`SELECT w, all_seg, seg2, cls, sc, countIf(y = cls) AS pos, count() - pos AS neg,
      pos * -log(${clip(new SqlFragment('sc'))}) + ${negLoss} AS ll, pos * pow(sc - 1, 2) + neg * pow(sc, 2) AS br
    FROM (SELECT w, arrayJoin([0, 1]) AS all_seg, if(all_seg = 1, '', seg) AS seg2, y, [${p}] AS scores FROM (${rows}) WHERE ${scored})
    ARRAY JOIN scores AS sc, ${sqlArray(classes)} AS cls
    GROUP BY w, all_seg, seg2, cls, sc`;
  return sql`SELECT w, all_seg, seg2, cls, sum(pos) AS total_pos, sum(neg) AS total_neg, sumKahan(ll) AS ll_sum, sumKahan(br) AS brier_sum,
      arraySort(x -> x.1, groupArray((sc, toFloat64(pos), toFloat64(neg)))) AS sorted,
      arrayMap(x -> x.2, sorted) AS ps, arrayMap(x -> x.3, sorted) AS ns,
      arrayCumSum(ps) AS cps, arrayCumSum(ns) AS cns,
      arraySum(arrayMap((pi, ni, cn) -> pi * (cn - ni / 2), ps, ns, cns)) AS auc_area,
      arraySum(arrayMap((pi, ni, cp, cn) -> pi * (total_pos - cp + pi) / ((total_pos - cp + pi) + (total_neg - cn + ni)), ps, ns, cps, cns)) AS ap_sum
    FROM (${perScore}) GROUP BY w, all_seg, seg2, cls`;
}
