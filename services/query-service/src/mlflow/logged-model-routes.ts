// MLflow 3's logged models: `mlflow.<flavor>.log_model()` and autolog create a logged model, upload its files to the
// model's artifact location (the mlflow-artifacts proxy), then finalize it. Each change emits the whole new state
// (LOGGED_MODEL_UPSERTED, keyed by the model so its changes stay in order); reads use logged_models_v1.
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { experimentById, loggedModels, runsByIds, sql, type ClickHouse, type LoggedModelRow, type SqlFragment } from '@runstream/clickhouse';
import type { TrackingWriter } from '@runstream/tracking';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { invalid, notFound } from './mlflow-errors.ts';
import { entryKey, entryValue, int64, keyValuesFromJson, requiredString } from './mlflow-values.ts';
import type { RouteFn } from './registry-routes.ts';
import { listArtifactsUnder } from './artifact-routes.ts';
import { withModelMetrics, type LinkedPoint, type ModelMetric } from './model-metrics.ts';

type Body = Record<string, unknown>;
type KeyValue = { key: string; value: string };

const STATUSES = ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'];

function entries(v: unknown, what: 'param' | 'tag'): KeyValue[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null)) throw invalid(`Invalid value for parameter '${what}s': an array of {key, value} expected`);
  return (v as Body[]).map((e) => {
    const key = entryKey(e.key, what);
    return { key, value: entryValue(e.value, what, key) };
  });
}

/** Merges entries into a list by key (last write wins), keeping the list sorted by key. */
function merged(list: KeyValue[], updates: KeyValue[]): KeyValue[] {
  const byKey = new Map(list.map((e) => [e.key, e.value]));
  for (const u of updates) byKey.set(u.key, u.value);
  return [...byKey].map(([key, value]) => ({ key, value })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function loggedModelJson(m: LoggedModelRow) {
  return {
    info: {
      model_id: m.modelId,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.creationTimeMs,
      last_updated_timestamp_ms: m.lastUpdateTimeMs,
      artifact_uri: m.artifactUri,
      status: m.status,
      ...(m.modelType ? { model_type: m.modelType } : {}),
      ...(m.sourceRunId ? { source_run_id: m.sourceRunId } : {}),
      ...(m.statusMessage ? { status_message: m.statusMessage } : {}),
      tags: keyValuesFromJson(m.tagsJson),
    },
    data: { params: keyValuesFromJson(m.paramsJson), metrics: metricsFromJson(m.metricsJson) },
  };
}

function metricsFromJson(json: string): ModelMetric[] {
  try {
    const v = JSON.parse(json || '[]') as unknown;
    return Array.isArray(v) ? (v as ModelMetric[]) : [];
  } catch {
    return [];
  }
}

/** MLflow's search filter for logged models, the subset served: `<attribute> = '<value>'` joined by AND. */
const FILTER_COLUMNS: Record<string, SqlFragment> = {
  name: sql`name`,
  model_id: sql`model_id`,
  source_run_id: sql`source_run_id`,
  status: sql`status`,
  model_type: sql`model_type`,
};
const ORDER_COLUMNS: Record<string, SqlFragment> = {
  creation_timestamp: sql`creation_time_ms`,
  creation_time: sql`creation_time_ms`,
  last_updated_timestamp: sql`last_update_ms`,
  name: sql`name`,
  model_id: sql`model_id`,
};

function filterSql(filter: string): SqlFragment | undefined {
  const text = filter.trim();
  if (text === '') return undefined;
  const parts = text.split(/\s+AND\s+/i).map((part) => {
    const m = /^(?:attributes\.)?([a-z_]+)\s*=\s*'((?:[^'\\]|\\.)*)'$/i.exec(part.trim());
    const column = m ? FILTER_COLUMNS[m[1]!.toLowerCase()] : undefined;
    if (!m || !column) throw invalid(`Unsupported logged model filter ${JSON.stringify(part.trim())}: use <attribute> = '<value>' with name, model_id, source_run_id, status or model_type, joined by AND`);
    return sql`${column} = ${m[2]!.replace(/\\(.)/g, '$1')}`;
  });
  return sql`(${parts.reduce((a, b) => sql`${a} AND ${b}`)})`;
}

