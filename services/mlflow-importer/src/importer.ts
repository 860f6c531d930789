// The import: read MLflow, read Runstream, plan, send through the TrackingWriter (Kafka → ingest worker →
// ClickHouse), one run at a time per lane. Every send waits until the worker stored it, so when a run is counted as
// done, it is in Runstream.
import { randomBytes } from 'node:crypto';
import { experimentById, experimentByName, runParams, runsByIds, runTags, type ClickHouse } from '@runstream/clickhouse';
import type { Logger } from '@runstream/config';
import type { MetricPoint } from '@runstream/codec';
import type { TrackingWriter } from '@runstream/tracking';
import { eventBatches, planExperiment, planMetricKey, planRun, type Conflict, type ExperimentPlan } from './import-plan.ts';
import type { MlflowRestClient, SourceExperiment, SourceRun } from './mlflow-rest-client.ts';
import type { Progress } from './progress.ts';
import { storedSeries } from './runstream-state.ts';

export const ACTOR = 'mlflow-importer';
/** Points per Kafka message. */
export const MAX_POINTS_PER_MESSAGE = 10_000;
/** Bytes per Kafka message (brokers refuse record batches over max.message.bytes, 1 MiB by default). */
export const MAX_MESSAGE_BYTES = 900_000;

export class UnknownExperimentError extends Error {
  constructor(missing: string[], available: string[]) {
    super(`no experiment named ${missing.map((m) => JSON.stringify(m)).join(', ')} on the source; it has ${available.map((a) => JSON.stringify(a)).join(', ') || 'none'}`);
    this.name = 'UnknownExperimentError';
  }
}

export interface ImportOptions {
  experiments: string[];
  dryRun: boolean;
  concurrency: number;
  maxPointsPerRun: number | undefined;
  /** Recorded with every metric point (the `producer` column). */
  producerName: string;
  maxPointsPerMessage?: number;
}

export interface ImportDeps {
  source: MlflowRestClient;
  ch: ClickHouse;
  /** Null in a dry run. */
  writer: TrackingWriter | null;
  log: Logger;
  progress: Progress;
  now?: () => number;
}

export interface InvalidPointsReport {
  runId: string;
  key: string;
  count: number;
  examples: string[];
}

export interface ImportSummary {
  source: string;
  dryRun: boolean;
  interrupted: boolean;
  experiments: { total: number; created: number; existing: number; list: { sourceId: string; name: string; targetId: string; action: 'create' | 'existing'; mapping?: string }[] };
  runs: { total: number; created: number; updated: number; unchanged: number };
  params: { logged: number; present: number };
  tags: { set: number; present: number };
  metrics: { keys: number; sourcePoints: number; sent: number; alreadyPresent: number; invalid: number; deferred: number; messages: number };
  invalidPoints: InvalidPointsReport[];
  conflicts: Conflict[];
  elapsedMs: number;
  pointsPerSecond: number;
  /** Where the time went, summed over concurrent runs: reading MLflow histories, and sending until stored. */
  time: { readingHistoriesMs: number; writingMs: number };
}

export class MlflowImporter {
  private readonly deps: ImportDeps;
  private readonly opts: ImportOptions;
  private readonly now: () => number;
  private stopRequested = false;
  readonly summary: ImportSummary;

  constructor(deps: ImportDeps, opts: ImportOptions) {
    this.deps = deps;
    this.opts = opts;
    this.now = deps.now ?? Date.now;
    this.summary = {
      source: deps.source.baseUrl,
      dryRun: opts.dryRun,
      interrupted: false,
      experiments: { total: 0, created: 0, existing: 0, list: [] },
      runs: { total: 0, created: 0, updated: 0, unchanged: 0 },
      params: { logged: 0, present: 0 },
      tags: { set: 0, present: 0 },
      metrics: { keys: 0, sourcePoints: 0, sent: 0, alreadyPresent: 0, invalid: 0, deferred: 0, messages: 0 },
      invalidPoints: [],
      conflicts: [],
      elapsedMs: 0,
      pointsPerSecond: 0,
      time: { readingHistoriesMs: 0, writingMs: 0 },
    };
  }

