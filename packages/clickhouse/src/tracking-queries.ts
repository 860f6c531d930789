// Reads of tracking metadata (experiments, runs, params, tags, inputs): the latest state of each entity.
// The entity tables are ReplacingMergeTree views keyed by entity with version = Kafka offset: argMax(…, version)
// gives the newest state without waiting for merges.
import { queryRows, type ClickHouse } from './clickhouse-client.ts';
import { floatFromBits } from './float-bits.ts';
import type { LoggedModelState, ModelVersionState, RegisteredModelState } from '@runstream/codec';
import { joinSql, sql, type SqlFragment } from './sql-literal.ts';

export interface ExperimentRow {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: string;
  creationTimeMs: number;
  lastUpdateTimeMs: number;
  tags: { key: string; value: string }[];
}

export interface RunRow {
  runId: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: string;
  startTimeMs: number;
  endTimeMs: number | null;
  artifactUri: string;
  lifecycleStage: string;
}

export interface LatestMetric {
  key: string;
  value: number;
  timestampMs: number;
  step: number;
}

const EXPERIMENT_LATEST = sql`SELECT experiment_id,
    argMax(name, version) AS name, argMax(artifact_location, version) AS artifact_location,
    argMax(lifecycle_stage, version) AS lifecycle_stage, argMax(creation_time_ms, version) AS creation_time_ms,
    argMax(last_update_ms, version) AS last_update_ms
  FROM experiments_v1`;

function experimentsSql(where: SqlFragment, limit = 1000): SqlFragment {
  return sql`SELECT * FROM (${EXPERIMENT_LATEST} GROUP BY experiment_id) WHERE ${where} ORDER BY experiment_id LIMIT ${limit}`;
}

/** Tags of the experiments (of every experiment when `ids` is undefined); a deletion is a newer row with deleted = 1. */
async function experimentTags(ch: ClickHouse, ids: string[] | undefined): Promise<Map<string, { key: string; value: string }[]>> {
  const out = new Map<string, { key: string; value: string }[]>();
  if (ids?.length === 0) return out;
  const rows = await queryRows<{ experiment_id: string; key: string; value: string }>(
    ch,
    sql`SELECT experiment_id, key, value FROM (
          SELECT experiment_id, key, argMax(value, version) AS value, argMax(deleted, version) AS deleted FROM experiment_tags_v1
          WHERE ${ids === undefined ? sql`1` : sql`experiment_id IN ${ids}`} GROUP BY experiment_id, key
        ) WHERE deleted = 0 ORDER BY key`,
  );
  for (const r of rows) {
    const list = out.get(r.experiment_id) ?? [];
    list.push({ key: r.key, value: r.value });
    out.set(r.experiment_id, list);
  }
  return out;
}

async function readExperiments(ch: ClickHouse, where: SqlFragment, limit?: number, allTags = false): Promise<ExperimentRow[]> {
  const rows = await queryRows<Record<string, string>>(ch, experimentsSql(where, limit));
  const tags = await experimentTags(ch, allTags ? undefined : rows.map((r) => r.experiment_id!));
  return rows.map((r) => ({
    experimentId: r.experiment_id!,
    name: r.name!,
    artifactLocation: r.artifact_location!,
    lifecycleStage: r.lifecycle_stage!,
    creationTimeMs: Number(r.creation_time_ms),
    lastUpdateTimeMs: Number(r.last_update_ms),
    tags: tags.get(r.experiment_id!) ?? [],
  }));
}

export async function experimentById(ch: ClickHouse, id: string): Promise<ExperimentRow | undefined> {
  return (await readExperiments(ch, sql`experiment_id = ${id}`))[0];
}

export async function experimentByName(ch: ClickHouse, name: string): Promise<ExperimentRow | undefined> {
  return (await readExperiments(ch, sql`name = ${name}`))[0];
}

/**
 * Every experiment in the lifecycle stages, with its tags (experiment search filters and sorts them all before
 * paging, as MLflow does; experiments number thousands, not millions).
 */
export async function allExperiments(ch: ClickHouse, stages: string[], limit = 1_000_000): Promise<ExperimentRow[]> {
  return readExperiments(ch, sql`lifecycle_stage IN ${stages}`, limit, true);
}

/** Experiments in id order after `afterId`, optionally only active or only deleted ones. */
export async function listExperiments(ch: ClickHouse, opts: { afterId?: string; limit: number; stages: string[] }): Promise<ExperimentRow[]> {
  const after = opts.afterId === undefined ? sql`1` : sql`experiment_id > ${opts.afterId}`;
  return readExperiments(ch, sql`${after} AND lifecycle_stage IN ${opts.stages}`, opts.limit);
}

// FINAL rather than argMax: aggregate functions skip NULL arguments, and end_time is NULL while a run is open.
export const RUN_LATEST = sql`SELECT run_id, experiment_id, run_name, user_id, status, start_time_ms AS start_time,
    end_time_ms AS end_time, artifact_uri, lifecycle_stage
  FROM runs_v1 FINAL`;

