// Permanent deletion of soft-deleted runs and experiments (MLflow's `mlflow gc`), done by ClickHouse itself: the
// ids of a job are selected into gc_runs_v1 / gc_experiments_v1 on the server (migration 0062), then every table
// that holds an entity's data loses it by one ALTER TABLE ... DELETE reading those rows. Nothing is loaded into the
// client but counts, progress and (a page at a time) artifact locations, so memory does not grow with the data.
import { command, queryRows, type ClickHouse } from './clickhouse-client.ts';
import { ident, sql, sqlArray, type SqlFragment } from './sql-literal.ts';

export interface PurgeRequest {
  jobId: string;
  /** Only entities deleted at least this long ago (runs: the time of the deleting event; experiments: last update). */
  olderThanMs?: number;
  /** Only these experiments (they must be deleted); otherwise every deleted experiment (old enough). */
  experimentIds?: string[];
  /** Only these runs (they must be deleted); otherwise every deleted run (old enough). */
  runIds?: string[];
  /** The clock of the request (ms); ages are measured from it. */
  nowMs: number;
}

/** A run's state from its latest RUN_UPSERTED event, with the time of that event (for a deleted run: when). */
const RUN_STATE = sql`SELECT run_id, argMax(experiment_id, src_offset) AS experiment_id, argMax(artifact_location, src_offset) AS artifact_uri,
    argMax(lifecycle_stage, src_offset) AS stage, argMax(event_time_ms, src_offset) AS changed_ms
  FROM tracking_events_v1 WHERE event_type = 'RUN_UPSERTED' GROUP BY run_id`;

const EXPERIMENT_STATE = sql`SELECT experiment_id, argMax(artifact_location, version) AS artifact_location,
    argMax(lifecycle_stage, version) AS stage, argMax(last_update_ms, version) AS last_update_ms
  FROM experiments_v1 GROUP BY experiment_id`;

const threshold = (r: PurgeRequest): number => r.nowMs - (r.olderThanMs ?? 0);

/**
 * What mlflow gc refuses, checked before anything is deleted: named experiments or runs that do not exist, are not
 * deleted, or (with an age) were deleted too recently — and runs of the experiments to delete that are too recent.
 * Each problem as a sentence; at most 20 ids are named per problem.
 */
export async function purgeProblems(ch: ClickHouse, r: PurgeRequest): Promise<string[]> {
  const problems: string[] = [];
  const name = (ids: string[]) => ids.slice(0, 20).join(', ') + (ids.length > 20 ? ` and ${ids.length - 20} more` : '');
  if (r.experimentIds?.length) {
    const rows = await queryRows<{ experiment_id: string; stage: string; last_update_ms: string }>(
      ch,
      sql`SELECT experiment_id, stage, last_update_ms FROM (${EXPERIMENT_STATE}) WHERE experiment_id IN ${r.experimentIds}`,
    );
    const found = new Map(rows.map((e) => [e.experiment_id, e]));
    const missing = r.experimentIds.filter((id) => !found.has(id));
    if (missing.length) problems.push(`No experiment with id ${name(missing)} exists.`);
    const active = rows.filter((e) => e.stage !== 'deleted').map((e) => e.experiment_id);
    if (active.length) problems.push(`Experiments ${name(active)} are not in the deleted lifecycle stage. Only experiments in the deleted lifecycle stage can be hard-deleted.`);
    const young = r.olderThanMs === undefined ? [] : rows.filter((e) => e.stage === 'deleted' && Number(e.last_update_ms) >= threshold(r)).map((e) => e.experiment_id);
    if (young.length) problems.push(`Experiments ${name(young)} are not older than the required age. Only experiments older than ${r.olderThanMs} ms can be deleted.`);
  }
  if (r.runIds?.length) {
    const rows = await queryRows<{ run_id: string; stage: string; changed_ms: string }>(ch, sql`SELECT run_id, stage, changed_ms FROM (${RUN_STATE}) WHERE run_id IN ${r.runIds}`);
    const found = new Map(rows.map((x) => [x.run_id, x]));
    const missing = r.runIds.filter((id) => !found.has(id));
    if (missing.length) problems.push(`Run with id=${name(missing)} not found.`);
    const active = rows.filter((x) => x.stage !== 'deleted').map((x) => x.run_id);
    if (active.length) problems.push(`Runs ${name(active)} are not in \`deleted\` lifecycle stage. Only runs in \`deleted\` lifecycle stage can be deleted.`);
    const young = r.olderThanMs === undefined ? [] : rows.filter((x) => x.stage === 'deleted' && Number(x.changed_ms) > threshold(r)).map((x) => x.run_id);
    if (young.length) problems.push(`Runs ${name(young)} are not older than the required age. Only runs older than ${r.olderThanMs} ms can be deleted.`);
  }
  if (r.olderThanMs !== undefined) {
    // mlflow gc also refuses the deleted runs of the experiments it deletes when they were deleted too recently.
    const young = await queryRows<{ run_id: string }>(
      ch,
      sql`SELECT run_id FROM (${RUN_STATE}) WHERE stage = 'deleted' AND changed_ms > ${threshold(r)}
          AND experiment_id IN (SELECT experiment_id FROM (${EXPERIMENT_STATE}) WHERE ${experimentFilter(r)}) ORDER BY run_id LIMIT 21`,
    );
    if (young.length) problems.push(`Runs ${name(young.map((x) => x.run_id))} are not older than the required age. Only runs older than ${r.olderThanMs} ms can be deleted.`);
  }
  return problems;
}

