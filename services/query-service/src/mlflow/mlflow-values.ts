// Parsing MLflow's JSON request values. MLflow's clients serialise through protobuf's JSON mapping: int64 fields
// may arrive as strings, and NaN / ±Infinity as the strings "NaN", "Infinity", "-Infinity".
import { keyProblem, MIN_TIMESTAMP_MS } from '@runstream/codec';
import { invalid } from './mlflow-errors.ts';

export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 5000,
  experimentNameLength: 500,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
} as const;

export function int64(value: unknown, field: string, fallback?: number): number {
  if ((value === undefined || value === null || value === '') && fallback !== undefined) return fallback;
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: must be an integer`);
  return n;
}

export function double(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity' || value === 'inf') return Infinity;
  if (value === '-Infinity' || value === '-inf') return -Infinity;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw invalid(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: must be a number`);
}

export function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`Missing value for required parameter '${field}'.`);
  return value;
}

export function metricKey(key: unknown): string {
  const k = requiredString(key, 'key');
  const problem = keyProblem(k);
  if (problem) throw invalid(`Invalid metric name: ${problem}`);
  return k;
}

/** Param and tag keys follow MLflow's name rule too; values are bounded. */
export function entryKey(key: unknown, what: 'param' | 'tag'): string {
  const k = requiredString(key, 'key');
  const problem = keyProblem(k);
  if (problem) throw invalid(`Invalid ${what} name: ${problem}`);
  return k;
}

export function entryValue(value: unknown, what: 'param' | 'tag', key: string): string {
  const v = value === undefined || value === null ? '' : typeof value === 'string' ? value : String(value);
  const limit = what === 'param' ? LIMITS.paramValueLength : LIMITS.tagValueLength;
  if (v.length > limit) throw invalid(`${what === 'param' ? 'Param' : 'Tag'} value '${v.slice(0, 50)}…' had length ${v.length}, which exceeded length limit of ${limit} (key ${key})`);
  return v;
}

export function timestampMs(value: unknown, field = 'timestamp'): number {
  const t = int64(value, field, Date.now());
  if (t < MIN_TIMESTAMP_MS) throw invalid(`Invalid value ${t} for parameter '${field}': milliseconds since the epoch after 2000-01-01 expected`);
  return t;
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
