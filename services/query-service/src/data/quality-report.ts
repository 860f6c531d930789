// The data quality view of a selection: per column counts, missing values, distinct values, numeric summary with
// quartiles (linear interpolation), most common values; class balance of a label column; categories new or
// vanished against a reference. Definitions follow pandas (what Evidently's quality metrics call): missing = null
// or NaN, shares over all rows, std with ddof = 1.
import { categoryChanges, columnQuality, topValues, type ClickHouse, type ColumnTypeName, type RowSelection } from '@runstream/clickhouse';
import { lerp, quantilePosition } from '@runstream/drift';
import { ApiError } from '../api-errors.ts';

export interface QualityRequest {
  selection: RowSelection;
  columns?: string[];
  labelColumn?: string;
  reference?: RowSelection;
  topValues?: number;
}

export interface ValueShare {
  value: string | number;
  count: number;
  share: number;
}

export interface ColumnQuality {
  column: string;
  type: ColumnTypeName;
  rows: number;
  missing: number;
  missingShare: number;
  distinct: number;
  /** Numerical columns only (null for categorical ones, or when every value is missing). */
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  quantiles: { p25: number; p50: number; p75: number } | null;
  mostCommon: ValueShare[];
  /** Against the reference, categorical columns only. */
  newCategories?: string[];
  vanishedCategories?: string[];
}

export interface QualityReport {
  rows: number;
  columns: ColumnQuality[];
  classBalance?: { column: string; classes: ValueShare[] };
}

const MAX_CLASSES = 1000;
const MAX_CATEGORY_CHANGES = 1000;

export async function qualityReport(ch: ClickHouse, req: QualityRequest): Promise<QualityReport> {
  const top = req.topValues ?? 10;
  const [stats, common, changes] = await Promise.all([
    columnQuality(ch, req.selection, req.columns),
    topValues(ch, req.selection, req.columns, top),
    req.reference ? categoryChanges(ch, req.reference, req.selection, req.columns, MAX_CATEGORY_CHANGES) : Promise.resolve(undefined),
  ]);
  if (stats.length === 0) throw new ApiError(404, 'NOT_FOUND', `no rows of dataset ${JSON.stringify(req.selection.dataset)} match the selection`);
  const rowsOf = new Map(stats.map((s) => [s.column, s.rows]));
  const columns: ColumnQuality[] = stats.map((s) => {
    const present = s.rows - s.missing;
    const numeric = s.type === 'numerical' && present > 0;
    const quartile = (i: number, q: number) => {
      const { t } = quantilePosition(present, q);
      const [lo, hi] = s.quartileBounds[i]!;
      return lerp(lo, hi, t);
    };
    const change = changes?.find((c) => c.column === s.column);
    return {
      column: s.column,
      type: s.type,
      rows: s.rows,
      missing: s.missing,
      missingShare: s.rows === 0 ? 0 : s.missing / s.rows,
      distinct: s.distinct,
      min: numeric ? s.min : null,
      max: numeric ? s.max : null,
      mean: numeric ? s.sum / present : null,
      std: numeric && present > 1 ? Math.sqrt(s.varSamp) : null,
      quantiles: numeric ? { p25: quartile(0, 0.25), p50: quartile(1, 0.5), p75: quartile(2, 0.75) } : null,
      mostCommon: common.filter((v) => v.column === s.column).map((v) => ({ value: v.value, count: v.count, share: v.count / s.rows })),
      ...(req.reference && s.type === 'categorical' ? { newCategories: change?.newValues ?? [], vanishedCategories: change?.vanished ?? [] } : {}),
    };
  });
  const report: QualityReport = { rows: Math.max(...stats.map((s) => s.rows)), columns };
  if (req.labelColumn !== undefined) {
    const rows = rowsOf.get(req.labelColumn);
    if (rows === undefined) throw new ApiError(400, 'INVALID_ARGUMENT', `label_column ${JSON.stringify(req.labelColumn)} has no rows in the selection`);
    const classes = await topValues(ch, req.selection, [req.labelColumn], MAX_CLASSES);
    report.classBalance = { column: req.labelColumn, classes: classes.map((c) => ({ value: c.value, count: c.count, share: c.count / rows })) };
  }
  return report;
}