function experimentFilter(r: PurgeRequest): SqlFragment {
  const named = r.experimentIds?.length ? sql`experiment_id IN ${r.experimentIds}` : sql`1`;
  const old = r.olderThanMs === undefined ? sql`1` : sql`last_update_ms < ${threshold(r)}`;
  return sql`stage = 'deleted' AND ${named} AND ${old}`;
}

/**
 * Records the job's experiments and runs on the server: the experiments asked for (or every deleted one old enough),
 * the runs asked for (or every deleted one old enough), and every run of those experiments. Returns the counts.
 */
export async function selectPurgeTargets(ch: ClickHouse, r: PurgeRequest): Promise<{ experiments: number; runs: number }> {
  await command(
    ch,
    sql`INSERT INTO gc_experiments_v1 (job_id, experiment_id, artifact_location)
        SELECT ${r.jobId}, experiment_id, artifact_location FROM (${EXPERIMENT_STATE}) WHERE ${experimentFilter(r)}`,
  );
  const named = r.runIds?.length ? sql`run_id IN ${r.runIds}` : sql`1`;
  const old = r.olderThanMs === undefined ? sql`1` : sql`changed_ms <= ${threshold(r)}`;
  await command(
    ch,
    sql`INSERT INTO gc_runs_v1 (job_id, run_id, experiment_id, artifact_uri)
        SELECT ${r.jobId}, run_id, experiment_id, artifact_uri FROM (${RUN_STATE})
        WHERE (stage = 'deleted' AND ${named} AND ${old}) OR experiment_id IN (SELECT experiment_id FROM gc_experiments_v1 WHERE job_id = ${r.jobId})`,
  );
  const [counts] = await queryRows<{ e: string; r: string }>(
    ch,
    sql`SELECT (SELECT count() FROM gc_experiments_v1 WHERE job_id = ${r.jobId}) AS e, (SELECT count() FROM gc_runs_v1 WHERE job_id = ${r.jobId}) AS r`,
  );
  return { experiments: Number(counts!.e), runs: Number(counts!.r) };
}

/** Points stored for the job's runs (for the audit record and progress). */
export async function purgeTargetPoints(ch: ClickHouse, jobId: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    ch,
    sql`SELECT sumMerge(points) AS n FROM metric_summary_v2 WHERE entity_kind = 'run' AND entity_id IN (SELECT run_id FROM gc_runs_v1 WHERE job_id = ${jobId})`,
  );
  return Number(row?.n ?? 0);
}

/**
 * Every table holding a run's or an experiment's data, and which rows go. Model versions stay (as in MLflow, a
 * registered model version outlives its source run); their run link then names a run that no longer exists.
 */
