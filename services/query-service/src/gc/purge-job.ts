// A gc job: permanently delete soft-deleted runs and experiments (mlflow gc's semantics) — their points, summaries,
// rollups, tracking state and events, and artifacts — with an audit record and progress. Shared by
// POST /api/v1/gc and `npm run gc`. ClickHouse does the deleting (packages/clickhouse/src/entity-purge.ts); this
// process holds only the job's counters, so its memory does not depend on how much is deleted.
import { randomUUID } from 'node:crypto';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Logger } from '@runstream/config';
import {
  purgeArtifactPage,
  purgeProblems,
  purgeProgress,
  purgeTargetPoints,
  selectPurgeTargets,
  startPurgeMutations,
  writePurgeAudit,
  type ClickHouse,
  type PurgeRequest,
} from '@runstream/clickhouse';

/** mlflow gc's --older-than format: days, hours, minutes, seconds in that order, each optional ("30d", "2d8h5m20s", "1.5h"). */
export function parseAge(text: string): number {
  const m = /^(?:([.\d]+?)d)?(?:([.\d]+?)h)?(?:([.\d]+?)m)?(?:([.\d]+?)s)?$/.exec(text);
  if (!m || text === '') throw new RangeError(`Could not parse any time information from '${text}'. Examples of valid strings: '8h', '2d8h5m20s', '2m4s'`);
  const [d, h, min, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  if ([d, h, min, s].some((v) => !Number.isFinite(v))) throw new RangeError(`Could not parse any time information from '${text}'.`);
  return Math.round(((d! * 24 + h!) * 60 + min!) * 60_000 + s! * 1000);
}

export class PurgeRefused extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join(' '));
    this.problems = problems;
  }
}

/** Another job of this runner has not ended yet. */
export class PurgeBusy extends Error {}

export interface PurgeJobState {
  job_id: string;
  state: 'deleting' | 'removing_artifacts' | 'done' | 'failed';
  actor: string;
  runs: number;
  experiments: number;
  /** Points the deleted runs held. */
  points: number;
  /** Per table: parts ClickHouse still has to rewrite. */
  tables: { table: string; parts_to_do: number; done: boolean }[];
  artifacts_removed: number;
  started_at: string;
  finished_at?: string;
  error?: string;
}

export interface PurgeOptions {
  olderThanMs?: number;
  experimentIds?: string[];
  runIds?: string[];
}

const ARTIFACTS_SCHEME = 'mlflow-artifacts:/';

export interface PurgeRunnerDeps {
  /** A connection allowed to run ALTER TABLE … DELETE (the admin role). */
  ch: ClickHouse;
  artifactRoot: string;
  log: Logger;
  pollMs?: number;
  /** Give up waiting for the mutations after this (they go on in ClickHouse). */
  mutationBudgetMs?: number;
}

export class PurgeRunner {
  private readonly jobs = new Map<string, { state: PurgeJobState; finished: Promise<PurgeJobState> }>();
  private running: string | undefined;
  private readonly deps: PurgeRunnerDeps;

  constructor(deps: PurgeRunnerDeps) {
    this.deps = deps;
  }

  get(jobId: string): PurgeJobState | undefined {
    return this.jobs.get(jobId)?.state;
  }

  /** The job with that id, once it has ended. */
  finished(jobId: string): Promise<PurgeJobState> | undefined {
    return this.jobs.get(jobId)?.finished;
  }

  /**
   * Checks the request as mlflow gc does (throws PurgeRefused, nothing deleted), records the targets and the audit
   * event, then deletes in the background. Returns the job's state at that point.
   */
  async start(opts: PurgeOptions, actor: string): Promise<PurgeJobState> {
    if (this.running) throw new PurgeBusy(`gc job ${this.running} is still running`);
    const jobId = randomUUID();
    this.running = jobId;
    try {
      const request: PurgeRequest = { jobId, nowMs: Date.now(), ...opts };
      const problems = await purgeProblems(this.deps.ch, request);
      if (problems.length > 0) throw new PurgeRefused(problems);
      const { runs, experiments } = await selectPurgeTargets(this.deps.ch, request);
      const points = await purgeTargetPoints(this.deps.ch, jobId);
      const state: PurgeJobState = { job_id: jobId, state: 'deleting', actor, runs, experiments, points, tables: [], artifacts_removed: 0, started_at: new Date().toISOString() };
      await writePurgeAudit(this.deps.ch, { jobId, event: 'started', actor, request, runs, experiments, points });
      this.deps.log.info({ jobId, actor, runs, experiments, points, ...opts }, 'gc started');
      const finished = this.run(state, request);
      this.jobs.set(jobId, { state, finished });
      return { ...state };
    } catch (err) {
      this.running = undefined;
      throw err;
    }
  }

