// A monitor's report: per time window, per segment and for all segments together, the model's performance and
// fairness, finished in TypeScript (packages/model-metrics) from what ClickHouse reduced (monitor-queries.ts).
import { monitorAggregates, type CellRow, type ClickHouse, type CurveRow, type MonitorAggregates, type RegressionRow } from '@runstream/clickhouse';
import {
  averagePrecision,
  confusionMetrics,
  featureFairness,
  mergeCells,
  mergeRegressionSums,
  oneVsRestAuc,
  probabilityMetrics,
  regressionMetrics,
  rocAuc,
  type ClassScores,
  type ConfusionCell,
  type FeatureFairness,
} from '@runstream/model-metrics';
import { monitorSource, positiveOf, type Monitor } from './monitor-definition.ts';

export interface SegmentReport {
  /** null: all segments together. */
  segment: string | null;
  rows: number;
  labelled: number;
  predicted: number;
  /** Flat name → value (null where undefined for this window), the names alert rules and metric keys use. */
  metrics: Record<string, number | null>;
  confusion: { classes: string[]; matrix: number[][]; perClass: ClassScores[] } | null;
  fairness: FeatureFairness[];
}

export interface WindowReport {
  startMs: number;
  endMs: number;
  segments: SegmentReport[];
}

export interface MonitorReport {
  monitor: string;
  windowMs: number;
  windows: WindowReport[];
}

const ALL = '\u0000all';
const keyOf = (w: number, seg: string | null) => `${w}\u0000${seg ?? ALL}`;

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

function classificationMetrics(m: Monitor, cells: readonly CellRow[], curves: readonly CurveRow[], probability: { rows: number; logLossSum: number; brierSum: number } | undefined): Pick<SegmentReport, 'metrics' | 'confusion' | 'fairness'> {
  const binary = m.task === 'binary';
  const positive = positiveOf(m);
  const plain: ConfusionCell[] = mergeCells(cells.map((c) => ({ label: c.y, prediction: c.yhat, count: c.n })));
  const cm = confusionMetrics(plain, true, binary ? positive : undefined);
  const metrics: Record<string, number | null> = {
    accuracy: cm.rows ? cm.accuracy : null,
    balanced_accuracy: cm.rows ? cm.balancedAccuracy : null,
    precision_macro: cm.rows ? cm.macro.precision : null,
    recall_macro: cm.rows ? cm.macro.recall : null,
    f1_macro: cm.rows ? cm.macro.f1 : null,
    precision_micro: cm.rows ? cm.micro.precision : null,
    recall_micro: cm.rows ? cm.micro.recall : null,
    f1_micro: cm.rows ? cm.micro.f1 : null,
    precision_weighted: cm.rows ? cm.weighted.precision : null,
    recall_weighted: cm.rows ? cm.weighted.recall : null,
    f1_weighted: cm.rows ? cm.weighted.f1 : null,
  };
  if (binary) {
    metrics.precision = cm.rows ? cm.binary!.precision : null;
    metrics.recall = cm.rows ? cm.binary!.recall : null;
    metrics.f1 = cm.rows ? cm.binary!.f1 : null;
  }
  if (m.score_column !== undefined || m.class_score_columns !== undefined) {
    if (binary) {
      const curve = curves[0];
      metrics.roc_auc = curve ? rocAuc(curve) : null;
      metrics.average_precision = curve ? averagePrecision(curve) : null;
    } else {
      const byClass = new Map(curves.map((c) => [c.cls, c]));
      const all = Object.keys(m.class_score_columns ?? {}).map((cls) => byClass.get(cls) ?? { positives: 0, negatives: 0, aucArea: 0, apSum: 0 });
      const ovr = oneVsRestAuc(all);
      metrics.roc_auc = ovr.macro;
      metrics.roc_auc_weighted = ovr.weighted;
    }
    const p = probabilityMetrics(probability ?? { rows: 0, logLossSum: 0, brierSum: 0 });
    metrics.log_loss = p.logLoss;
    metrics.brier = p.brier;
  }
  const fairness: FeatureFairness[] = [];
  m.sensitive_columns.forEach((feature, i) => {
    const byGroup = new Map<string, ConfusionCell[]>();
    for (const [g, cs] of groupBy(cells, (c) => c.groups[i]!)) byGroup.set(g, mergeCells(cs.map((c) => ({ label: c.y, prediction: c.yhat, count: c.n }))));
    const f = featureFairness(feature, byGroup, binary ? positive : '\u0000', m.min_group_size);
    if (!f) return;
    fairness.push(f);
    const prefix = `fairness.${feature}.`;
    metrics[`${prefix}accuracy_difference`] = f.accuracyDifference;
    if (binary) {
      metrics[`${prefix}demographic_parity_difference`] = f.demographicParityDifference;
      metrics[`${prefix}demographic_parity_ratio`] = f.demographicParityRatio;
      metrics[`${prefix}equalized_odds_difference`] = f.equalizedOddsDifference;
      metrics[`${prefix}equalized_odds_ratio`] = f.equalizedOddsRatio;
      metrics[`${prefix}equal_opportunity_difference`] = f.equalOpportunityDifference;
      metrics[`${prefix}equal_opportunity_ratio`] = f.equalOpportunityRatio;
    }
  });
  return { metrics, confusion: cm.rows ? { classes: cm.classes, matrix: cm.confusionMatrix, perClass: cm.perClass } : null, fairness };
}

