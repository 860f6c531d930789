// MLflow's model registry subset: registered models and model versions. A version records the run that produced
// it, so its params, inputs and metrics are one lookup away (see the native /api/v1/models routes).
import type { FastifyRequest } from 'fastify';
import { modelVersions, queryRows, registeredModels, runsByIds, sql, type ClickHouse, type ModelVersionRow, type RegisteredModelRow } from '@runstream/clickhouse';
import type { NewEvent, TrackingWriter } from '@runstream/tracking';
import type { PartitionStamp } from './run-state-cache.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { MlflowError, invalid, notFound } from './mlflow-errors.ts';
import { int64, keyValuesFromJson, requiredString } from './mlflow-values.ts';

type Body = Record<string, unknown>;
export type RouteFn = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, scope: 'read' | 'write', summary: string, handler: (req: FastifyRequest, input: Body) => Promise<object>) => void;

function tagsJson(v: unknown): string {
  if (v === undefined || v === null) return '[]';
  if (!Array.isArray(v)) throw invalid("Invalid value for parameter 'tags': an array of {key, value} expected");
  return JSON.stringify(v.map((t: Body) => ({ key: requiredString(t.key, 'tags.key'), value: t.value === undefined ? '' : String(t.value) })));
}

export function modelVersionJson(v: ModelVersionRow) {
  return {
    name: v.name,
    version: v.version,
    creation_timestamp: v.creationTimeMs,
    last_updated_timestamp: v.lastUpdateTimeMs,
    current_stage: v.stage,
    description: v.description,
    source: v.source,
    run_id: v.runId,
    status: v.status,
    tags: keyValuesFromJson(v.tagsJson),
  };
}

function registeredModelJson(m: RegisteredModelRow, versions: ModelVersionRow[]) {
  // MLflow's latest_versions: the newest version per stage.
  const latest = new Map<string, ModelVersionRow>();
  for (const v of versions) if (Number(v.version) > Number(latest.get(v.stage)?.version ?? 0)) latest.set(v.stage, v);
  return {
    name: m.name,
    creation_timestamp: m.creationTimeMs,
    last_updated_timestamp: m.lastUpdateTimeMs,
    description: m.description,
    latest_versions: [...latest.values()].map(modelVersionJson),
    tags: keyValuesFromJson(m.tagsJson),
  };
}

export interface RegistryDeps {
  ch: ClickHouse;
  writer: TrackingWriter;
  actorOf: (req: FastifyRequest) => string;
  /** Runs a check-then-append alone per key, against every acknowledged tracking write (mlflow-routes.ts). */
  checked: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
  /** An entity key's tracking partition and its high watermark, fetched after the call. */
  stampOf: (key: string) => Promise<PartitionStamp>;
  /** Waits until everything below the stamp is stored. */
  storedThrough: (stamp: PartitionStamp) => Promise<void>;
}

