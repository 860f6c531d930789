// Metric points logged with a model_id (MLflow 3). `log_model` re-sends every point of the run at the model's step
// with the new model's id (the client's log_model_metrics_for_step), once per log_model; MLflow's store keeps an
// identical point (key, value, timestamp, step) once. Runstream's rule: a point that carries a model_id is written to
// the run only if the run does not already hold an identical point, and is recorded on the logged model (its
// data.metrics) once. Points without a model_id are appended as they come (the hot path reads nothing).
import type { MetricPoint } from '@runstream/codec';
import { jsonDouble } from './mlflow-values.ts';

/** A point's identity as MLflow compares them: key, step, timestamp and the value's exact bits (NaN equals NaN). */
export function pointIdentity(p: { key: string; step: number; timestampMs: number; value: number }): string {
  const bits = Buffer.alloc(8);
  bits.writeDoubleLE(p.value);
  return `${p.key}\u0000${p.step}\u0000${p.timestampMs}\u0000${bits.toString('hex')}`;
}

/**
 * The points of a history in stored order, each identical point (key, step, timestamp, value) once: the first copy
 * is kept. `seen` carries the identities already answered (earlier pages) and is updated.
 */
export function firstCopies<T extends { step: number; timestampMs: number; value: number }>(key: string, points: T[], seen: Set<string> = new Set()): T[] {
  return points.filter((p) => {
    const id = pointIdentity({ key, ...p });
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export interface ModelMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
  run_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

export interface LinkedPoint {
  point: MetricPoint;
  datasetName: string;
  datasetDigest: string;
}

/** The model's metrics JSON with the points added, each identical point (and dataset) once, in step order. */
export function withModelMetrics(json: string, runId: string, points: LinkedPoint[]): string {
  let list: ModelMetric[];
  try {
    const parsed = JSON.parse(json || '[]') as unknown;
    list = Array.isArray(parsed) ? (parsed as ModelMetric[]) : [];
  } catch {
    list = [];
  }
  const identity = (m: ModelMetric) => `${m.key}\u0000${m.step}\u0000${m.timestamp}\u0000${String(m.value)}\u0000${m.dataset_name ?? ''}\u0000${m.dataset_digest ?? ''}`;
  const seen = new Set(list.map(identity));
  for (const { point: p, datasetName, datasetDigest } of points) {
    const m: ModelMetric = {
      key: p.key,
      value: jsonDouble(p.value),
      timestamp: p.timestampMs,
      step: p.step,
      ...(runId ? { run_id: runId } : {}),
      ...(datasetName ? { dataset_name: datasetName } : {}),
      ...(datasetDigest ? { dataset_digest: datasetDigest } : {}),
    };
    if (seen.has(identity(m))) continue;
    seen.add(identity(m));
    list.push(m);
  }
  list.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return JSON.stringify(list);
}