  /** Stops after the messages in flight (SIGINT); what was sent is stored and a re-run continues from there. */
  requestStop(): void {
    this.stopRequested = true;
  }

  async run(): Promise<ImportSummary> {
    const started = this.now();
    const { source, progress } = this.deps;
    try {
      const experiments = await this.selectExperiments(await source.searchExperiments());
      const runsByExperiment = new Map<string, SourceRun[]>();
      for (const e of experiments) runsByExperiment.set(e.experimentId, await source.searchRuns(e.experimentId));
      const jobs: { run: SourceRun; experiment: ExperimentPlan }[] = [];
      progress.start([...runsByExperiment.values()].reduce((n, r) => n + r.length, 0), this.opts.dryRun ? 'dry run' : 'importing');

      for (const e of experiments) {
        if (this.stopRequested) break;
        const plan = await this.importExperiment(e);
        for (const run of runsByExperiment.get(e.experimentId) ?? []) jobs.push({ run, experiment: plan });
      }
      this.summary.runs.total = jobs.length;

      let next = 0;
      const lane = async () => {
        while (!this.stopRequested && next < jobs.length) {
          const job = jobs[next++]!;
          await this.importRun(job.run, job.experiment);
          progress.runDone();
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(this.opts.concurrency, jobs.length)) }, lane));
      this.summary.interrupted = this.stopRequested;
    } finally {
      progress.stop();
      this.summary.elapsedMs = this.now() - started;
      this.summary.pointsPerSecond = this.summary.elapsedMs > 0 ? Math.round((this.summary.metrics.sent * 1000) / this.summary.elapsedMs) : 0;
    }
    return this.summary;
  }

  private async selectExperiments(all: SourceExperiment[]): Promise<SourceExperiment[]> {
    if (this.opts.experiments.length === 0) return all;
    const wanted = new Set(this.opts.experiments);
    const missing = [...wanted].filter((n) => !all.some((e) => e.name === n));
    if (missing.length > 0) throw new UnknownExperimentError(missing, all.map((e) => e.name));
    return all.filter((e) => wanted.has(e.name));
  }

  private async importExperiment(src: SourceExperiment): Promise<ExperimentPlan> {
    const { ch, writer, progress } = this.deps;
    const [byName, byId] = await Promise.all([experimentByName(ch, src.name), experimentById(ch, src.experimentId)]);
    const fresh = !byName && byId ? await this.freshExperimentId() : undefined;
    const plan = planExperiment(src, { byName, byId }, () => fresh!);
    if (plan.mapping) progress.note(`note: ${plan.mapping}`);
    this.summary.conflicts.push(...plan.conflicts);
    for (const c of plan.conflicts) progress.note(`conflict: experiment ${src.experimentId}: ${c.message}`);
    if (!this.opts.dryRun) for (const batch of eventBatches(plan.events)) await writer!.emit(`EXP:${plan.targetId}`, ACTOR, batch);
    this.summary.experiments.total++;
    if (plan.action === 'create') this.summary.experiments.created++;
    else this.summary.experiments.existing++;
    this.summary.experiments.list.push({ sourceId: src.experimentId, name: src.name, targetId: plan.targetId, action: plan.action, ...(plan.mapping ? { mapping: plan.mapping } : {}) });
    return plan;
  }

  private async freshExperimentId(): Promise<string> {
    for (;;) {
      // Like the MLflow API's ids: decimal, time plus randomness.
      const id = `${this.now()}${randomBytes(2).readUInt16BE(0).toString().padStart(5, '0')}`;
      if (!(await experimentById(this.deps.ch, id))) return id;
    }
  }

  private async importRun(src: SourceRun, experiment: ExperimentPlan): Promise<void> {
    const { ch, writer, source, progress } = this.deps;
    const runId = src.info.runId;
    const [[existingRun], params, tags, stored] = await Promise.all([runsByIds(ch, [runId]), runParams(ch, [runId]), runTags(ch, [runId]), storedSeries(ch, runId)]);
    const plan = planRun(src, { experimentId: experiment.targetId, artifactLocation: experiment.artifactLocation }, {
      run: existingRun,
      params: params.get(runId) ?? [],
      tags: tags.get(runId) ?? [],
    });
    const s = this.summary;
    s.params.logged += plan.paramsToLog;
    s.params.present += plan.paramsPresent;
    s.tags.set += plan.tagsToSet;
    s.tags.present += plan.tagsPresent;
    this.conflicts(plan.conflicts);
    if (!this.opts.dryRun) for (const batch of eventBatches(plan.events)) await this.timed('writingMs', () => writer!.emit(`RUN:${runId}`, ACTOR, batch));

    // Metric points: key by key in sending order, packed into messages of ≤ 10,000 points (and ≤ 900 KB).
    let budget = this.opts.maxPointsPerRun ?? Number.MAX_SAFE_INTEGER;
    let sentForRun = 0;
    const maxPoints = Math.min(this.opts.maxPointsPerMessage ?? MAX_POINTS_PER_MESSAGE, MAX_POINTS_PER_MESSAGE);
    let buffer: MetricPoint[] = [];
    let bufferBytes = 0;
    const flush = async () => {
      if (buffer.length === 0) return;
      const points = buffer;
      buffer = [];
      bufferBytes = 0;
      if (!this.opts.dryRun) await this.timed('writingMs', () => writer!.emitMetrics(runId, points, this.opts.producerName));
      s.metrics.messages++;
      s.metrics.sent += points.length;
      sentForRun += points.length;
      progress.sent(points.length);
    };
    for (const key of src.metricKeys) {
      if (this.stopRequested) break;
      const history = await this.timed('readingHistoriesMs', () => source.metricHistory(runId, key));
      const kp = planMetricKey(runId, key, history, stored.get(key), { nowMs: this.now(), maxToSend: budget });
      s.metrics.keys++;
      s.metrics.sourcePoints += kp.sourcePoints;
      s.metrics.alreadyPresent += kp.alreadyPresent;
      s.metrics.invalid += kp.invalid.count;
      s.metrics.deferred += kp.deferred;
      progress.skipped(kp.alreadyPresent);
      if (kp.invalid.count > 0) {
        s.invalidPoints.push({ runId, key, count: kp.invalid.count, examples: kp.invalid.examples });
        progress.note(`unstorable: run ${runId} '${key}': ${kp.invalid.count} point(s) not imported, e.g. ${kp.invalid.examples[0]}`);
      }
      if (kp.conflict) this.conflicts([kp.conflict]);
      budget -= kp.toSend.length;
      for (const p of kp.toSend) {
        const bytes = Buffer.byteLength(p.key) + 32;
        if (buffer.length >= maxPoints || (buffer.length > 0 && bufferBytes + bytes > MAX_MESSAGE_BYTES)) {
          if (this.stopRequested) break;
          await flush();
        }
        buffer.push(p);
        bufferBytes += bytes;
      }
    }
    if (!this.stopRequested) await flush();

    if (plan.stateChange === 'create') s.runs.created++;
    else if (plan.events.length > 0 || sentForRun > 0) s.runs.updated++;
    else s.runs.unchanged++;
  }

  private async timed<T>(what: keyof ImportSummary['time'], fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.summary.time[what] += Math.round(performance.now() - t);
    }
  }

  private conflicts(list: Conflict[]): void {
    for (const c of list) {
      this.summary.conflicts.push(c);
      this.deps.progress.note(`conflict: run ${c.runId ?? '-'} ${c.kind} '${c.key}': ${c.message}`);
    }
  }
}
