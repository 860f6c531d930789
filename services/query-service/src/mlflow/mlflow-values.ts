// Parsing and validating MLflow's JSON request values as MLflow 3's server does (mlflow/utils/validation.py and the
// server's handlers), with its error messages. MLflow's clients serialise through protobuf's JSON mapping: int64
// fields may arrive as strings, and NaN / ±Infinity as the strings "NaN", "Infinity", "-Infinity".
import { codePointLength, KEY_CHARACTERS_MESSAGE, KEY_PATTERN, keyPathProblem, type MetricPoint } from '@runstream/codec';
import { invalid } from './mlflow-errors.ts';

export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentTagValueLength: 20_000,
  experimentNameLength: 500,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  /**
   * Request bodies of the MLflow routes. MLflow's server has no effective cap (its 1 MB log-batch check measures
   * the parsed request's number of keys), so this is only a guard for the service's memory: far above what any
   * request within MLflow's item limits needs (log-inputs carries schemas of up to 1 MiB).
   */
  requestBytes: 32 * 1024 * 1024,
} as const;

/** MLflow's message for a value it refuses: the value as JSON, the parameter's path, why. */
export function invalidValue(path: string, value: unknown, why?: string): string {
  const json = value === undefined ? 'null' : JSON.stringify(value);
  return why ? `Invalid value ${json} for parameter '${path}' supplied: ${why}` : `Invalid value ${json} for parameter '${path}' supplied.`;
}

export const missingValue = (path: string) => `Missing value for required parameter '${path}'.`;
const tooLong = (what: string, limit: number) => `'${what}' exceeds the maximum length of ${limit} characters`;
const absent = (v: unknown) => v === undefined || v === null;

export function int64(value: unknown, field: string, fallback?: number): number {
  if ((value === undefined || value === null || value === '') && fallback !== undefined) return fallback;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: must be an integer`);
  return n;
}

// What Python's float() reads (protobuf's JSON parser hands strings to it), except the exact spelling 'nan', which
// protobuf refuses ('NaN' is the JSON mapping's).
const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const SPECIAL_TEXT = /^([+-]?)(nan|inf|infinity)$/i;

/** A double as MLflow reads it: a JSON number, a numeric string, NaN / Infinity spelled as strings, a boolean (0/1). */
export function double(value: unknown, field: string): number {
  if (absent(value)) throw invalid(missingValue(field));
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value !== 'nan') {
    const text = value.trim();
    if (FLOAT_TEXT.test(text)) return Number(text);
    const special = SPECIAL_TEXT.exec(text);
    if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  }
  throw invalid(invalidValue(field, value, 'Please specify value as a valid double (64-bit floating point)'));
}

export function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(missingValue(field));
  return value;
}

/** MLflow's name rule for metric, param and tag keys: its characters, and a path that does not resolve elsewhere. */
function nameProblem(name: string, path: string): string | undefined {
  if (name !== '' && !KEY_PATTERN.test(name)) return invalidValue(path, name, KEY_CHARACTERS_MESSAGE);
  if (name === '' || keyPathProblem(name)) {
    return invalidValue(path, name, 'Names may be treated as files in certain cases, and must not resolve to other names when treated as such.');
  }
  return undefined;
}

/** A metric's key; `path` is the JSON path MLflow names in its messages (`name`, `metrics[3].name`). */
export function metricKey(key: unknown, path = 'name'): string {
  if (absent(key) || key === '') throw invalid(missingValue(path.replace(/name$/, 'key')));
  const k = String(key);
  const problem = nameProblem(k, path);
  if (problem) throw invalid(problem);
  if (k.length > LIMITS.keyLength) throw invalid(tooLong('Metric name', LIMITS.keyLength));
  return k;
}

/** One metric of log-metric or log-batch. `prefix` is '' or e.g. 'metrics[3].'. A missing timestamp means now. */
export function metricPoint(m: Record<string, unknown>, prefix = ''): MetricPoint {
  const key = metricKey(m.key, `${prefix}name`);
  const value = double(m.value, `${prefix}value`);
  const timestampMs = int64(m.timestamp, `${prefix}timestamp`, Date.now());
  if (timestampMs < 0) {
    throw invalid(invalidValue(`${prefix}timestamp`, timestampMs, `metric '${key}' (value=${value}). Timestamp must be a nonnegative long (64-bit integer) `));
  }
  // Steps may be negative (MLflow only asks for a long).
  return { key, value, timestampMs, step: int64(m.step, `${prefix}step`, 0) };
}

/**
 * The metrics of one log-batch request: each validated, identical points (key, value, timestamp, step) kept once,
 * as MLflow's store keeps them.
 */
export function batchMetrics(metrics: Record<string, unknown>[]): MetricPoint[] {
  const seen = new Set<string>();
  const out: MetricPoint[] = [];
  metrics.forEach((m, i) => {
    const p = metricPoint(m, `metrics[${i}].`);
    const id = `${p.key}\u0000${p.step}\u0000${p.timestampMs}\u0000${Object.is(p.value, -0) ? '-0' : String(p.value)}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push(p);
  });
  return out;
}