  private async run(state: PurgeJobState, request: PurgeRequest): Promise<PurgeJobState> {
    const { ch, log } = this.deps;
    try {
      if (state.runs > 0 || state.experiments > 0) {
        await startPurgeMutations(ch, state.job_id);
        const deadline = Date.now() + (this.deps.mutationBudgetMs ?? 3_600_000);
        for (;;) {
          const progress = await purgeProgress(ch, state.job_id);
          state.tables = progress.map((p) => ({ table: p.table, parts_to_do: p.partsToDo, done: p.done }));
          if (progress.every((p) => p.done)) break;
          if (Date.now() > deadline) throw new Error(`mutations not finished after ${this.deps.mutationBudgetMs} ms; ClickHouse goes on with them (system.mutations)`);
          await new Promise((r) => setTimeout(r, this.deps.pollMs ?? 500));
        }
        state.state = 'removing_artifacts';
        state.artifacts_removed = await this.removeArtifacts(state.job_id);
      }
      state.state = 'done';
      state.finished_at = new Date().toISOString();
      await writePurgeAudit(ch, { jobId: state.job_id, event: 'finished', actor: state.actor, request, runs: state.runs, experiments: state.experiments, points: state.points, artifactsRemoved: state.artifacts_removed });
      log.info({ jobId: state.job_id, runs: state.runs, experiments: state.experiments, points: state.points, artifactsRemoved: state.artifacts_removed }, 'gc finished');
    } catch (err) {
      state.state = 'failed';
      state.error = (err as Error).message;
      state.finished_at = new Date().toISOString();
      log.error({ jobId: state.job_id, err: state.error }, 'gc failed');
      await writePurgeAudit(ch, { jobId: state.job_id, event: 'failed', actor: state.actor, request, runs: state.runs, experiments: state.experiments, points: state.points, artifactsRemoved: state.artifacts_removed, detail: state.error }).catch(
        (e) => log.error({ jobId: state.job_id, err: (e as Error).message }, 'gc audit record not written'),
      );
    } finally {
      this.running = undefined;
    }
    return { ...state };
  }

  /** Removes the artifact directories of the job's runs and experiments, a page of locations at a time. */
  private async removeArtifacts(jobId: string): Promise<number> {
    let removed = 0;
    for (const kind of ['run', 'experiment'] as const) {
      let after = '';
      for (;;) {
        const page = await purgeArtifactPage(this.deps.ch, jobId, kind, after, 1000);
        for (const { uri } of page) if (await this.removeLocation(uri)) removed++;
        if (page.length < 1000) break;
        after = page[page.length - 1]!.id;
      }
    }
    return removed;
  }

  /** Only locations of this store (mlflow-artifacts:/…), strictly inside its root; others are left alone, as mlflow gc skips URIs it cannot resolve. */
  private async removeLocation(uri: string): Promise<boolean> {
    if (!uri.startsWith(ARTIFACTS_SCHEME)) return false;
    const segments = uri.slice(ARTIFACTS_SCHEME.length).split('/').filter((s) => s !== '');
    if (segments.length === 0 || segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0'))) return false;
    const root = resolve(this.deps.artifactRoot);
    const dir = resolve(root, ...segments);
    if (!dir.startsWith(root + sep)) return false;
    const existed = await readdir(dir).then(() => true, () => false);
    await rm(dir, { recursive: true, force: true });
    // A run's artifacts live in <experiment>/<run>/artifacts: the run's directory goes too once it is empty.
    const parent = dirname(dir);
    if (parent.startsWith(root + sep)) await rmdir(parent).catch(() => undefined);
    return existed;
  }
}
