// What a monitor is: one model version, the dataset holding its predictions (and where the labels come from), the
// task, the window width, and its alert rules. The JSON schema is the API's (and so the OpenAPI document's); the
// checks that a schema cannot express are in monitorProblem.
import type { MonitorSource } from '@runstream/clickhouse';

const name = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\w.\\- ]+$' } as const;
const datasetName = { type: 'string', minLength: 1, maxLength: 200 } as const;
const column = { type: 'string', minLength: 1, maxLength: 250 } as const;
const version = { type: 'string', maxLength: 100 } as const;

export const ALERT_OPS = ['above', 'below'] as const;

export const alertRuleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'metric', 'op'],
  properties: {
    name,
    metric: {
      type: 'string',
      minLength: 1,
      maxLength: 300,
      description: 'A metric of the report (accuracy, f1, roc_auc, mae, …), a fairness value (fairness.<feature>.demographic_parity_difference, …) or drift_share (share of drifted columns against the monitor\'s drift reference).',
    },
    segment: { type: 'string', maxLength: 200, description: 'One segment; all segments together when left out.' },
    op: { type: 'string', enum: ALERT_OPS, description: 'Fires when the value is above (or below) the threshold.' },
    threshold: { type: 'number', description: 'A fixed threshold.' },
    baseline: {
      type: 'object',
      additionalProperties: false,
      required: ['version'],
      properties: {
        version: { type: 'string', pattern: '^\\d+$', maxLength: 20, description: 'Baseline model version of the same model.' },
        key: { type: 'string', minLength: 1, maxLength: 250, description: 'Its metric key (default: the same metric\'s key of this monitor).' },
        tolerance: { type: 'number', minimum: 0, default: 0, description: 'The threshold is the baseline\'s latest value minus (below) or plus (above) this.' },
      },
    },
    min_rows: { type: 'integer', minimum: 0, default: 1, description: 'Windows with fewer labelled rows are not evaluated.' },
  },
} as const;

export const monitorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'model', 'task', 'dataset', 'prediction_column'],
  properties: {
    name,
    model: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version'],
      properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, version: { type: 'string', pattern: '^\\d+$', maxLength: 20 } },
    },
    task: { type: 'string', enum: ['binary', 'multiclass', 'regression'] },
    dataset: datasetName,
    dataset_version: version,
    prediction_column: column,
    label_column: column,
    score_column: { ...column, description: 'Binary: the probability of the positive class.' },
    class_score_columns: { type: 'object', maxProperties: 100, additionalProperties: column, description: 'Multiclass: class → its probability column.' },
    positive_label: { anyOf: [{ type: 'string', maxLength: 1000 }, { type: 'number' }], description: 'Binary: the positive class (default 1).' },
    sensitive_columns: { type: 'array', maxItems: 10, items: column, default: [] },
    id_column: column,
    labels: {
      type: 'object',
      additionalProperties: false,
      required: ['dataset', 'id_column', 'label_column'],
      description: 'Labels arriving later as rows of another dataset, joined on id_column.',
      properties: { dataset: datasetName, dataset_version: version, id_column: column, label_column: column },
    },
    window_ms: { type: 'integer', minimum: 1000, maximum: 366 * 86_400_000, default: 3_600_000 },
    min_group_size: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 30 },
    drift: {
      type: 'object',
      additionalProperties: false,
      required: ['reference'],
      description: 'For drift_share rules: the reference the prediction dataset\'s columns are compared with, per window.',
      properties: {
        reference: { type: 'object', additionalProperties: false, required: ['dataset'], properties: { dataset: datasetName, version } },
        columns: { type: 'array', minItems: 1, maxItems: 100, items: column },
      },
    },
    alerts: { type: 'array', maxItems: 50, items: alertRuleSchema, default: [] },
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: { type: 'string', minLength: 8, maxLength: 2000, pattern: '^https?://' } },
    },
  },
} as const;

export interface AlertRule {
  name: string;
  metric: string;
  segment?: string;
  op: (typeof ALERT_OPS)[number];
  threshold?: number;
  baseline?: { version: string; key?: string; tolerance: number };
  min_rows: number;
}

export interface Monitor {
  name: string;
  model: { name: string; version: string };
  task: 'binary' | 'multiclass' | 'regression';
  dataset: string;
  dataset_version?: string;
  prediction_column: string;
  label_column?: string;
  score_column?: string;
  class_score_columns?: Record<string, string>;
  positive_label?: string | number;
  sensitive_columns: string[];
  id_column?: string;
  labels?: { dataset: string; dataset_version?: string; id_column: string; label_column: string };
  window_ms: number;
  min_group_size: number;
  drift?: { reference: { dataset: string; version?: string }; columns?: string[] };
  alerts: AlertRule[];
  webhook?: { url: string };
}

/** What the schema cannot say; undefined when the monitor is complete. */
export function monitorProblem(m: Monitor): string | undefined {
  if (m.label_column === undefined && m.labels === undefined) return 'a monitor needs label_column or labels (where the true values come from)';
  if (m.labels && m.id_column === undefined) return 'labels joined from another dataset need id_column (the id of each prediction)';
  if (m.task !== 'binary' && (m.score_column !== undefined || m.positive_label !== undefined)) return 'score_column and positive_label are for binary monitors';
  if (m.task !== 'multiclass' && m.class_score_columns !== undefined) return 'class_score_columns is for multiclass monitors';
  if (m.task === 'regression' && m.sensitive_columns.length > 0) return 'fairness (sensitive_columns) is computed for classification monitors';
  const seen = new Set<string>();
  for (const r of m.alerts) {
    if (seen.has(r.name)) return `alert rule "${r.name}" is defined twice`;
    seen.add(r.name);
    if ((r.threshold === undefined) === (r.baseline === undefined)) return `alert rule "${r.name}" needs exactly one of threshold and baseline`;
    if (r.metric === 'drift_share' && !m.drift) return `alert rule "${r.name}" watches drift_share but the monitor has no drift reference`;
    if (r.metric === 'drift_share' && r.baseline) return `alert rule "${r.name}": drift_share is compared with a threshold`;
  }
  return undefined;
}

export const positiveOf = (m: Monitor): string => String(m.positive_label ?? 1);

export function monitorSource(m: Monitor, range: { fromMs?: number; toMs?: number } = {}): MonitorSource {
  return {
    task: m.task,
    dataset: m.dataset,
    ...(m.dataset_version !== undefined ? { version: m.dataset_version } : {}),
    ...range,
    windowMs: m.window_ms,
    predictionColumn: m.prediction_column,
    ...(m.label_column !== undefined ? { labelColumn: m.label_column } : {}),
    ...(m.score_column !== undefined ? { scoreColumn: m.score_column } : {}),
    ...(m.class_score_columns ? { classScores: Object.entries(m.class_score_columns).map(([cls, column]) => ({ class: cls, column })) } : {}),
    ...(m.task === 'binary' ? { positiveLabel: positiveOf(m) } : {}),
    sensitiveColumns: m.sensitive_columns,
    ...(m.id_column !== undefined ? { idColumn: m.id_column } : {}),
    ...(m.labels
      ? { labels: { dataset: m.labels.dataset, ...(m.labels.dataset_version !== undefined ? { version: m.labels.dataset_version } : {}), idColumn: m.labels.id_column, labelColumn: m.labels.label_column } }
      : {}),
  };
}
