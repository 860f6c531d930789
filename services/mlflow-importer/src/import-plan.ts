// What to write for one source experiment, run and metric key, given what Runstream already holds. Pure: the
// importer reads both sides, these functions decide, the importer sends.
//
// Idempotency (README, "Re-running"): ids are kept (a re-run finds what an earlier run wrote), params are sent when
// missing, tags and run state when missing or different, and a metric key's points always travel in one fixed order
// (step, timestamp, value) in messages keyed by the run (one partition, stored in order, each message atomically).
// What Runstream holds for (run, key) is therefore a prefix of that sequence, whatever moment an earlier import
// stopped at: its length says exactly which points are still missing.
import { pointProblem, trackingEventProblem, type MetricPoint, type RunState, type TrackingEvent } from '@runstream/codec';
import type { ExperimentRow, RunRow } from '@runstream/clickhouse';
import type { NewEvent } from '@runstream/tracking';
import type { KeyValue, SourceExperiment, SourcePoint, SourceRunInfo } from './mlflow-rest-client.ts';

export interface Conflict {
  kind: 'experiment' | 'param' | 'tag' | 'metric' | 'run';
  experimentId?: string;
  runId?: string;
  key: string;
  message: string;
}

// ---- experiments ----------------------------------------------------------------------------------------------

export interface ExperimentPlan {
  source: SourceExperiment;
  /** The experiment id in Runstream: the source id unless that id is taken by another name. */
  targetId: string;
  action: 'create' | 'existing';
  /** Why the target id differs from the source id, when it does. */
  mapping?: string;
  artifactLocation: string;
  events: NewEvent[];
  tagsToSet: number;
  conflicts: Conflict[];
}

/**
 * Matching is by name first (experiment names are unique in both systems): a Runstream experiment with the source's
 * name is the target, whatever its id. Otherwise the source id is kept, unless Runstream uses it for a different name;
 * then a new id is taken. A re-run finds the experiment again by name either way.
 * An experiment that already exists is not modified, except that missing or different tags are set.
 */
export function planExperiment(
  src: SourceExperiment,
  existing: { byName: ExperimentRow | undefined; byId: ExperimentRow | undefined },
  newId: () => string,
): ExperimentPlan {
  const conflicts: Conflict[] = [];
  const target = existing.byName;
  let targetId: string;
  let mapping: string | undefined;
  if (target) {
    targetId = target.experimentId;
    if (targetId !== src.experimentId) mapping = `source experiment ${src.experimentId} '${src.name}' is experiment ${targetId} in Runstream (same name)`;
  } else if (existing.byId) {
    targetId = newId();
    mapping = `source experiment id ${src.experimentId} is used in Runstream by '${existing.byId.name}'; '${src.name}' is imported as experiment ${targetId}`;
  } else {
    targetId = src.experimentId;
  }
  const artifactLocation = target?.artifactLocation ?? `mlflow-artifacts:/${targetId}`;
  const events: NewEvent[] = [];
  if (!target) {
    events.push({
      eventType: 'EXPERIMENT_UPSERTED',
      experimentId: targetId,
      experiment: {
        name: src.name,
        artifactLocation,
        lifecycleStage: src.lifecycleStage,
        creationTimeMs: src.creationTimeMs,
        lastUpdateTimeMs: src.lastUpdateTimeMs,
      },
    });
  }
  const have = new Map((target?.tags ?? []).map((t) => [t.key, t.value]));
  let tagsToSet = 0;
  for (const t of src.tags) {
    if (have.get(t.key) === t.value) continue;
    const e: NewEvent = { eventType: 'EXPERIMENT_TAG_SET', experimentId: targetId, key: t.key, value: t.value };
    const problem = eventProblem(e);
    if (problem) {
      conflicts.push({ kind: 'tag', experimentId: src.experimentId, key: t.key, message: `experiment tag cannot be stored: ${problem}` });
      continue;
    }
    events.push(e);
    tagsToSet++;
  }
  return { source: src, targetId, action: target ? 'existing' : 'create', ...(mapping ? { mapping } : {}), artifactLocation, events, tagsToSet, conflicts };
}

// ---- runs: state, params, tags -----------------------------------------------------------------------------------

export interface ExistingRun {
  run: RunRow | undefined;
  params: KeyValue[];
  tags: KeyValue[];
}

export interface RunPlan {
  runId: string;
  experimentId: string;
  state: RunState;
  stateChange: 'create' | 'update' | 'unchanged';
  /** RUN_UPSERTED (when needed), then PARAM_LOGGED and RUN_TAG_SET events; all keyed RUN:<id>. */
  events: NewEvent[];
  paramsToLog: number;
  paramsPresent: number;
  tagsToSet: number;
  tagsPresent: number;
  conflicts: Conflict[];
}

