// What a valid metric point and batch are. Shared by the SDK (reject early, at the caller), the MLflow API and the
// ingest worker (the authority: anything that fails here goes to the dead-letter topic). The worker's rules are
// MLflow's, so that whatever the MLflow API accepts is stored: a key by MLflow's name rule, any double, any int64
// step (negative too), any non-negative int64 timestamp (ClickHouse keeps both in Int64 columns). The SDK adds
// plausibility checks of its own on top (see timestampPlausibilityProblem).
import type { MetricBatch, MetricPoint } from './metric-types.ts';

export const MAX_KEY_LENGTH = 250;
export const MAX_ENTITY_ID_LENGTH = 256;
export const MAX_POINTS_PER_BATCH = 100_000;
/** 2000-01-01T00:00:00Z: for the SDK, an earlier wall-clock time is a unit mistake (seconds sent as ms), not history. */
export const MIN_PLAUSIBLE_TIMESTAMP_MS = 946_684_800_000;
/** Clocks drift; for the SDK, a point a day ahead of its clock is implausible. */
export const MAX_CLOCK_SKEW_MS = 24 * 3600 * 1000;

// MLflow's name rule on POSIX, `^[/\w.\- :]*$` (Python's \w is Unicode-aware: letters and numbers of any script).
export const KEY_PATTERN = /^[\p{L}\p{N}_/.\- :]+$/u;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export const KEY_CHARACTERS_MESSAGE = 'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';

/**
 * MLflow's "names may be treated as files" rule: the name must be its own posixpath.normpath (no empty, '.' or
 * '..' segments that would collapse, no trailing '/'), not start with '/' or '..', and not be '.'.
 */
export function keyPathProblem(key: string): boolean {
  const segments = key.split('/');
  return key.startsWith('/') || key.startsWith('..') || segments.some((s) => s === '' || s === '.' || s === '..');
}

export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'metric key is empty';
  if (key.length > MAX_KEY_LENGTH) return `metric key is ${key.length} characters, the limit is ${MAX_KEY_LENGTH}`;
  if (!KEY_PATTERN.test(key)) return `metric key ${JSON.stringify(key.slice(0, 80))} may only contain letters, digits, '_', '-', '.', ' ', ':' and '/'`;
  if (keyPathProblem(key)) return `metric key ${JSON.stringify(key.slice(0, 80))} is not a normalized path`;
  return undefined;
}

export function entityIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'entity id is empty';
  if (id.length > MAX_ENTITY_ID_LENGTH) return `entity id is ${id.length} characters, the limit is ${MAX_ENTITY_ID_LENGTH}`;
  if (CONTROL_CHARS.test(id)) return 'entity id contains control characters';
  return undefined;
}

/** The worker's (and MLflow's) rules for one point. `_nowMs` is kept for callers; no rule depends on the clock. */
export function pointProblem(p: MetricPoint, _nowMs: number, validKeys?: Set<string>): string | undefined {
  if (!validKeys?.has(p.key)) {
    const k = keyProblem(p.key);
    if (k) return k;
    validKeys?.add(p.key);
  }
  if (typeof p.value !== 'number') return `value of ${p.key} is not a number`;
  if (!Number.isSafeInteger(p.step)) return `step ${p.step} of ${p.key} must be an integer between -(2^53-1) and 2^53-1`;
  if (!Number.isSafeInteger(p.timestampMs) || p.timestampMs < 0) return `timestamp ${p.timestampMs} of ${p.key} must be a non-negative integer number of milliseconds`;
  return undefined;
}

/** The SDK's extra guard: wall-clock times of a training process, in milliseconds, from a clock that is roughly right. */
export function timestampPlausibilityProblem(p: MetricPoint, nowMs: number): string | undefined {
  if (p.timestampMs < MIN_PLAUSIBLE_TIMESTAMP_MS) return `timestamp ${p.timestampMs} of ${p.key} is before 2000-01-01 (seconds instead of milliseconds?)`;
  if (p.timestampMs > nowMs + MAX_CLOCK_SKEW_MS) return `timestamp ${p.timestampMs} of ${p.key} is more than a day in the future`;
  return undefined;
}

export interface BatchProblem {
  reason: 'invalid_entity' | 'empty_batch' | 'too_many_points' | 'invalid_point';
  detail: string;
}

/** Checks a whole batch; a batch is accepted or rejected as a unit so that a re-driven dead letter never duplicates. */
export function batchProblem(batch: MetricBatch, nowMs: number): BatchProblem | undefined {
  const e = entityIdProblem(batch.entityId);
  if (e) return { reason: 'invalid_entity', detail: e };
  if (batch.points.length === 0) return { reason: 'empty_batch', detail: 'batch has no points' };
  if (batch.points.length > MAX_POINTS_PER_BATCH) {
    return { reason: 'too_many_points', detail: `batch has ${batch.points.length} points, the limit is ${MAX_POINTS_PER_BATCH}` };
  }
  const problems: string[] = [];
  // A batch repeats a handful of keys thousands of times: check each distinct key once.
  const validKeys = new Set<string>();
  for (let i = 0; i < batch.points.length && problems.length < 5; i++) {
    const p = pointProblem(batch.points[i]!, nowMs, validKeys);
    if (p) problems.push(`point ${i}: ${p}`);
  }
  if (problems.length > 0) return { reason: 'invalid_point', detail: problems.join('; ') };
  return undefined;
}