export function purgeStatements(jobId: string): { table: string; where: SqlFragment }[] {
  const runs = sql`(SELECT run_id FROM gc_runs_v1 WHERE job_id = ${jobId})`;
  const experiments = sql`(SELECT experiment_id FROM gc_experiments_v1 WHERE job_id = ${jobId})`;
  const metric = sql`entity_kind = 'run' AND entity_id IN ${runs}`;
  const byRun = sql`run_id IN ${runs}`;
  const byExperiment = sql`experiment_id IN ${experiments}`;
  return [
    { table: 'metric_points_v2', where: metric },
    { table: 'metric_summary_v2', where: metric },
    { table: 'metric_rollup_v3', where: metric },
    { table: 'runs_v1', where: byRun },
    { table: 'run_params_v1', where: byRun },
    { table: 'run_params_v2', where: byRun },
    { table: 'run_tags_v1', where: byRun },
    { table: 'run_inputs_v1', where: byRun },
    // The audit trail of tracking events: the runs' events and every event of the experiments (their logged models too).
    { table: 'tracking_events_v1', where: sql`${byRun} OR ${byExperiment}` },
    { table: 'experiments_v1', where: byExperiment },
    { table: 'experiment_tags_v1', where: byExperiment },
    { table: 'logged_models_v1', where: byExperiment },
  ];
}

/** Starts one mutation per table (ClickHouse runs them in the background; see purgeProgress). */
export async function startPurgeMutations(ch: ClickHouse, jobId: string): Promise<void> {
  for (const { table, where } of purgeStatements(jobId)) await command(ch, sql`ALTER TABLE ${ident(table)} DELETE WHERE ${where}`);
}

export interface PurgeTableProgress {
  table: string;
  /** Parts still to rewrite. */
  partsToDo: number;
  done: boolean;
}

/** The job's mutations, found by the job id in their command (system.mutations, 18.16 and current versions). */
export async function purgeProgress(ch: ClickHouse, jobId: string): Promise<PurgeTableProgress[]> {
  const rows = await queryRows<{ table: string; parts_to_do: string; is_done: number }>(
    ch,
    sql`SELECT table, sum(parts_to_do) AS parts_to_do, min(is_done) AS is_done FROM system.mutations
        WHERE database = currentDatabase() AND position(command, ${jobId}) > 0 GROUP BY table ORDER BY table`,
  );
  return rows.map((m) => ({ table: m.table, partsToDo: Number(m.parts_to_do), done: Number(m.is_done) === 1 }));
}

/** A page of the job's artifact locations (runs, then experiments), in key order after `after`. */
export async function purgeArtifactPage(ch: ClickHouse, jobId: string, kind: 'run' | 'experiment', after: string, limit: number): Promise<{ id: string; uri: string }[]> {
  const rows =
    kind === 'run'
      ? await queryRows<{ id: string; uri: string }>(ch, sql`SELECT run_id AS id, artifact_uri AS uri FROM gc_runs_v1 WHERE job_id = ${jobId} AND run_id > ${after} ORDER BY run_id LIMIT ${limit}`)
      : await queryRows<{ id: string; uri: string }>(
          ch,
          sql`SELECT experiment_id AS id, artifact_location AS uri FROM gc_experiments_v1 WHERE job_id = ${jobId} AND experiment_id > ${after} ORDER BY experiment_id LIMIT ${limit}`,
        );
  return rows;
}

export interface PurgeAuditRecord {
  jobId: string;
  event: 'started' | 'finished' | 'failed';
  actor: string;
  request: PurgeRequest;
  runs?: number;
  experiments?: number;
  points?: number;
  artifactsRemoved?: number;
  detail?: string;
}

export async function writePurgeAudit(ch: ClickHouse, a: PurgeAuditRecord): Promise<void> {
  await command(
    ch,
    sql`INSERT INTO gc_audit_v1 (job_id, event, at, actor, older_than_ms, experiment_ids, run_ids, runs, experiments, points, artifacts_removed, detail)
        VALUES (${a.jobId}, ${a.event}, now(), ${a.actor}, ${a.request.olderThanMs ?? -1}, ${stringArray(a.request.experimentIds)}, ${stringArray(a.request.runIds)},
                ${a.runs ?? 0}, ${a.experiments ?? 0}, ${a.points ?? 0}, ${a.artifactsRemoved ?? 0}, ${a.detail ?? ''})`,
  );
}

const stringArray = (values: string[] | undefined): SqlFragment => (values?.length ? sqlArray(values) : sql`CAST([] AS Array(String))`);