function regressionReport(rows: readonly RegressionRow[]): Pick<SegmentReport, 'metrics' | 'confusion' | 'fairness'> {
  const r = regressionMetrics(mergeRegressionSums(rows));
  return { metrics: { mae: r.mae, mse: r.mse, rmse: r.rmse, mape: r.mape, r2: r.r2, max_error: r.maxError }, confusion: null, fairness: [] };
}

/** Finishes the aggregates of one monitor into windows (oldest first), segments sorted, all segments first. */
export function finishReport(m: Monitor, a: MonitorAggregates): MonitorReport {
  const cells = groupBy(a.cells, (c) => keyOf(c.w, c.seg));
  const curves = groupBy(a.curves, (c) => keyOf(c.w, c.seg));
  const probabilities = groupBy(a.probabilities, (p) => keyOf(p.w, p.seg));
  const regression = groupBy(a.regression, (r) => keyOf(r.w, r.seg));
  const windows: WindowReport[] = [];
  for (const [w, counts] of groupBy(a.counts, (c) => String(c.w))) {
    const start = Number(w);
    const segs: (string | null)[] = [null, ...counts.map((c) => c.seg).sort()];
    const segments = segs.map((seg): SegmentReport => {
      const parts = seg === null ? counts : counts.filter((c) => c.seg === seg);
      const inSeg = <T>(map: Map<string, T[]>) => (seg === null ? counts.flatMap((c) => map.get(keyOf(start, c.seg)) ?? []) : (map.get(keyOf(start, seg)) ?? []));
      const probs = inSeg(probabilities);
      const body =
        m.task === 'regression'
          ? regressionReport(inSeg(regression))
          : classificationMetrics(m, inSeg(cells), curves.get(keyOf(start, seg)) ?? [], probs.length ? { rows: sum(probs.map((p) => p.rows)), logLossSum: sum(probs.map((p) => p.logLossSum)), brierSum: sum(probs.map((p) => p.brierSum)) } : undefined);
      return { segment: seg, rows: sum(parts.map((c) => c.rows)), labelled: sum(parts.map((c) => c.labelled)), predicted: sum(parts.map((c) => c.predicted)), ...body };
    });
    windows.push({ startMs: start, endMs: start + m.window_ms, segments });
  }
  windows.sort((x, y) => x.startMs - y.startMs);
  return { monitor: m.name, windowMs: m.window_ms, windows };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export async function monitorReport(ch: ClickHouse, m: Monitor, range: { fromMs?: number; toMs?: number } = {}, opts: { abortSignal?: AbortSignal } = {}): Promise<MonitorReport> {
  return finishReport(m, await monitorAggregates(ch, monitorSource(m, range), opts));
}