export function desiredRunState(src: SourceRunInfo, target: { experimentId: string; artifactLocation: string }, existing: RunRow | undefined): RunState {
  // Like runs/create of the MLflow API: artifacts live under the experiment's location. An imported run keeps the
  // URI it already has in Runstream (artifacts are not copied; see the README).
  const artifactUri = existing && existing.experimentId === target.experimentId && existing.artifactUri ? existing.artifactUri : `${target.artifactLocation}/${src.runId}/artifacts`;
  return {
    runName: src.runName,
    userId: src.userId,
    status: src.status,
    startTimeMs: src.startTimeMs,
    endTimeMs: src.endTimeMs,
    artifactUri,
    lifecycleStage: src.lifecycleStage,
  };
}

function sameRun(a: RunRow, experimentId: string, s: RunState): boolean {
  return (
    a.experimentId === experimentId &&
    a.runName === s.runName &&
    a.userId === s.userId &&
    a.status === s.status &&
    a.startTimeMs === s.startTimeMs &&
    a.endTimeMs === s.endTimeMs &&
    a.artifactUri === s.artifactUri &&
    a.lifecycleStage === s.lifecycleStage
  );
}

/**
 * Run state is upserted when missing or different. Params are immutable: a missing one is logged, an equal one is
 * present, a different one is a conflict (reported, not written). Tags are set when missing or different; tags
 * that exist only in Runstream are left alone.
 */
export function planRun(
  src: { info: SourceRunInfo; params: KeyValue[]; tags: KeyValue[] },
  target: { experimentId: string; artifactLocation: string },
  existing: ExistingRun,
): RunPlan {
  const runId = src.info.runId;
  const conflicts: Conflict[] = [];
  const events: NewEvent[] = [];
  const state = desiredRunState(src.info, target, existing.run);
  const stateChange = !existing.run ? 'create' : sameRun(existing.run, target.experimentId, state) ? 'unchanged' : 'update';
  if (stateChange !== 'unchanged') events.push({ eventType: 'RUN_UPSERTED', runId, experimentId: target.experimentId, run: state });

  const haveParams = new Map(existing.params.map((p) => [p.key, p.value]));
  let paramsToLog = 0;
  let paramsPresent = 0;
  for (const p of src.params) {
    const old = haveParams.get(p.key);
    if (old === p.value) {
      paramsPresent++;
      continue;
    }
    if (old !== undefined) {
      conflicts.push({ kind: 'param', runId, key: p.key, message: `param '${p.key}' is '${clip(old)}' in Runstream but '${clip(p.value)}' in the source; params are immutable, kept Runstream's` });
      continue;
    }
    const e: NewEvent = { eventType: 'PARAM_LOGGED', runId, key: p.key, value: p.value };
    const problem = eventProblem(e);
    if (problem) {
      conflicts.push({ kind: 'param', runId, key: p.key, message: `param cannot be stored: ${problem}` });
      continue;
    }
    events.push(e);
    paramsToLog++;
  }

  const haveTags = new Map(existing.tags.map((t) => [t.key, t.value]));
  let tagsToSet = 0;
  let tagsPresent = 0;
  for (const t of src.tags) {
    if (haveTags.get(t.key) === t.value) {
      tagsPresent++;
      continue;
    }
    const e: NewEvent = { eventType: 'RUN_TAG_SET', runId, key: t.key, value: t.value };
    const problem = eventProblem(e);
    if (problem) {
      conflicts.push({ kind: 'tag', runId, key: t.key, message: `tag cannot be stored: ${problem}` });
      continue;
    }
    events.push(e);
    tagsToSet++;
  }
  return { runId, experimentId: target.experimentId, state, stateChange, events, paramsToLog, paramsPresent, tagsToSet, tagsPresent, conflicts };
}

// ---- metric histories ----------------------------------------------------------------------------------------

/** What Runstream holds for one (run, key): the count, and sums that check it is a prefix of the source's sequence. */
export interface StoredSeries {
  count: number;
  /** sum(step) and sum(timestamp_ms) as ClickHouse computes them (Int64, wrapping). */
  stepSum: bigint;
  timestampSum: bigint;
}

export interface InvalidPoints {
  count: number;
  /** The first few reasons, for the report. */
  examples: string[];
}

export interface KeyPlan {
  key: string;
  /** Points in the source history. */
  sourcePoints: number;
  /** Points that can be stored, in sending order. */
  valid: number;
  invalid: InvalidPoints;
  /** Points already in Runstream (a prefix of the valid sequence). */
  alreadyPresent: number;
  /** What to send now, in order. Empty when the key conflicts. */
  toSend: MetricPoint[];
  /** Points still missing that were held back by a limit (maxToSend). */
  deferred: number;
  conflict?: Conflict;
}

const MAX_EXAMPLES = 3;

/** Total order of doubles for the sending order: -Infinity … -0, +0 … +Infinity, NaN last. */
export function compareDoubles(a: number, b: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === 0 && b === 0) return Object.is(a, -0) === Object.is(b, -0) ? 0 : Object.is(a, -0) ? -1 : 1;
  return 0;
}