function orderSql(orderBy: unknown): SqlFragment | undefined {
  if (!Array.isArray(orderBy) || orderBy.length === 0) return undefined;
  const items = orderBy.map((o: Body) => {
    const column = ORDER_COLUMNS[String(o.field_name ?? '')];
    if (!column) throw invalid(`Unsupported order_by field ${JSON.stringify(o.field_name)}: ${Object.keys(ORDER_COLUMNS).join(', ')}`);
    return o.ascending === false ? sql`${column} DESC` : sql`${column} ASC`;
  });
  return items.reduce((a, b) => sql`${a}, ${b}`);
}

export interface LoggedModelWrites {
  /** Records metric points logged with the model's id on the model (each identical point once). */
  addMetrics(req: FastifyRequest, modelId: string, runId: string, points: LinkedPoint[]): Promise<void>;
}

export function registerLoggedModelRoutes(
  route: RouteFn,
  deps: { ch: ClickHouse; writer: TrackingWriter; actorOf: (req: FastifyRequest) => string; artifactRoot: string },
): LoggedModelWrites {
  const { ch, writer } = deps;

  async function getModel(id: unknown): Promise<LoggedModelRow> {
    const modelId = requiredString(id, 'model_id');
    const [m] = await loggedModels(ch, { ids: [modelId], limit: 1 });
    if (!m) throw notFound(`Logged model with ID '${modelId}' not found.`);
    return m;
  }

  async function save(req: FastifyRequest, state: LoggedModelRow): Promise<LoggedModelRow> {
    await writer.emit(`LOGGED_MODEL:${state.modelId}`, deps.actorOf(req), [{ eventType: 'LOGGED_MODEL_UPSERTED', experimentId: state.experimentId, loggedModel: state }]);
    return state;
  }

  route('POST', 'logged-models', 'write', 'Create a logged model (MLflow 3)', async (req, b) => {
    const experimentId = requiredString(b.experiment_id, 'experiment_id');
    const experiment = await experimentById(ch, experimentId);
    if (!experiment) throw notFound(`No Experiment with id=${experimentId} exists`);
    const sourceRunId = typeof b.source_run_id === 'string' ? b.source_run_id : '';
    if (sourceRunId && (await runsByIds(ch, [sourceRunId])).length === 0) throw notFound(`Run with id=${sourceRunId} not found`);
    const modelId = `m-${randomBytes(16).toString('hex')}`;
    const name = typeof b.name === 'string' && b.name ? b.name : `model-${modelId.slice(2, 10)}`;
    if (name.length > 256) throw invalid('Logged model name must be at most 256 characters');
    const now = Date.now();
    const state: LoggedModelRow = {
      modelId,
      experimentId,
      name,
      modelType: typeof b.model_type === 'string' ? b.model_type : '',
      sourceRunId,
      status: 'LOGGED_MODEL_PENDING',
      statusMessage: '',
      artifactUri: `${experiment.artifactLocation.replace(/\/+$/, '')}/models/${modelId}/artifacts`,
      lifecycleStage: 'active',
      creationTimeMs: now,
      lastUpdateTimeMs: now,
      tagsJson: JSON.stringify(merged([], entries(b.tags, 'tag'))),
      paramsJson: JSON.stringify(merged([], entries(b.params, 'param'))),
      metricsJson: '[]',
    };
    return { model: loggedModelJson(await save(req, state)) };
  });

  route('GET', 'logged-models/:model_id', 'read', 'Get a logged model', async (_req, q) => ({ model: loggedModelJson(await getModel(q.model_id)) }));

  route('PATCH', 'logged-models/:model_id', 'write', 'Finalize a logged model (status READY or UPLOAD_FAILED)', async (req, b) => {
    const model = await getModel(b.model_id);
    const status = String(b.status ?? '');
    if (!STATUSES.includes(status)) throw invalid(`Invalid status ${JSON.stringify(b.status)}: ${STATUSES.join(', ')}`);
    return { model: loggedModelJson(await save(req, { ...model, status, lastUpdateTimeMs: Date.now() })) };
  });

  route('DELETE', 'logged-models/:model_id', 'write', 'Delete a logged model', async (req, b) => {
    const model = await getModel(b.model_id);
    await save(req, { ...model, lifecycleStage: 'deleted', lastUpdateTimeMs: Date.now() });
    return {};
  });

  route('PATCH', 'logged-models/:model_id/tags', 'write', 'Set tags of a logged model (last write wins)', async (req, b) => {
    const model = await getModel(b.model_id);
    const tagsJson = JSON.stringify(merged(keyValuesFromJson(model.tagsJson), entries(b.tags, 'tag')));
    return { model: loggedModelJson(await save(req, { ...model, tagsJson, lastUpdateTimeMs: Date.now() })) };
  });

  route('DELETE', 'logged-models/:model_id/tags/:tag_key', 'write', 'Delete a tag of a logged model', async (req, b) => {
    const model = await getModel(b.model_id);
    const key = requiredString(b.tag_key, 'tag_key');
    const tags = keyValuesFromJson(model.tagsJson);
    if (!tags.some((t) => t.key === key)) throw notFound(`No tag with key '${key}' found for logged model '${model.modelId}'.`);
    await save(req, { ...model, tagsJson: JSON.stringify(tags.filter((t) => t.key !== key)), lastUpdateTimeMs: Date.now() });
    return {};
  });

  route('GET', 'logged-models/:model_id/artifacts/directories', 'read', "List a logged model's artifacts", async (_req, q) => {
    const model = await getModel(q.model_id);
    const path = typeof q.artifact_directory_path === 'string' ? q.artifact_directory_path : '';
    return { files: await listArtifactsUnder(deps.artifactRoot, model.artifactUri, path) };
  });

  route('POST', 'logged-models/:model_id/params', 'write', 'Log params of a logged model', async (req, b) => {
    const model = await getModel(b.model_id);
    const paramsJson = JSON.stringify(merged(keyValuesFromJson(model.paramsJson), entries(b.params, 'param')));
    await save(req, { ...model, paramsJson, lastUpdateTimeMs: Date.now() });
    return {};
  });

  route('POST', 'logged-models/search', 'read', 'Search logged models (filter: attribute equality joined by AND)', async (_req, b) => {
    const experimentIds = Array.isArray(b.experiment_ids) ? b.experiment_ids.map(String) : [];
    if (experimentIds.length === 0) throw invalid('experiment_ids must contain at least one experiment id');
    const maxResults = int64(b.max_results, 'max_results', 100);
    if (maxResults < 1 || maxResults > 1000) throw invalid('max_results must be between 1 and 1000');
    const offset = b.page_token ? decodePageToken(String(b.page_token), (v): v is number => Number.isSafeInteger(v) && (v as number) >= 0) : 0;
    const where = filterSql(typeof b.filter === 'string' ? b.filter : '');
    const orderBy = orderSql(b.order_by);
    const rows = await loggedModels(ch, { experimentIds, ...(where ? { where } : {}), ...(orderBy ? { orderBy } : {}), limit: maxResults + 1, offset });
    return {
      models: rows.slice(0, maxResults).map(loggedModelJson),
      ...(rows.length > maxResults ? { next_page_token: encodePageToken(offset + maxResults) } : {}),
    };
  });

  // The run → model link is the model's source_run_id (set when the model is created); the step of a model output
  // is not kept.
  route('POST', 'runs/outputs', 'write', 'Record the models a run produced', async (_req, b) => {
    const runId = requiredString(b.run_id, 'run_id');
    if ((await runsByIds(ch, [runId])).length === 0) throw notFound(`Run with id=${runId} not found`);
    const ids = (Array.isArray(b.models) ? b.models : []).map((m: Body) => requiredString(m?.model_id, 'models.model_id'));
    const found = new Set((await loggedModels(ch, { ids, limit: ids.length + 1 })).map((m) => m.modelId));
    const missing = ids.find((id) => !found.has(id));
    if (missing !== undefined) throw notFound(`Logged model with ID '${missing}' not found.`);
    return {};
  });

  return {
    async addMetrics(req, modelId, runId, points) {
      const model = await getModel(modelId);
      const metricsJson = withModelMetrics(model.metricsJson, runId, points);
      if (metricsJson !== model.metricsJson) await save(req, { ...model, metricsJson, lastUpdateTimeMs: Date.now() });
    },
  };
}