export function registerRegistryRoutes(route: RouteFn, deps: RegistryDeps): void {
  const { ch, writer } = deps;

  async function getModel(name: string): Promise<RegisteredModelRow> {
    const [m] = await registeredModels(ch, { name, limit: 1 });
    if (!m) throw notFound(`Registered Model with name=${name} not found`);
    return m;
  }

  route('POST', 'registered-models/create', 'write', 'Register a model name', async (req, b) => {
    const name = requiredString(b.name, 'name');
    // eslint-disable-next-line no-control-regex
    if (name.length > 256 || /[\u0000-\u001f]/.test(name)) throw invalid('Registered model name must be at most 256 characters without control characters');
    return deps.checked(`model:${name}`, async () => {
      if ((await registeredModels(ch, { name, limit: 1 })).length > 0) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
      const now = Date.now();
      const state = { name, description: typeof b.description === 'string' ? b.description : '', creationTimeMs: now, lastUpdateTimeMs: now, tagsJson: tagsJson(b.tags) };
      await writer.emit(`MODEL:${name}`, deps.actorOf(req), [{ eventType: 'REGISTERED_MODEL_UPSERTED', registeredModel: state }]);
      return { registered_model: registeredModelJson(state, []) };
    });
  });

  route('GET', 'registered-models/get', 'read', 'Get a registered model', async (_req, q) => {
    const m = await getModel(requiredString(q.name, 'name'));
    return { registered_model: registeredModelJson(m, await modelVersions(ch, { names: [m.name] })) };
  });

  const search = async (_req: FastifyRequest, q: Body) => {
    const maxResults = int64(q.max_results, 'max_results', 100);
    if (maxResults < 1 || maxResults > 1000) throw invalid('max_results must be between 1 and 1000');
    const filter = typeof q.filter === 'string' ? q.filter.trim() : '';
    const m = /^name\s*=\s*'((?:[^'\\]|\\.)*)'$/i.exec(filter);
    if (filter && !m) throw invalid(`Unsupported registered model filter ${JSON.stringify(filter)}: only name = '<value>' is supported`);
    const afterName = q.page_token ? decodePageToken(String(q.page_token), (v): v is string => typeof v === 'string') : undefined;
    const rows = await registeredModels(ch, { ...(m ? { name: m[1]!.replace(/\\(.)/g, '$1') } : {}), ...(afterName === undefined ? {} : { afterName }), limit: maxResults + 1 });
    const page = rows.slice(0, maxResults);
    const versions = await modelVersions(ch, { names: page.map((r) => r.name) });
    return {
      registered_models: page.map((r) => registeredModelJson(r, versions.filter((v) => v.name === r.name))),
      ...(rows.length > maxResults ? { next_page_token: encodePageToken(page[page.length - 1]!.name) } : {}),
    };
  };
  route('GET', 'registered-models/search', 'read', 'Search registered models', search);
  route('POST', 'registered-models/search', 'read', 'Search registered models', search);

  route('POST', 'model-versions/create', 'write', 'Create a version of a registered model (linked to the run that produced it)', async (req, b) => {
    const name = requiredString(b.name, 'name');
    return deps.checked(`model:${name}`, async () => {
      const model = await getModel(name);
      const source = requiredString(b.source, 'source');
      const runId = typeof b.run_id === 'string' ? b.run_id : '';
      if (runId && (await runsByIds(ch, [runId])).length === 0) throw notFound(`Run with id=${runId} not found`);
      const key = `MODEL:${model.name}`;
      // Versions are numbered per model, and every event of a model lands in one partition, in one order. The next
      // number is read with everything before the partition's high watermark stored; if nothing else landed there
      // before this append, the number is certainly free. Otherwise another instance may have taken the same number
      // at the same moment: the first in Kafka order keeps it, the other puts the first's version back on top of
      // its own and takes the next number.
      for (let attempt = 1; ; attempt++) {
        const stamp = await deps.stampOf(key);
        await deps.storedThrough(stamp);
        const existing = await modelVersions(ch, { names: [model.name] });
        const version = String(existing.reduce((max, v) => Math.max(max, Number(v.version) || 0), 0) + 1);
        const now = Date.now();
        const state = { name: model.name, version, source, runId, description: typeof b.description === 'string' ? b.description : '', status: 'READY', stage: 'None', creationTimeMs: now, lastUpdateTimeMs: now, tagsJson: tagsJson(b.tags) };
        const events: NewEvent[] = [{ eventType: 'MODEL_VERSION_UPSERTED', modelVersion: state }, { eventType: 'REGISTERED_MODEL_UPSERTED', registeredModel: { ...model, lastUpdateTimeMs: now } }];
        const receipt = await writer.emit(key, deps.actorOf(req), events);
        if (!receipt || receipt.firstOffset === stamp.end) return { model_version: modelVersionJson(state) };
        await deps.storedThrough({ partition: receipt.partition, end: receipt.lastOffset + 1 });
        const rival = await earlierVersionClaim(ch, model.name, version, receipt.partition, stamp.end, receipt.firstOffset);
        if (!rival) return { model_version: modelVersionJson(state) };
        if (attempt >= 5) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Model version numbers of ${model.name} are contended; retry`);
        await writer.emit(key, deps.actorOf(req), [{ eventType: 'MODEL_VERSION_UPSERTED', modelVersion: rival }]);
      }
    });
  });

  route('GET', 'model-versions/get', 'read', 'Get a model version', async (_req, q) => {
    const name = requiredString(q.name, 'name');
    const version = requiredString(String(q.version ?? ''), 'version');
    const [v] = await modelVersions(ch, { names: [name], version });
    if (!v) throw notFound(`Model Version (name=${name}, version=${version}) not found`);
    return { model_version: modelVersionJson(v) };
  });

  route('GET', 'model-versions/search', 'read', "Search model versions (filter name='…' or run_id='…')", async (_req, q) => {
    const filter = typeof q.filter === 'string' ? q.filter.trim() : '';
    const m = /^(name|run_id)\s*=\s*'((?:[^'\\]|\\.)*)'$/i.exec(filter);
    if (filter && !m) throw invalid(`Unsupported model version filter ${JSON.stringify(filter)}: name = '<value>' or run_id = '<value>'`);
    const value = m ? m[2]!.replace(/\\(.)/g, '$1') : undefined;
    const rows = await modelVersions(ch, m?.[1]!.toLowerCase() === 'name' ? { names: [value!] } : value !== undefined ? { runId: value } : {});
    return { model_versions: rows.map(modelVersionJson) };
  });

  route('POST', 'registered-models/get-latest-versions', 'read', 'Latest version of a model per stage', async (_req, b) => {
    const model = await getModel(requiredString(b.name, 'name'));
    const stages = Array.isArray(b.stages) ? b.stages.map(String) : undefined;
    const latest = registeredModelJson(model, await modelVersions(ch, { names: [model.name] })).latest_versions;
    return { model_versions: stages ? latest.filter((v) => stages.includes(v.current_stage)) : latest };
  });
}

/**
 * The latest state of `name` version `version` written by someone else, if another writer created that version in
 * the partition between `from` and `before` (offsets): the version this writer must give back.
 */
async function earlierVersionClaim(ch: ClickHouse, name: string, version: string, partition: number, from: number, before: number) {
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT model_version, model_source, run_id, description, status, model_stage, creation_time_ms, last_update_ms, tags_json
        FROM tracking_events_v1
        WHERE event_type = 'MODEL_VERSION_UPSERTED' AND model_name = ${name} AND model_version = ${version} AND src_partition = ${partition}
          AND src_offset >= ${from} AND src_offset < ${before}
        ORDER BY src_offset DESC LIMIT 1`,
  );
  const [r] = rows;
  if (!r) return undefined;
  return {
    name,
    version: r.model_version!,
    source: r.model_source!,
    runId: r.run_id!,
    description: r.description!,
    status: r.status!,
    stage: r.model_stage!,
    creationTimeMs: Number(r.creation_time_ms),
    lastUpdateTimeMs: Number(r.last_update_ms),
    tagsJson: r.tags_json!,
  };
}