export function toRunRow(r: Record<string, string | number | null>): RunRow {
  return {
    runId: String(r.run_id),
    experimentId: String(r.experiment_id),
    runName: String(r.run_name),
    userId: String(r.user_id),
    status: String(r.status),
    startTimeMs: Number(r.start_time),
    endTimeMs: r.end_time === null || r.end_time === undefined ? null : Number(r.end_time),
    artifactUri: String(r.artifact_uri),
    lifecycleStage: String(r.lifecycle_stage),
  };
}

export async function runsByIds(ch: ClickHouse, ids: string[]): Promise<RunRow[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows<Record<string, string | number | null>>(ch, sql`${RUN_LATEST} WHERE run_id IN ${ids}`);
  return rows.map(toRunRow);
}

/**
 * A param's value: the first logged in Kafka order (params are immutable; a value accepted by another query-service
 * instance at the same moment is only in the audit trail). run_params_v2 ranks that row highest (migration 0013),
 * so this is the same before and after its parts merge.
 */
export const PARAM_VALUE = sql`argMax(value, rank)`;

export async function runParams(ch: ClickHouse, ids: string[]): Promise<Map<string, { key: string; value: string }[]>> {
  if (ids.length === 0) return new Map();
  return keyValues(ch, sql`SELECT run_id, key, ${PARAM_VALUE} AS value FROM run_params_v2 WHERE run_id IN ${ids} GROUP BY run_id, key ORDER BY key`);
}

export async function runTags(ch: ClickHouse, ids: string[]): Promise<Map<string, { key: string; value: string }[]>> {
  if (ids.length === 0) return new Map();
  return keyValues(
    ch,
    sql`SELECT run_id, key, value FROM (
          SELECT run_id, key, argMax(value, version) AS value, argMax(deleted, version) AS deleted
          FROM run_tags_v1 WHERE run_id IN ${ids} GROUP BY run_id, key
        ) WHERE deleted = 0 ORDER BY key`,
  );
}

async function keyValues(ch: ClickHouse, query: SqlFragment): Promise<Map<string, { key: string; value: string }[]>> {
  const out = new Map<string, { key: string; value: string }[]>();
  for (const r of await queryRows<{ run_id: string; key: string; value: string }>(ch, query)) {
    const list = out.get(r.run_id) ?? [];
    list.push({ key: r.key, value: r.value });
    out.set(r.run_id, list);
  }
  return out;
}

/** The latest value of every metric of the runs (MLflow's "latest": highest step, then latest timestamp). */
export async function latestMetrics(ch: ClickHouse, ids: string[]): Promise<Map<string, LatestMetric[]>> {
  const out = new Map<string, LatestMetric[]>();
  if (ids.length === 0) return out;
  const rows = await queryRows<{ entity_id: string; key: string; bits: string; ts: string; step: string }>(
    ch,
    sql`SELECT entity_id, key, hex(reinterpretAsString(argMaxMerge(last_value))) AS bits,
               maxMerge(last_timestamp_ms) AS ts, maxMerge(last_step) AS step
        FROM metric_summary_v2 WHERE entity_kind = 'run' AND entity_id IN ${ids}
        GROUP BY entity_id, key ORDER BY key`,
  );
  for (const r of rows) {
    const list = out.get(r.entity_id) ?? [];
    list.push({ key: r.key, value: floatFromBits(r.bits), timestampMs: Number(r.ts), step: Number(r.step) });
    out.set(r.entity_id, list);
  }
  return out;
}

export interface RunInputRow {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string;
  profile: string;
  tagsJson: string;
}

export async function runInputs(ch: ClickHouse, runId: string): Promise<RunInputRow[]> {
  return (await runInputsOf(ch, [runId])).get(runId) ?? [];
}

/** Dataset inputs of several runs in one query. */
export async function runInputsOf(ch: ClickHouse, ids: string[]): Promise<Map<string, RunInputRow[]>> {
  const out = new Map<string, RunInputRow[]>();
  if (ids.length === 0) return out;
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT run_id, dataset_name, dataset_digest, any(dataset_source_type) AS st, any(dataset_source) AS src, any(dataset_schema) AS sch,
               any(dataset_profile) AS prof, argMax(input_tags_json, version) AS tags
        FROM run_inputs_v1 WHERE run_id IN ${ids} GROUP BY run_id, dataset_name, dataset_digest ORDER BY run_id, dataset_name`,
  );
  for (const r of rows) {
    const list = out.get(r.run_id!) ?? [];
    list.push({ name: r.dataset_name!, digest: r.dataset_digest!, sourceType: r.st!, source: r.src!, schema: r.sch!, profile: r.prof!, tagsJson: r.tags! });
    out.set(r.run_id!, list);
  }
  return out;
}

// A stored registry entity is exactly the state its last event carried.
export type RegisteredModelRow = RegisteredModelState;
export type ModelVersionRow = ModelVersionState;

/**
 * Registered models in name order (deleted ones only with includeDeleted). `deleted` is filtered outside FINAL:
 * a condition on a non-key column could otherwise be applied before the newest row of a model is chosen.
 */
export async function registeredModels(ch: ClickHouse, opts: { name?: string; afterName?: string; limit: number; includeDeleted?: boolean }): Promise<RegisteredModelRow[]> {
  const byName = opts.name === undefined ? sql`1` : sql`name = ${opts.name}`;
  const after = opts.afterName === undefined ? sql`1` : sql`name > ${opts.afterName}`;
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT * FROM (
          SELECT name, description, creation_time_ms, last_update_ms, tags_json, aliases_json, deleted FROM registered_models_v1 FINAL
          WHERE ${byName} AND ${after}
        ) WHERE ${opts.includeDeleted ? sql`1` : sql`deleted = 0`} ORDER BY name LIMIT ${opts.limit}`,
  );
  return rows.map((r) => ({
    name: r.name!,
    description: r.description!,
    creationTimeMs: Number(r.creation_time_ms),
    lastUpdateTimeMs: Number(r.last_update_ms),
    tagsJson: r.tags_json!,
    aliasesJson: r.aliases_json || '[]',
    deleted: Number(r.deleted) === 1,
  }));
}