/** The fixed order a key's points are sent in: step, then timestamp, then value. */
export function comparePoints(a: MetricPoint, b: MetricPoint): number {
  return a.step - b.step || a.timestampMs - b.timestampMs || compareDoubles(a.value, b.value);
}

/** Sums as ClickHouse's sum(Int64) returns them: wrapped to a signed 64-bit integer. */
export function prefixSums(points: readonly MetricPoint[], count: number): { stepSum: bigint; timestampSum: bigint } {
  let s = 0n;
  let t = 0n;
  for (let i = 0; i < count; i++) {
    s += BigInt(points[i]!.step);
    t += BigInt(points[i]!.timestampMs);
  }
  return { stepSum: BigInt.asIntN(64, s), timestampSum: BigInt.asIntN(64, t) };
}

/** Splits a source history into storable points (sorted into sending order) and reported invalid ones. */
export function storablePoints(key: string, points: readonly SourcePoint[], nowMs: number): { valid: MetricPoint[]; invalid: InvalidPoints } {
  const valid: MetricPoint[] = [];
  const invalid: InvalidPoints = { count: 0, examples: [] };
  const validKeys = new Set<string>();
  for (const sp of points) {
    let problem: string | undefined;
    let p: MetricPoint | undefined;
    if (sp.key !== key) problem = `the history of ${JSON.stringify(key)} contains a point of ${JSON.stringify(sp.key)}`;
    else if (sp.value === null) problem = `value ${JSON.stringify(sp.rawValue)} of ${key} at step ${sp.step} is not a number`;
    else {
      p = { key, value: sp.value, step: sp.step, timestampMs: sp.timestampMs };
      problem = pointProblem(p, nowMs, validKeys);
    }
    if (problem || !p) {
      invalid.count++;
      if (invalid.examples.length < MAX_EXAMPLES) invalid.examples.push(problem ?? 'invalid point');
      continue;
    }
    valid.push(p);
  }
  valid.sort(comparePoints);
  return { valid, invalid };
}

/**
 * What to send for one (run, key). Runstream's points must be a prefix of the source's valid points in sending
 * order — checked by count and by the sums of steps and timestamps. Anything else (more points than the source, or
 * a different prefix: points logged to this run by someone else, a source history changed in the middle) is a
 * conflict, and nothing is sent for that key.
 */
export function planMetricKey(
  runId: string,
  key: string,
  points: readonly SourcePoint[],
  stored: StoredSeries | undefined,
  opts: { nowMs: number; maxToSend?: number },
): KeyPlan {
  const { valid, invalid } = storablePoints(key, points, opts.nowMs);
  const base = { key, sourcePoints: points.length, valid: valid.length, invalid };
  const have = stored?.count ?? 0;
  if (have > valid.length) {
    return {
      ...base,
      alreadyPresent: 0,
      toSend: [],
      deferred: 0,
      conflict: { kind: 'metric', runId, key, message: `Runstream holds ${have} points of '${key}' but the source has ${valid.length} storable ones; not importing this key` },
    };
  }
  if (have > 0) {
    const sums = prefixSums(valid, have);
    if (sums.stepSum !== stored!.stepSum || sums.timestampSum !== stored!.timestampSum) {
      return {
        ...base,
        alreadyPresent: 0,
        toSend: [],
        deferred: 0,
        conflict: {
          kind: 'metric',
          runId,
          key,
          message: `the ${have} points of '${key}' in Runstream are not the first ${have} of the source's history (points logged to this run elsewhere, or the source changed); not importing this key`,
        },
      };
    }
  }
  const missing = valid.length - have;
  const n = opts.maxToSend === undefined ? missing : Math.max(0, Math.min(missing, opts.maxToSend));
  return { ...base, alreadyPresent: have, toSend: valid.slice(have, have + n), deferred: missing - n };
}

/** Consecutive slices of at most `size` points (one Kafka message each). */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * Tracking events of one entity in sends that stay under Kafka's request limit (a run with thousands of long tags
 * would not fit in one). Order is kept; each send is waited for before the next.
 */
export function eventBatches(events: readonly NewEvent[], maxBytes = 800_000, maxCount = 500): NewEvent[][] {
  const out: NewEvent[][] = [];
  let current: NewEvent[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = 200 + 3 * ((e.key?.length ?? 0) + (e.value?.length ?? 0)) + JSON.stringify(e.run ?? e.experiment ?? '').length;
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

// ---- helpers ----------------------------------------------------------------------------------------------------

function eventProblem(e: NewEvent): string | undefined {
  // The worker's rule (the authority) on the event as the TrackingWriter completes it: absent fields are empty.
  const full = { eventId: 'check', timestampMs: 0, actor: '', experimentId: '', runId: '', key: '', value: '', ...e } as TrackingEvent;
  return trackingEventProblem(full);
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
