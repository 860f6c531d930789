// Runstream rows → MLflow's JSON shapes.
import type { ExperimentRow, LatestMetric, RunInputRow, RunRow } from '@runstream/clickhouse';
import { jsonDouble } from './mlflow-values.ts';

export function experimentJson(e: ExperimentRow) {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTimeMs,
    creation_time: e.creationTimeMs,
    tags: e.tags,
  };
}

export function runInfoJson(r: RunRow) {
  return {
    run_id: r.runId,
    run_uuid: r.runId,
    run_name: r.runName,
    experiment_id: r.experimentId,
    user_id: r.userId,
    status: r.status,
    start_time: r.startTimeMs,
    ...(r.endTimeMs === null ? {} : { end_time: r.endTimeMs }),
    artifact_uri: r.artifactUri,
    lifecycle_stage: r.lifecycleStage,
  };
}

export function metricJson(m: { key: string; value: number; timestampMs: number; step: number }) {
  return { key: m.key, value: jsonDouble(m.value), timestamp: m.timestampMs, step: m.step };
}

export function runJson(
  r: RunRow,
  data: { metrics: LatestMetric[]; params: { key: string; value: string }[]; tags: { key: string; value: string }[]; inputs?: RunInputRow[] },
) {
  return {
    info: runInfoJson(r),
    data: { metrics: data.metrics.map(metricJson), params: data.params, tags: data.tags },
    inputs: {
      dataset_inputs: (data.inputs ?? []).map((i) => ({
        tags: safeTags(i.tagsJson),
        dataset: { name: i.name, digest: i.digest, source_type: i.sourceType, source: i.source, schema: i.schema, profile: i.profile },
      })),
    },
  };
}

function safeTags(json: string): { key: string; value: string }[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as { key: string; value: string }[]) : [];
  } catch {
    return [];
  }
}
