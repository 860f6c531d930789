// The request fields of each MLflow endpoint, for the OpenAPI document and request generators. Validation of values
// stays in the handlers (mlflow-values.ts) so errors carry MLflow's codes and messages; these schemas are permissive
// where MLflow's protobuf JSON is (int64 as number or string, doubles as number or "NaN"/"Infinity").

const str = { type: 'string' } as const;
const int64 = { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]+$' }] } as const;
const double = { anyOf: [{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }] } as const;
const keyValue = { type: 'object', properties: { key: str, value: str } } as const;
const keyValues = { type: 'array', items: keyValue } as const;
const metric = { type: 'object', properties: { key: str, value: double, timestamp: int64, step: int64, model_id: str, dataset_name: str, dataset_digest: str } } as const;
const strings = { type: 'array', items: str } as const;

export const MLFLOW_FIELDS: Record<string, Record<string, object>> = {
  'experiments/create': { name: str, artifact_location: str, tags: keyValues },
  'experiments/get': { experiment_id: str },
  'experiments/get-by-name': { experiment_name: str },
  'experiments/search': { max_results: int64, filter: str, order_by: { anyOf: [str, strings] }, page_token: str, view_type: { type: 'string', enum: ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] } },
  'experiments/delete': { experiment_id: str },
  'experiments/restore': { experiment_id: str },
  'experiments/update': { experiment_id: str, new_name: str },
  'experiments/set-experiment-tag': { experiment_id: str, key: str, value: str },
  'experiments/delete-experiment-tag': { experiment_id: str, key: str },
  'runs/create': { experiment_id: str, user_id: str, run_name: str, start_time: int64, tags: keyValues },
  'runs/update': { run_id: str, run_uuid: str, status: { type: 'string', enum: ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] }, end_time: int64, run_name: str },
  'runs/delete': { run_id: str },
  'runs/restore': { run_id: str },
  'runs/get': { run_id: str, run_uuid: str },
  'runs/log-metric': { run_id: str, run_uuid: str, key: str, value: double, timestamp: int64, step: int64, model_id: str, dataset_name: str, dataset_digest: str },
  'runs/log-parameter': { run_id: str, run_uuid: str, key: str, value: str },
  'runs/set-tag': { run_id: str, run_uuid: str, key: str, value: str },
  'runs/delete-tag': { run_id: str, key: str },
  'runs/log-model': { run_id: str, model_json: str },
  'runs/log-batch': { run_id: str, metrics: { type: 'array', items: metric }, params: keyValues, tags: keyValues },
  'runs/log-inputs': {
    run_id: str,
    datasets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          tags: keyValues,
          dataset: { type: 'object', properties: { name: str, digest: str, source_type: str, source: str, schema: str, profile: str } },
        },
      },
    },
  },
  'runs/search': { experiment_ids: strings, filter: str, run_view_type: { type: 'string', enum: ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] }, max_results: int64, order_by: strings, page_token: str },
  'metrics/get-history': { run_id: str, run_uuid: str, metric_key: str, page_token: str, max_results: int64 },
  'metrics/get-history-bulk-interval': { run_ids: { anyOf: [str, strings] }, metric_key: str, start_step: int64, end_step: int64, max_results: int64 },
  'registered-models/create': { name: str, description: str, tags: keyValues },
  'registered-models/get': { name: str },
  'registered-models/search': { filter: str, max_results: int64, order_by: { anyOf: [str, strings] }, page_token: str },
  'registered-models/get-latest-versions': { name: str, stages: { anyOf: [str, strings] } },
  'registered-models/rename': { name: str, new_name: str },
  'registered-models/update': { name: str, description: str },
  'registered-models/delete': { name: str },
  'registered-models/set-tag': { name: str, key: str, value: str },
  'registered-models/delete-tag': { name: str, key: str },
  'registered-models/alias': { name: str, alias: str, version: str },
  'model-versions/create': { name: str, source: str, run_id: str, description: str, tags: keyValues, run_link: str, model_id: str },
  'model-versions/get': { name: str, version: str },
  'model-versions/update': { name: str, version: str, description: str },
  'model-versions/transition-stage': { name: str, version: str, stage: str, archive_existing_versions: { anyOf: [{ type: 'boolean' }, str] } },
  'model-versions/delete': { name: str, version: str },
  'model-versions/search': { filter: str, max_results: int64, order_by: { anyOf: [str, strings] }, page_token: str },
  'model-versions/get-download-uri': { name: str, version: str },
  'model-versions/set-tag': { name: str, version: str, key: str, value: str },
  'model-versions/delete-tag': { name: str, version: str, key: str },
  'logged-models': { experiment_id: str, name: str, model_type: str, source_run_id: str, params: keyValues, tags: keyValues },
  'logged-models/:model_id': { model_id: str, status: { type: 'string', enum: ['LOGGED_MODEL_STATUS_UNSPECIFIED', 'LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'] } },
  'logged-models/search': {
    experiment_ids: strings,
    filter: str,
    max_results: int64,
    page_token: str,
    order_by: { type: 'array', items: { type: 'object', properties: { field_name: str, ascending: { type: 'boolean' } } } },
    datasets: { type: 'array', items: { type: 'object', properties: { dataset_name: str, dataset_digest: str } } },
  },
  'logged-models/:model_id/tags': { model_id: str, tags: keyValues },
  'logged-models/:model_id/tags/:tag_key': { model_id: str, tag_key: str },
  'logged-models/:model_id/params': { model_id: str, params: keyValues },
  'logged-models/:model_id/artifacts/directories': { model_id: str, artifact_directory_path: str, page_token: str },
  'artifacts/list': { run_id: str, run_uuid: str, path: str, page_token: str },
  'artifacts/presigned-upload-url': { run_id: str, model_id: str, path: str, expiration: int64 },
  'artifacts/presigned-download-url': { run_id: str, path: str, expiration: int64 },
  'experiments/search-datasets': { experiment_ids: strings, max_results: int64, page_token: str },
  'runs/outputs': { run_id: str, models: { type: 'array', items: { type: 'object', properties: { model_id: str, step: int64 } } } },
};

/** JSON schema of an endpoint's body or query string. */
export function requestSchema(path: string): object {
  const fields = MLFLOW_FIELDS[path];
  if (!fields) throw new Error(`no request schema for MLflow endpoint ${path}`);
  return { type: 'object', properties: fields };
}