export type EntryKind = 'param' | 'tag' | 'experiment-tag';

/** Param and tag keys follow MLflow's name rule; `path` is the JSON path of the key. */
export function entryKey(key: unknown, what: EntryKind, path = 'key'): string {
  if (absent(key) || key === '') throw invalid(missingValue(path));
  const k = String(key);
  const problem = nameProblem(k, path);
  if (problem) throw invalid(problem);
  if (k.length > LIMITS.keyLength) throw invalid(tooLong(what === 'param' ? 'Param key' : path, LIMITS.keyLength));
  return k;
}

/** The first `limit` code points (Python's str slicing). */
function truncated(v: string, limit: number): string {
  return v.length <= limit || codePointLength(v) <= limit ? v : [...v].slice(0, limit).join('');
}

/**
 * A param or tag value. Like MLflow's server (MLFLOW_TRUNCATE_LONG_VALUES, on by default), a param value over 6,000
 * characters and a run tag value over 8,000 are stored truncated, not refused; an experiment tag value over 20,000
 * is refused. Characters are code points, as Python counts them.
 */
export function entryValue(value: unknown, what: EntryKind, _key: string): string {
  const v = absent(value) ? '' : typeof value === 'string' ? value : String(value);
  if (what === 'param') return truncated(v, LIMITS.paramValueLength);
  if (what === 'tag') return truncated(v, LIMITS.tagValueLength);
  if (v.length > LIMITS.experimentTagValueLength && codePointLength(v) > LIMITS.experimentTagValueLength) {
    throw invalid(tooLong('value', LIMITS.experimentTagValueLength));
  }
  return v;
}

/** MLflow refuses a log-batch that names a param twice, even with the same value. */
export function duplicateParamsProblem(keys: string[]): string | undefined {
  const seen = new Set<string>();
  const dupes: string[] = [];
  for (const k of keys) {
    if (seen.has(k)) dupes.push(k);
    seen.add(k);
  }
  if (dupes.length === 0) return undefined;
  const list = `[${dupes.map((k) => (k.includes("'") ? JSON.stringify(k) : `'${k}'`)).join(', ')}]`;
  return `Duplicate parameter keys have been submitted: ${list}. Please ensure the request contains only one param value per param key.`;
}

/** A run's start or end time: any integer, as MLflow (a missing start time means now). */
export function timestampMs(value: unknown, field = 'timestamp'): number {
  return int64(value, field, Date.now());
}

/** MLflow's message when a batch holds more than `limit` of something. */
export function batchLimitMessage(what: string, limit: number, got: number): string {
  return `A batch logging request can contain at most ${limit} ${what}. Got ${got} ${what}. Please split up ${what} across multiple requests and try again.`;
}

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;

export function runStatus(value: unknown): string {
  if (typeof value !== 'string' || !(RUN_STATUSES as readonly string[]).includes(value)) {
    throw invalid(`Invalid value ${JSON.stringify(value)} for parameter 'status': one of ${RUN_STATUSES.join(', ')}`);
  }
  return value;
}

export function jsonDouble(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** A stored JSON array of {key, value} (tags or params of a registry entity); anything else reads as empty. */
export function keyValuesFromJson(json: string): { key: string; value: string }[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? (v as { key: string; value: string }[]) : [];
  } catch {
    return [];
  }
}