/**
 * Versions of the named models (all models when `names` is undefined), optionally only those made by one run;
 * deleted versions only with includeDeleted (their numbers stay taken).
 */
export async function modelVersions(
  ch: ClickHouse,
  opts: { names?: string[]; version?: string; runId?: string; limit?: number; includeDeleted?: boolean },
): Promise<ModelVersionRow[]> {
  const names = opts.names === undefined ? sql`1` : opts.names.length === 0 ? sql`0` : sql`name IN ${opts.names}`;
  const version = opts.version === undefined ? sql`1` : sql`model_version = ${opts.version}`;
  const run = opts.runId === undefined ? sql`1` : sql`run_id = ${opts.runId}`;
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT * FROM (
          SELECT name, model_version, source, run_id, description, status, stage, creation_time_ms, last_update_ms, tags_json,
                 model_id, user_id, deleted
          FROM model_versions_v1 FINAL WHERE ${names} AND ${version}
        ) WHERE ${run} AND ${opts.includeDeleted ? sql`1` : sql`deleted = 0`}
        ORDER BY name, toUInt64OrZero(model_version) LIMIT ${opts.limit ?? 10_000}`,
  );
  return rows.map((r) => ({
    name: r.name!,
    version: r.model_version!,
    source: r.source!,
    runId: r.run_id!,
    description: r.description!,
    status: r.status!,
    stage: r.stage!,
    creationTimeMs: Number(r.creation_time_ms),
    lastUpdateTimeMs: Number(r.last_update_ms),
    tagsJson: r.tags_json!,
    modelId: r.model_id!,
    userId: r.user_id!,
    deleted: Number(r.deleted) === 1,
  }));
}

export type LoggedModelRow = LoggedModelState;

/** Logged models (MLflow 3), newest first: by id, by experiment, or by the run that logged them. */
export async function loggedModels(
  ch: ClickHouse,
  opts: { ids?: string[]; experimentIds?: string[]; sourceRunIds?: string[]; where?: SqlFragment; orderBy?: SqlFragment; includeDeleted?: boolean; limit: number; offset?: number },
): Promise<LoggedModelRow[]> {
  const conditions: SqlFragment[] = [opts.includeDeleted ? sql`1` : sql`lifecycle_stage != 'deleted'`];
  if (opts.ids) conditions.push(opts.ids.length ? sql`model_id IN ${opts.ids}` : sql`0`);
  if (opts.experimentIds) conditions.push(opts.experimentIds.length ? sql`experiment_id IN ${opts.experimentIds}` : sql`0`);
  if (opts.sourceRunIds) conditions.push(opts.sourceRunIds.length ? sql`source_run_id IN ${opts.sourceRunIds}` : sql`0`);
  if (opts.where) conditions.push(opts.where);
  const rows = await queryRows<Record<string, string>>(
    ch,
    sql`SELECT model_id, experiment_id, name, model_type, source_run_id, status, status_message, artifact_uri, lifecycle_stage,
               creation_time_ms, last_update_ms, tags_json, params_json, metrics_json
        FROM logged_models_v1 FINAL
        WHERE ${joinSql(conditions, ' AND ')}
        ORDER BY ${opts.orderBy ?? sql`creation_time_ms DESC`}, model_id
        LIMIT ${opts.offset ?? 0}, ${opts.limit}`,
  );
  return rows.map((r) => ({
    modelId: r.model_id!,
    experimentId: r.experiment_id!,
    name: r.name!,
    modelType: r.model_type!,
    sourceRunId: r.source_run_id!,
    status: r.status!,
    statusMessage: r.status_message!,
    artifactUri: r.artifact_uri!,
    lifecycleStage: r.lifecycle_stage!,
    creationTimeMs: Number(r.creation_time_ms),
    lastUpdateTimeMs: Number(r.last_update_ms),
    tagsJson: r.tags_json!,
    paramsJson: r.params_json!,
    metricsJson: r.metrics_json || '[]',
  }));
}
